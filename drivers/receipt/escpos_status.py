"""ESC/POS real-time status: the DLE EOT requests and how their answer bits read.

Kept apart from the driver so the emulator and the driver share one definition of the bits.
"""

from __future__ import annotations

DLE_EOT = b"\x10\x04"
REQUEST_PRINTER = 1
REQUEST_OFFLINE_CAUSE = 2
REQUEST_ERROR_CAUSE = 3
REQUEST_PAPER = 4

FIXED_BITS = 0x12  # bits 1 and 4 are always set in a DLE EOT answer
MASK_FIXED = 0x93  # bits 0, 1, 4 and 7 are fixed (0,1,1,0)

PRINTER_OFFLINE = 0x08
OFFLINE_COVER_OPEN = 0x04
OFFLINE_PAPER_END_STOP = 0x20
OFFLINE_ERROR = 0x40
ERROR_CUTTER = 0x08
ERROR_UNRECOVERABLE = 0x20
ERROR_AUTO_RECOVERABLE = 0x40
PAPER_NEAR_END = 0x0C
PAPER_END = 0x60


def is_status_byte(value: int) -> bool:
    """A genuine DLE EOT answer has the fixed bits: anything else is not a status."""
    return value & MASK_FIXED == FIXED_BITS
