"""The kiosk's texts, Chinese first and English too.

Every message has both languages; the language switch chooses which one leads. Keys are
stable names used by screens and by the user-facing error boundary.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "app.title": ("不动产登记自助服务", "Real Estate Registration Self-Service"),
    "attract.touch": ("请触摸屏幕开始", "Touch the screen to begin"),
    "attract.hint": (
        "查询、缴费、证书打印、取号，一站办理",
        "Records, fees, certificates and queue tickets in one place",
    ),
    "home.choose": ("请选择要办理的业务", "Please choose a service"),
    "home.language": ("English", "中文"),
    "home.large_text": ("大字模式", "Large text"),
    "home.normal_text": ("标准字号", "Normal text"),
    "home.exit": ("退出", "Exit"),
    "home.coming": ("即将开通", "Coming soon"),
    "idle.title": ("您还在吗？", "Are you still there?"),
    "idle.body": (
        "{seconds} 秒后将自动退出并清除您的信息",
        "You will be signed out in {seconds} s and your data cleared",
    ),
    "idle.continue": ("继续办理", "Continue"),
    "face.counter": (
        "请到人工窗口，工作人员将为您核验身份",
        "Please go to a counter: the staff will check your identity",
    ),
}


def text(key: str, language: str, **values: object) -> str:
    zh, en = TEXTS[key]
    chosen = en if language == "en" else zh
    return chosen.format(**values) if values else chosen


def both(key: str, language: str, **values: object) -> tuple[str, str]:
    """(leading, secondary) texts for the current language."""
    zh, en = TEXTS[key]
    if values:
        zh, en = zh.format(**values), en.format(**values)
    return (en, zh) if language == "en" else (zh, en)
