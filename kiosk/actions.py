"""What staff should do about a fault: every detail code maps to a recommended action.

Shown on the maintenance dashboard and in ``kiosk diag`` (text and JSON for the help desk).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import Detail, State, Status


@dataclass(frozen=True)
class Action:
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


REFILL = Action("refill_paper", "补充纸张", "Refill the paper")
REFILL_SOON = Action("refill_paper_soon", "纸张将尽，请尽快补充", "Paper is low: refill it soon")
CLOSE_COVER = Action("close_cover", "关好设备盖板", "Close the device cover")
CLEAR_MEDIA = Action("clear_media", "打开设备取出卡住的纸张", "Open the device and clear the jam")
CALL_VENDOR = Action("call_vendor", "联系设备厂商维修", "Call the vendor for repair")
RESET = Action("reset_device", "重新插拔或重启该设备", "Reconnect or power-cycle the device")
CHECK_CABLE = Action("check_cable", "检查设备电源和连接线", "Check the device's power and cable")
RESUME_QUEUE = Action("resume_queue", "在打印队列中恢复打印机", "Resume the printer's queue")
REPLACE_TONER = Action("replace_toner", "更换墨粉", "Replace the toner")
FINISH_REFUSED = Action(
    "finish_refused_writes",
    "登记中心拒收的申请已保留，请到人工窗口核对办理",
    "Filings the registry refused are kept: finish them at the counter",
)
CHECK_NETWORK = Action(
    "check_network", "检查网络与登记中心连接", "Check the network to the registry"
)
OUT_OF_SERVICE = Action(
    "take_out_of_service", "暂停本机服务并报修", "Take the kiosk out of service and report it"
)

RESTART_SERVICE = Action(
    "restart_service",
    "重启该设备的系统服务（提示中所列，如 pcscd、cups：systemctl restart），仍不行请联系技术支持",
    "Restart the device's system service named in the message (pcscd, cups: systemctl "
    "restart); if it stays down, call support",
)
CHECK_DEVICE_NETWORK = Action(
    "check_device_network",
    "检查该设备的网线、交换机和 IP 地址（能否 ping 通）",
    "Check the device's network cable, switch and address (does it answer a ping?)",
)

DETAIL_ACTIONS = {
    Detail.PAPER_OUT: REFILL,
    Detail.PAPER_LOW: REFILL_SOON,
    Detail.COVER_OPEN: CLOSE_COVER,
    Detail.JAMMED: CLEAR_MEDIA,
    Detail.CUTTER_ERROR: CALL_VENDOR,
    Detail.SAM_FAULT: CALL_VENDOR,
    Detail.DISCONNECTED: CHECK_CABLE,
    Detail.SERVICE_DOWN: RESTART_SERVICE,
    Detail.UNREACHABLE: CHECK_DEVICE_NETWORK,
    Detail.NOT_OPENED: CHECK_CABLE,
    Detail.NO_RESPONSE: RESET,
    Detail.PROTOCOL_ERROR: RESET,
    Detail.NO_FRAME: RESET,
    Detail.PRINTER_STOPPED: RESUME_QUEUE,
    Detail.NOT_ACCEPTING: RESUME_QUEUE,
    Detail.TONER_LOW: REPLACE_TONER,
}


def actions_for(status: Status, required: bool) -> list[Action]:
    actions = [DETAIL_ACTIONS[d] for d in sorted(status.details) if d in DETAIL_ACTIONS]
    if status.state in (State.OFFLINE, State.ERROR) and not actions:
        actions.append(RESET)
    if required and not status.usable:
        actions.append(OUT_OF_SERVICE)
    return actions
