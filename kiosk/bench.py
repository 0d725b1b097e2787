"""``kiosk bench``: the speed targets, measured; ratios against a baseline from the same run.

idcard: time from a card placed on the reader to its ``IdentityDocument``, through the
emulator throttled to the baud rate (both directions take their wire time), against the wire
limit of the bytes exchanged in that time (ten bits a byte). Target: ≤ 1.2× at 115200 baud.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from drivers.idcard.sam_emulator import DEMO_CARDS, DemoCard, SamEmulator
from drivers.idcard.sam_serial import SamSerialReader, SamSerialSettings


def bench_idcard(baud: int = 115200, runs: int = 10) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="dengji-bench-"))
    emulator = SamEmulator(folder / "idcard.tty", baud=baud)
    emulator.start()
    reader = SamSerialReader(SamSerialSettings(port=str(emulator.link), baud=baud))
    reader.open()
    samples: list[tuple[float, float]] = []
    try:
        for i in range(runs):
            emulator.remove_card()
            while reader.card_present():
                pass
            placed = threading.Event()
            start: list[float] = []
            card = DEMO_CARDS[i % len(DEMO_CARDS)]
            threading.Thread(
                target=_place_later, args=(emulator, card, start, placed), daemon=True
            ).start()
            # the reader polls back to back, as a kiosk waiting for a card does
            while not (placed.is_set() and reader.card_present()):
                pass
            reader.read_identity()
            elapsed = time.perf_counter() - start[0]
            wire = emulator.bytes_exchanged * 10 / baud
            samples.append((elapsed, wire))
    finally:
        reader.close()
        emulator.stop()
    ratios = [elapsed / wire for elapsed, wire in samples]
    return {
        "benchmark": "idcard",
        "baud": baud,
        "runs": runs,
        "median_ms": round(statistics.median(s[0] for s in samples) * 1000, 1),
        "wire_limit_ms": round(statistics.median(s[1] for s in samples) * 1000, 1),
        "median_ratio": round(statistics.median(ratios), 3),
        "worst_ratio": round(max(ratios), 3),
        "target_ratio": 1.2,
        "ok": statistics.median(ratios) <= 1.2,
    }


def _place_later(
    emulator: SamEmulator, card: DemoCard, start: list[float], placed: threading.Event
) -> None:
    time.sleep(0.05)
    emulator.bytes_exchanged = 0
    start.append(time.perf_counter())
    emulator.place_card(card)
    placed.set()


BENCHMARKS = {"idcard": bench_idcard}
