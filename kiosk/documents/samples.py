"""Fixed sample documents: what the benchmarks lay out, and what the golden-byte tests compare.

Synthetic values only (no real person), stable so that the bytes they give are stable.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.receipt.ops import Op
from kiosk.backend import models as m
from kiosk.documents.receipts import acknowledgment, payment_receipt, queue_ticket

TICKET = m.Ticket("A012", "query_certificate", 3, "2026-11-22T02:15:00Z")
CASE = m.Case(
    "YW20261122000042",
    m.ApplicationType.ADDRESS_CHANGE,
    m.CaseStatus.IN_REVIEW,
    "320102001001GB00001F00010001",
    0,
    False,
    "2026-11-22T02:20:00Z",
)
RECEIPT = m.EReceipt(
    "FS2026112212345678",
    "P0123456789ABCDEF",
    8000,
    "某市不动产登记中心（非税收入）",
    "不动产登记费",
    "2026-11-22T02:30:00Z",
    "A1B2C3",
    "https://sandbox.invalid/receipt/FS2026112212345678?c=A1B2C3",
    "YW20261122000042",
    "张**",
)
PROGRESS = "https://sandbox.invalid/case/YW20261122000042"


SAMPLE_LAYOUTS: dict[str, Callable[[int], list[Op]]] = {
    "queue_ticket": lambda columns: queue_ticket(TICKET, columns),
    "acknowledgment": lambda columns: acknowledgment(CASE, CASE.type, "张**", PROGRESS, columns),
    "payment_receipt": lambda columns: payment_receipt(RECEIPT, columns),
}


def sample_layouts(columns: int) -> dict[str, list[Op]]:
    return {name: layout(columns) for name, layout in SAMPLE_LAYOUTS.items()}
