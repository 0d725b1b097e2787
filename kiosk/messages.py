"""The one boundary where errors become what a person reads: Chinese first, English too.

Drivers and the backend client raise typed errors with stable codes; screens show the texts
from here, never an exception's own words.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DeviceError
from kiosk.backend.errors import BackendError, BackendUnreachable


@dataclass(frozen=True)
class UserMessage:
    code: str
    zh: str
    en: str
    retry: bool  # trying again here may work


class StepFailed(Exception):
    """A step cannot go on; the message says why and what to do."""

    def __init__(self, message: UserMessage) -> None:
        super().__init__(message.en)
        self.message = message


MESSAGES: dict[str, tuple[str, str, bool]] = {
    "paper_out": (
        "打印机缺纸，请联系工作人员补纸后重试",
        "The printer is out of paper; please ask staff to refill it, then retry",
        True,
    ),
    "cover_open": (
        "打印机盖未关好，请联系工作人员",
        "The printer cover is open; please ask staff",
        True,
    ),
    "cutter_error": (
        "打印机切刀故障，请联系工作人员",
        "The printer's cutter is stuck; please ask staff",
        True,
    ),
    "jammed": (
        "打印机卡纸，已停止打印，请联系工作人员处理后重试",
        "Paper jam: printing stopped; please ask staff, then retry",
        True,
    ),
    "printer_error": (
        "打印机故障，请联系工作人员",
        "The printer reports an error; please ask staff",
        True,
    ),
    "printer_stopped": (
        "打印机已暂停，请联系工作人员",
        "The printer is paused; please ask staff",
        True,
    ),
    "printer_offline": (
        "打印机未连接，请联系工作人员",
        "The printer is offline; please ask staff",
        True,
    ),
    "job_aborted": (
        "打印任务未完成，可重新打印",
        "The print did not complete; you can print again",
        True,
    ),
    "no_paper": ("请将材料放入扫描仪进纸器", "Please put the pages in the scanner's feeder", True),
    "busy": ("扫描仪忙，请稍候重试", "The scanner is busy; please try again shortly", True),
    "no_card": ("请将身份证放在感应区", "Please place your ID card on the reader", True),
    "read_failed": (
        "读卡失败，请重新放置身份证",
        "The card could not be read; please place it again",
        True,
    ),
    "unavailable": (
        "设备暂不可用，请到人工窗口办理",
        "The device is unavailable; please go to a counter",
        False,
    ),
    "timeout": ("设备无响应，请稍后重试", "The device did not answer; please try again", True),
    "network": (
        "网络暂不可用，请稍后重试或到人工窗口办理",
        "The network is unavailable; please retry later or go to a counter",
        True,
    ),
    # the registry's refusals, by its error code
    "not_authorized": (
        "未找到与该授权码对应的授权，请核对授权码或联系权利人",
        "No authorization matches this code: please check it or ask the holder",
        True,
    ),
    "expired": (
        "该授权已过期，请联系权利人重新授权",
        "The authorization has expired: please ask the holder for a new one",
        True,
    ),
    "not_holder": (
        "登记簿上您不是该不动产的权利人，请到人工窗口办理",
        "The register does not list you as a holder of this property: please go to a counter",
        False,
    ),
    "name_mismatch": (
        "身份证上的姓名与公安登记不一致，请到人工窗口办理更名",
        "The name on the card does not match the public security record: please go to a counter",
        False,
    ),
    "former_name_mismatch": (
        "曾用名与登记簿记载不一致，请携带更名证明到人工窗口办理",
        "The former name is not the one on the register: please bring your proof to a counter",
        False,
    ),
    "nothing_to_change": (
        "登记簿上已是您的现用名，无需办理更名",
        "The register already has your current name: there is nothing to change",
        False,
    ),
    "no_active_mortgage": (
        "该不动产上没有这笔有效抵押，请到人工窗口核实",
        "There is no such active mortgage on this property: please check at a counter",
        False,
    ),
    "missing_party": (
        "该不动产的全部共有人及抵押权人须本人到场核验并签名，请到齐后重新办理",
        "Every co-owner and the lender must be verified and sign in person: come back together",
        False,
    ),
    "party_twice": (
        "同一人不能作为两方当事人，请下一位当事人放置本人身份证",
        "One person cannot be two parties: the next party places their own card",
        True,
    ),
    "mortgagee_is_holder": (
        "抵押权人不能是该不动产的权利人，请核对后到人工窗口办理",
        "The lender cannot be a holder of the property: please go to a counter",
        False,
    ),
    "seized": (
        "该不动产已被查封，暂不能办理，请到人工窗口咨询",
        "The property is seized by a court: this cannot be done now; please ask at a counter",
        False,
    ),
    "signature_reused": (
        "各方当事人须各自本人签名，签名不能重复使用",
        "Each party signs in their own hand: a signature cannot be used twice",
        True,
    ),
    "slot_full": (
        "该时段已约满，请选择其他时段",
        "That slot is full: please choose another",
        True,
    ),
    "already_booked": (
        "您已有该业务的预约，请按预约时间前来；如需改约请到人工窗口",
        "You already have an appointment for this: please come then, or ask a counter to move it",
        False,
    ),
    "slot_closed": (
        "该时段已不可预约，请选择其他时段",
        "That slot can no longer be booked: please choose another",
        True,
    ),
    "not_co_owner": (
        "登记簿上此人不是该不动产的共有人，请该不动产的共有人本人放置身份证",
        "The register does not list this person as a co-owner: the co-owner places their own card",
        True,
    ),
    "already_issued": (
        "该证书已邮寄或已打印，不能重复领取；如有疑问请到人工窗口",
        "This certificate was mailed or printed already; a counter can help with any question",
        False,
    ),
    "not_ready": (
        "该业务尚未办结，证书暂不能领取",
        "The case is not finished yet: the certificate is not ready",
        False,
    ),
    "appointment_closed": (
        "该预约不在签到时间内（预约时间前12小时至后30分钟），请重新预约或取号",
        "This appointment is not open for check-in (12 h before to 30 min after its time): "
        "book again or take a ticket",
        False,
    ),
    # new flats: the contract, the flat, the tax link, the bank's part
    "not_co_buyer": (
        "此人不是该购房合同的买受人，请合同上的其他买受人本人放置身份证",
        "This person is not a buyer on the contract: the other buyer places their own card",
        True,
    ),
    "not_buyer": (
        "申请人须为购房合同上的买受人",
        "Everyone who applies must be a buyer on the sale contract",
        False,
    ),
    "no_contract": (
        "未找到该房屋已备案的购房合同，请到人工窗口",
        "No sale contract of this flat is on file: please ask at a counter",
        False,
    ),
    "contract_closed": (
        "该购房合同已解除或已办理转移登记，不能再办理此业务",
        "This contract was rescinded or the flat transferred already: nothing more to file on it",
        False,
    ),
    "tax_unpaid": (
        "契税尚未完税：请先通过电子税务局或税务窗口缴纳，完税后点重试",
        "The deed tax is not paid yet: pay it online or at the tax counter, then tap retry",
        True,
    ),
    "not_built": (
        "该房屋尚未办理首次登记（期房），请先办理预告登记",
        "The flat is not first registered yet (off-plan): register the advance notice first",
        False,
    ),
    "already_built": (
        "该房屋已办理首次登记，可直接办理新建商品房转移登记",
        "The flat is first registered already: apply for the transfer itself",
        False,
    ),
    "notice_exists": (
        "该合同已办理预告登记，无需重复办理",
        "The advance notice of this contract is registered already",
        False,
    ),
    "notice_on_file": (
        "该房屋已办理预告登记，请选择「预告转本登记」",
        "This flat has an advance notice: choose Advance notice to ownership",
        False,
    ),
    "no_notice": (
        "该合同没有有效的预告登记",
        "There is no advance notice on this contract",
        False,
    ),
    "bank_part_on_file": (
        "银行已办理该房屋的抵押预告登记，请选择「转移并抵押登记」一并办理",
        "The bank's advance-notice mortgage is on file: choose Transfer with the mortgage",
        False,
    ),
    "no_bank_part": (
        "未找到银行已办理的抵押预告登记，请联系贷款银行",
        "No bank's advance-notice mortgage is on file: please ask your bank",
        False,
    ),
    # a face check that lapsed before what it was for was done (the registry's 15 minutes)
    "verification_expired": (
        "人脸核验已超过有效时间，请返回首页重新办理",
        "The face check has lapsed: please start again from the home screen",
        False,
    ),
    # a proof's QR read by the scanner
    "qr_unreadable": (
        "未能识别证明上的二维码：请将证明放平、二维码朝上后重试，或返回首页选择输入验证码",
        "The proof's QR code could not be read: lay it flat, QR up, and retry; or type the code",
        True,
    ),
    "not_a_proof_qr": (
        "该二维码不是不动产登记查询证明的核验码，请核对证明，或输入证明上的验证码",
        "This QR code is not a property proof's check code: check the paper, or type its code",
        True,
    ),
    # objections
    "unit_not_found": (
        "未找到该不动产单元号，请核对证书上的单元号后重新输入",
        "No unit with this code: check the code on the certificate and type it again",
        True,
    ),
    "too_many_lookups": (
        "本次查找次数已达上限，请到人工窗口办理",
        "That is as many units as one visit may look up: please ask at a counter",
        False,
    ),
    "is_holder": (
        "您是该不动产的权利人，登记有误请申请更正登记（人工窗口）",
        "You hold this property: a correction (更正登记) is filed at a counter",
        False,
    ),
    "objection_exists": (
        "您对该不动产的异议登记仍在有效期内，无需重复申请",
        "Your objection on this property stands already",
        False,
    ),
    "objection_repeated": (
        "同一事项以同一理由的异议登记已失效或注销，不能再次申请；请向人民法院起诉",
        "An objection on this matter for this reason lapsed before: it cannot be filed again; "
        "take it to court",
        False,
    ),
    "no_objection": (
        "没有您有效的异议登记",
        "You have no standing objection on this property",
        False,
    ),
    "registry": (
        "登记中心暂时无法办理，请到人工窗口",
        "The registry cannot take this now; please go to a counter",
        False,
    ),
}

REFUSALS = {
    "not_authorized",
    "expired",
    "not_holder",
    "name_mismatch",
    "former_name_mismatch",
    "nothing_to_change",
    "no_active_mortgage",
    "missing_party",
    "party_twice",
    "mortgagee_is_holder",
    "seized",
    "not_co_owner",
    "signature_reused",
    "slot_full",
    "already_booked",
    "slot_closed",
    "already_issued",
    "not_ready",
    "appointment_closed",
    "not_co_buyer",
    "not_buyer",
    "no_contract",
    "contract_closed",
    "tax_unpaid",
    "not_built",
    "already_built",
    "notice_exists",
    "notice_on_file",
    "no_notice",
    "bank_part_on_file",
    "no_bank_part",
    "unit_not_found",
    "too_many_lookups",
    "is_holder",
    "objection_exists",
    "objection_repeated",
    "no_objection",
}


def user_message(code: str) -> UserMessage:
    """The message of a code of MESSAGES, as a step shows it."""
    zh, en, retry = MESSAGES[code]
    return UserMessage(code, zh, en, retry)


def message_for(error: Exception) -> UserMessage:
    if isinstance(error, BackendUnreachable) or (
        isinstance(error, BackendError) and error.retryable
    ):
        code = "network"
    elif (
        isinstance(error, BackendError)
        and error.error == "expired"
        and (error.field == "verification_id")
    ):  # the face check lapsed, not an authorization
        code = "verification_expired"
    elif isinstance(error, BackendError):
        code = error.error if error.error in REFUSALS else "registry"
    elif isinstance(error, DeviceError):
        code = error.code if error.code in MESSAGES else "unavailable"
    else:
        code = "unavailable"
    zh, en, retry = MESSAGES[code]
    return UserMessage(code, zh, en, retry)
