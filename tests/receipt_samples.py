"""The sample documents' expected output, for the golden-byte tests."""

from __future__ import annotations

from drivers.receipt.ops import Op
from kiosk.documents.samples import CASE, PROGRESS, RECEIPT, TICKET, sample_layouts

__all__ = ["CASE", "PROGRESS", "RECEIPT", "TICKET", "layouts"]


def layouts(columns: int) -> dict[str, list[Op]]:
    return sample_layouts(columns)


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
        "业务编号 For: YW20261122000042",
        "交款人 Payer: 张**",
    ],
}
