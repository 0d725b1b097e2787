"""The few fields a journey asks for, and how each is typed and checked.

A field the kiosk already knows (from the card, the chosen property) is filled and read-only:
the person is never asked to type what the kiosk has read. The rest are typed on the screen's
keyboard: digits (a phone), letters and digits (an authorization code) or pinyin (an address, a
name). ``problem`` says in Chinese and English what is wrong with a value, or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kiosk.redact import mask_id_number


class Keyboard(StrEnum):
    NONE = "none"  # read-only: filled by the kiosk
    DIGITS = "digits"
    CODE = "code"  # capital letters, digits and "-"
    PINYIN = "pinyin"  # Chinese by pinyin, with digits for house numbers


@dataclass(frozen=True)
class Field:
    name: str
    label_zh: str
    label_en: str
    keyboard: Keyboard
    max_len: int = 40
    known: Callable[[Any], str] | None = None  # the value from the journey's context
    check: Callable[[str], tuple[str, str] | None] | None = None
    submit: bool = True  # sent with the application (not only shown)
    personal: bool = True

    def problem(self, value: str) -> tuple[str, str] | None:
        value = value.strip()
        if not value:
            return (f"请填写{self.label_zh}", f"Please fill in: {self.label_en}")
        if len(value) > self.max_len:
            return (f"{self.label_zh}过长", f"{self.label_en} is too long")
        return self.check(value) if self.check else None


CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,20}$")
CODE = re.compile(r"^[A-Z0-9-]{6,24}$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _name(value: str) -> tuple[str, str] | None:
    if CHINESE_NAME.match(value):
        return None
    return ("姓名应为 2–20 个汉字", "A name is 2 to 20 Chinese characters")


def _code(value: str) -> tuple[str, str] | None:
    if CODE.match(value):
        return None
    return ("授权码格式不正确，请核对", "The authorization code is not valid: please check it")


def _mobile(value: str) -> tuple[str, str] | None:
    if MOBILE.match(value):
        return None
    return ("请输入 11 位手机号码", "Please enter an 11-digit mobile number")


def _address(value: str) -> tuple[str, str] | None:
    if len(value) >= 6 and re.search(r"[\u4e00-\u9fff]", value):
        return None
    return ("请填写完整地址（至少 6 个字）", "Please enter the full address (6 characters or more)")


def _card_name(ctx: Any) -> str:
    return ctx.document.name if ctx.document else ""


def _card_number(ctx: Any) -> str:
    return mask_id_number(ctx.document.number) if ctx.document else ""


def _card_address(ctx: Any) -> str:
    return ctx.document.address if ctx.document else ""


def _unit(ctx: Any) -> str:
    prop = ctx.property
    return prop.address if prop is not None else ""


HOLDER = Field("holder", "权利人", "Holder", Keyboard.NONE, known=_card_name, submit=False)
ID_NUMBER = Field(
    "id_number", "身份证号", "ID number", Keyboard.NONE, known=_card_number, submit=False
)
PROPERTY = Field(
    "property", "不动产坐落", "Property", Keyboard.NONE, known=_unit, submit=False, personal=False
)
PHONE = Field("phone", "联系电话", "Mobile phone", Keyboard.DIGITS, max_len=11, check=_mobile)

FORMS: dict[str, tuple[Field, ...]] = {
    # where EMS takes the certificate: the card's name and address filled in, to change
    "mailing": (
        Field(
            "recipient",
            "收件人",
            "Recipient",
            Keyboard.PINYIN,
            max_len=20,
            known=_card_name,
            check=_name,
        ),
        Field("phone", "联系电话", "Mobile phone", Keyboard.DIGITS, max_len=11, check=_mobile),
        Field(
            "address",
            "邮寄地址",
            "Mailing address",
            Keyboard.PINYIN,
            max_len=60,
            known=_card_address,
            check=_address,
        ),
    ),
    # an authorized query: the code the holder gave (their authorization names the unit)
    "authorization": (
        HOLDER,
        Field(
            "authorization_code",
            "授权码",
            "Authorization code",
            Keyboard.CODE,
            max_len=24,
            check=_code,
            personal=False,
        ),
    ),
    # the new address as it will be registered (the card's address filled in, to edit)
    "address_change": (
        HOLDER,
        ID_NUMBER,
        PROPERTY,
        Field(
            "new_address",
            "新地址",
            "New address",
            Keyboard.PINYIN,
            max_len=60,
            known=_card_address,
            check=_address,
        ),
        PHONE,
    ),
    # the card shows the name now; the registry's record has the former one
    "name_change": (
        ID_NUMBER,
        PROPERTY,
        Field(
            "new_name", "现用名（身份证）", "Name now (ID card)", Keyboard.NONE, known=_card_name
        ),
        Field(
            "former_name",
            "曾用名（证书上）",
            "Former name (certificate)",
            Keyboard.PINYIN,
            max_len=20,
            check=_name,
        ),
        PHONE,
    ),
}


def fields(form: str) -> tuple[Field, ...]:
    return FORMS[form]


def editable(field: Field) -> bool:
    return field.keyboard is not Keyboard.NONE


def initial_values(form: str, ctx: Any) -> dict[str, str]:
    return {f.name: (f.known(ctx) if f.known else "") for f in FORMS[form]}


def problems(form: str, values: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each editable field's problem, by name; empty when the form can go on."""
    out = {}
    for field in FORMS[form]:
        if editable(field):
            problem = field.problem(values.get(field.name, ""))
            if problem:
                out[field.name] = problem
    return out
