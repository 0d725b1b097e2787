"""Fixed inputs for the receipt layouts, so their bytes can be compared to golden files."""

from __future__ import annotations

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
)
PROGRESS = "https://sandbox.invalid/case/YW20261122000042"


def layouts(columns: int) -> dict[str, list[Op]]:
    return {
        "queue_ticket": queue_ticket(TICKET, columns),
        "acknowledgment": acknowledgment(CASE, CASE.type, "张**", PROGRESS, columns),
        "payment_receipt": payment_receipt(RECEIPT, columns),
    }


QR_PAYLOADS = {
    "queue_ticket": None,
    "acknowledgment": PROGRESS,
    "payment_receipt": RECEIPT.verify_url,
}
EXPECTED_TEXT = {
    "queue_ticket": [
        "A012",
        "查询证明 Records query",
        "前面还有 3 人 / 3 ahead",
        "2026-11-22 10:15",
    ],
    "acknowledgment": [
        "受理回执",
        "业务编号 Case number: YW20261122000042",
        "业务类型 Business: 地址变更登记 Address change",
        "申请人 Applicant: 张**",
    ],
    "payment_receipt": [
        "缴费凭证",
        "金额 Amount: ¥80.00",
        "项目 Item: 不动产登记费",
        "校验码 Check code: A1B2C3",
    ],
}
