"""The registry's service guides (办事指南): for each business, what to bring, the fee and the
time limit, as the centre publishes them. The kiosk shows and prints what the registry says;
the fees are the registry's own (``handlers.FEES``), so a guide never disagrees with a bill."""

from __future__ import annotations

from kiosk.backend import models as m

ID_CARD = "申请人身份证（本人到场，人脸核验）"
BUYERS = "合同上全部买受人的身份证，每位本人到场，人脸核验"

# business → (title zh, title en, documents, time limit, at the kiosk, fee note)
GUIDES: dict[str, tuple[str, str, tuple[str, ...], str, bool, str]] = {
    "query_certificate": (
        "查询本人不动产登记信息",
        "My property records",
        (ID_CARD,),
        "即时办结",
        True,
        "免费",
    ),
    "property_proof": (
        "有无房产证明",
        "Property ownership proof",
        (ID_CARD,),
        "即时办结",
        True,
        "免费",
    ),
    "authorized_query": (
        "授权查询",
        "Query with authorization",
        ("查询人身份证（本人到场）", "权利人出具的查询授权码（可在本机「出具查询授权」出具）"),
        "即时办结",
        True,
        "免费",
    ),
    m.ApplicationType.MORTGAGE_CANCELLATION.value: (
        "抵押权注销登记",
        "Mortgage cancellation",
        (ID_CARD, "抵押权人出具的抵押权注销（解押）证明"),
        "即时办结",
        True,
        "免费",
    ),
    m.ApplicationType.ADDRESS_CHANGE.value: (
        "地址变更登记",
        "Address change",
        (ID_CARD, "住址变更证明（户口簿或公安机关出具的证明）"),
        "5个工作日",
        True,
        "免费",
    ),
    m.ApplicationType.NAME_CHANGE.value: (
        "更名变更登记",
        "Name change",
        (ID_CARD, "更名证明（户口簿或公安机关出具的证明）"),
        "5个工作日",
        True,
        "免费",
    ),
    m.ApplicationType.PRIVATE_MORTGAGE.value: (
        "个人之间抵押登记",
        "Mortgage between individuals",
        (
            "全部抵押人（含每位共有人）及抵押权人的身份证，各方本人到场",
            "借款合同、抵押合同（各方已签字）",
        ),
        "5个工作日",
        True,
        "住宅每件80元，缴费后进入审核",
    ),
    m.ApplicationType.ADVANCE_NOTICE.value: (
        "预购商品房预告登记",
        "Advance notice of a purchase",
        (BUYERS, "已网签备案的商品房买卖合同（系统调取，无需提交）"),
        "即时办结",
        True,
        "免费",
    ),
    m.ApplicationType.NEW_HOME_TRANSFER.value: (
        "新建商品房转移登记",
        "New home transfer",
        (
            BUYERS,
            "已网签备案的商品房买卖合同、开发企业首次登记（系统调取）",
            "契税完税信息（系统向税务部门核验，须先完税）",
        ),
        "1个工作日",
        True,
        "住宅每件80元，缴费后进入审核",
    ),
    m.ApplicationType.ADVANCE_TO_OWNERSHIP.value: (
        "预告登记转本登记",
        "Advance notice to ownership",
        (BUYERS, "契税完税信息（系统核验，须先完税）"),
        "1个工作日",
        True,
        "住宅每件80元，缴费后进入审核",
    ),
    m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE.value: (
        "新建商品房转移及抵押登记",
        "New home transfer with the mortgage",
        (
            BUYERS,
            "契税完税信息（系统核验，须先完税）",
            "贷款银行已办理的抵押预告登记（系统调取）",
        ),
        "1个工作日",
        True,
        "转移、抵押各每件80元，缴费后进入审核",
    ),
    m.ApplicationType.ADVANCE_NOTICE_CANCELLATION.value: (
        "预告登记注销",
        "Advance notice cancellation",
        (BUYERS, "解除购房合同的协议或证明"),
        "即时受理",
        True,
        "免费",
    ),
    m.ApplicationType.OBJECTION.value: (
        "异议登记",
        "Objection",
        (
            "申请人身份证（本人到场，人脸核验）",
            "利害关系证明材料（如继承、共有、买卖、债权的证明）",
            "不动产单元号（见不动产权证书）",
        ),
        "即时办结；15日内未起诉的，异议登记失效",
        True,
        "免费",
    ),
    m.ApplicationType.OBJECTION_CANCELLATION.value: (
        "异议登记注销",
        "Objection cancellation",
        ("异议申请人身份证（本人到场，人脸核验）",),
        "即时办结",
        True,
        "免费",
    ),
    m.ApplicationType.MORTGAGE_FIRST.value: (
        "抵押权首次登记（银行）",
        "First mortgage (banks)",
        (
            "借款人身份证（本人到场）",
            "借款合同、抵押合同",
            "银行营业执照、金融许可证（已备案的免交）",
        ),
        "5个工作日",
        False,
        "住宅每件80元",
    ),
    m.ApplicationType.CERTIFICATE_REISSUE.value: (
        "不动产权证书补换发",
        "Certificate reissue",
        (ID_CARD, "遗失声明或损坏的证书"),
        "10个工作日",
        False,
        "工本费每本10元",
    ),
}


def guides(fees: dict[m.ApplicationType, int]) -> list[m.Guide]:
    out = []
    for business, (zh, en, documents, limit, here, note) in GUIDES.items():
        kind = next((t for t in m.ApplicationType if t.value == business), None)
        fee = fees.get(kind, 0) if kind is not None else 0
        out.append(m.Guide(business, zh, en, list(documents), fee, note, limit, here))
    return out
