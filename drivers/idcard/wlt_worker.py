"""The photo decoder's worker process: loads the vendor library and decodes WLT from stdin.

Protocol: 1024 bytes in; out a big-endian (status, length) header and the BMP. A crash here
only ends this process.
"""

from __future__ import annotations

import ctypes
import struct
import sys

from drivers.idcard.wlt import BMP_SIZE, WLT_SIZE


def main() -> int:
    library, symbol = sys.argv[1], sys.argv[2]
    try:
        function = getattr(ctypes.CDLL(library), symbol)
    except (OSError, AttributeError):
        sys.stdout.buffer.write(struct.pack(">ii", -1, 0))
        sys.stdout.buffer.flush()
        return 1
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    function.restype = ctypes.c_int
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        wlt = stdin.read(WLT_SIZE)
        if len(wlt) < WLT_SIZE:
            return 0
        out = ctypes.create_string_buffer(BMP_SIZE + 1024)
        status = int(function(wlt, out, 0))
        body = out.raw[:BMP_SIZE] if status == 1 else b""
        stdout.write(struct.pack(">ii", status, len(body)) + body)
        stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
