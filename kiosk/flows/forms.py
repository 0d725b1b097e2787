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
    CHOICE = "choice"  # one of a few options: a tap on the field takes the next one
    TEXT = "text"  # letters (with shift), digits and a few symbols: an operator's password


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
    options: tuple[str, ...] = ()  # a CHOICE field's values; the first is the default
    # whether the field applies to this application; when not, it holds "/" (never empty)
    applies: Callable[[Any], bool] | None = None
    # how the review reads the value back (an amount in groups and in capitals: 大写)
    display: Callable[[str], str] | None = None

    def shown(self, value: str) -> str:
        return self.display(value) if self.display is not None and value else value

    def problem(self, value: str) -> tuple[str, str] | None:
        value = value.strip()
        if self.options:
            return None if value in self.options else ("请选择", "Please choose")
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


def _id_number(value: str) -> tuple[str, str] | None:
    """A resident ID number with a right check digit (the registry checks it again)."""
    from kiosk.identifiers import id_number_problem

    if id_number_problem(value.upper()) is None:
        return None
    return ("身份证号码不正确，请核对", "Not a valid ID number: please check it")


def _proof_code(value: str) -> tuple[str, str] | None:
    """A proof's verification code as printed (letters and digits; either case)."""
    if re.fullmatch(r"[A-Za-z0-9]{6,24}", value):
        return None
    return ("验证码格式不正确，请核对证明上的验证码", "Not a verification code: check the proof")


def _unit_code(value: str) -> tuple[str, str] | None:
    """A unit code as printed on a certificate (GB/T 37346: 28 characters)."""
    from kiosk.identifiers import unit_code_problem

    if unit_code_problem(value.upper()) is None:
        return None
    return (
        "不动产单元号为28位，请按证书上的单元号输入",
        "A unit code has 28 characters: type it as the certificate shows it",
    )


def _looked_up(ctx: Any) -> str:
    unit = getattr(ctx, "unit", None)
    return unit.address if unit is not None else ""


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


def registered_name(record: Any) -> str:
    """The person's own name as the register has it on ``record``: the registry shows the
    viewer their own name and masks everyone else's."""
    return next((name for name in record.holders if "*" not in name), "")


def _former_name(ctx: Any) -> str:
    prop = getattr(ctx, "property", None)
    return registered_name(prop) if prop is not None else ""


def _unit(ctx: Any) -> str:
    prop = ctx.property
    return prop.address if prop is not None else ""


NOT_APPLICABLE = "/"  # 不适用: what a field holds when it does not apply


CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CAPITAL_UNITS = ("", "拾", "佰", "仟")
CAPITAL_GROUPS = ("", "万", "亿")


def yuan_in_words(amount: int) -> str:
    """Whole yuan in capitals, as a contract or a bank slip writes them: 800000 → 捌拾万元整,
    10010 → 壹万零壹拾元整 (a zero is said once wherever digits are skipped)."""
    if not 0 <= amount < 10**12:
        raise ValueError("an amount from 0 to 999,999,999,999 yuan")
    if amount == 0:
        return "零元整"
    groups = []
    while amount:
        groups.append(amount % 10000)
        amount //= 10000
    out, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = bool(out)
            continue
        if out and (group < 1000 or gap):
            out += "零"
        text, zero = "", False
        for position in (3, 2, 1, 0):
            digit = group // 10**position % 10
            if digit == 0:
                zero = bool(text)
                continue
            if zero:
                text, zero = text + "零", False
            text += CAPITAL_DIGITS[digit] + CAPITAL_UNITS[position]
        out, gap = out + text + CAPITAL_GROUPS[index], False
    return out + "元整"


def _amount_read_back(value: str) -> str:
    """800000 → 800,000 元（捌拾万元整）: the clerk and the borrower read it back in review."""
    if not value.isdigit():
        return value
    return f"{int(value):,} 元（{yuan_in_words(int(value))}）"


def _yuan(value: str) -> tuple[str, str] | None:
    if value.isdigit() and 0 < int(value) < 10**11 and not value.startswith("0"):
        return None
    return ("请输入金额（元，整数）", "Enter the amount in whole yuan")


def _date(value: str) -> tuple[str, str] | None:
    import datetime as dt

    try:
        if len(value) == 8 and value.isdigit():
            dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
            return None
    except ValueError:
        pass
    return ("日期格式为 8 位数字，如 20261201", "A date is 8 digits, e.g. 20261201")


def _bank_name(ctx: Any) -> str:
    operator = getattr(ctx, "operator", None)
    return operator.bank.name if operator is not None else ""


def _contract(ctx: Any) -> str:
    contract = getattr(ctx, "contract", None)
    return contract.contract_number if contract is not None else ""


def _contract_unit(ctx: Any) -> str:
    contract = getattr(ctx, "contract", None)
    return contract.address if contract is not None else _unit(ctx)


def _maximum(ctx: Any) -> bool:
    mortgage = getattr(ctx, "mortgage", None)
    return bool(mortgage is not None and mortgage.maximum)


def _current(ctx: Any) -> str:
    mortgage = getattr(ctx, "mortgage", None)
    if mortgage is None:
        return ""
    return f"{mortgage.amount_fen // 100:,} 元，{mortgage.term_from} 至 {mortgage.term_to}"


def _current_amount(ctx: Any) -> str:
    mortgage = getattr(ctx, "mortgage", None)
    return str(mortgage.amount_fen // 100) if mortgage is not None else ""


def _current_term_to(ctx: Any) -> str:
    mortgage = getattr(ctx, "mortgage", None)
    return mortgage.term_to.replace("-", "") if mortgage is not None else ""


SCOPES = ("主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "主债权及利息")
MORTGAGE_TYPES = ("一般抵押", "最高额抵押")
GRANT_DAYS = ("30", "7", "90")  # how long a query authorization works (the first: default)
YES_NO = ("否", "是")


def _loan_checks(values: dict[str, str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    start, end = values.get("term_from", ""), values.get("term_to", "")
    if _date(start) is None and _date(end) is None and not start < end:
        out["term_to"] = ("到期日应晚于起始日", "The term must end after it begins")
    if values.get("combined_confirmation") == "是" and values.get("mortgage_type") != "最高额抵押":
        out["combined_confirmation"] = (
            "仅最高额抵押可同时办理债权确定",
            "Only a maximum-amount mortgage is confirmed with it",
        )
    return out


CREDITOR = Field(
    "creditor", "抵押权人", "Mortgagee", Keyboard.NONE, known=_bank_name, personal=False
)
MORTGAGOR = Field("mortgagor", "抵押人", "Mortgagor", Keyboard.NONE, known=_card_name)
LOAN_TERMS = (
    Field("debtor", "债务人", "Debtor", Keyboard.PINYIN, max_len=20, known=_card_name, check=_name),
    Field(
        "mortgage_type",
        "抵押方式",
        "Kind",
        Keyboard.CHOICE,
        options=MORTGAGE_TYPES,
        personal=False,
    ),
    Field(
        "amount",
        "债权数额/最高债权额（元）",
        "Amount or maximum (yuan)",
        Keyboard.DIGITS,
        max_len=11,
        check=_yuan,
        display=_amount_read_back,
    ),
    Field("term_from", "债务履行起始日", "Term from", Keyboard.DIGITS, max_len=8, check=_date),
    Field("term_to", "债务履行到期日", "Term to", Keyboard.DIGITS, max_len=8, check=_date),
    Field("scope", "担保范围", "Guarantee scope", Keyboard.CHOICE, options=SCOPES, personal=False),
)

OBJECTION_INTERESTS = ("继承人", "共有人", "买受人", "债权人", "其他利害关系人")
OBJECTION_REASONS = (
    "权利人登记有误",
    "共有情况或份额登记有误",
    "面积、用途等自然状况登记有误",
    "其他登记事项有误",
)

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
    # 查询授权: whom the holder lets query the chosen unit, and for how long
    "grant": (
        PROPERTY,
        Field("grantee_name", "被授权人姓名", "Grantee's name", Keyboard.PINYIN, 20, check=_name),
        Field(
            "grantee_id_number",
            "被授权人身份证号",
            "Grantee's ID number",
            Keyboard.CODE,
            18,
            check=_id_number,
        ),
        Field(
            "valid_days",
            "授权有效天数",
            "Valid for (days)",
            Keyboard.CHOICE,
            options=GRANT_DAYS,
            personal=False,
        ),
    ),
    # the verification code printed on a proof (查询结果证明, 有无房产证明), to check it
    "proof_code": (
        Field(
            "verification_code",
            "验证码",
            "Verification code",
            Keyboard.CODE,
            max_len=24,
            check=_proof_code,
            personal=False,
            submit=False,
        ),
    ),
    # 异议登记: the unit named by the code on its certificate (the objector holds none of it)
    "objection_unit": (
        Field(
            "unit_code",
            "不动产单元号（见证书）",
            "Unit code (on the certificate)",
            Keyboard.CODE,
            max_len=28,
            check=_unit_code,
            personal=False,
            submit=False,
        ),
    ),
    # what the objector says is wrong, and why it is theirs to say (evidence is scanned)
    "objection": (
        Field(
            "unit",
            "不动产坐落",
            "Property",
            Keyboard.NONE,
            known=_looked_up,
            submit=False,
            personal=False,
        ),
        Field(
            "interest",
            "与该不动产的利害关系",
            "Your interest in it",
            Keyboard.CHOICE,
            options=OBJECTION_INTERESTS,
            personal=False,
        ),
        Field(
            "reason",
            "异议事项",
            "What the register has wrong",
            Keyboard.CHOICE,
            options=OBJECTION_REASONS,
            personal=False,
        ),
        PHONE,
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
    # the card shows the name now; the register still has the former one, which the kiosk
    # reads from the record (never typed: nothing to mistype, no rare character to find)
    "name_change": (
        ID_NUMBER,
        PROPERTY,
        Field(
            "new_name", "现用名（身份证）", "Name now (ID card)", Keyboard.NONE, known=_card_name
        ),
        Field(
            "former_name",
            "曾用名（登记簿上）",
            "Former name (on the register)",
            Keyboard.NONE,
            known=_former_name,
        ),
        PHONE,
    ),
}


FORMS.update(
    {
        # 抵押权首次登记: the bank and the borrower are known; the loan data typed once
        "mortgage_loan": (
            CREDITOR,
            MORTGAGOR,
            PROPERTY,
            *LOAN_TERMS,
            Field(
                "combined_confirmation",
                "同时办理最高额债权确定",
                "Maximum-amount confirmation too",
                Keyboard.CHOICE,
                options=YES_NO,
                personal=False,
            ),
        ),
        # 个人之间抵押: the terms the holders and the lender agreed (their loan contract);
        # who they are comes from their cards and face checks, not from typing
        "private_mortgage": (PROPERTY, *LOAN_TERMS),
        # 抵押预告登记: on the flat of a pre-sale contract
        "advance_loan": (
            CREDITOR,
            MORTGAGOR,
            Field(
                "contract_number",
                "预售合同备案号",
                "Pre-sale contract",
                Keyboard.NONE,
                known=_contract,
                personal=False,
            ),
            Field(
                "flat",
                "预售房屋坐落",
                "Flat",
                Keyboard.NONE,
                known=_contract_unit,
                submit=False,
                personal=False,
            ),
            *LOAN_TERMS,
        ),
        # 抵押权变更登记: what changes (the maximum-amount period only for such mortgages)
        "mortgage_change": (
            CREDITOR,
            PROPERTY,
            Field(
                "current",
                "现登记内容",
                "Registered now",
                Keyboard.NONE,
                known=_current,
                submit=False,
                personal=False,
            ),
            Field(
                "new_amount",
                "变更后债权数额（元）",
                "New amount (yuan)",
                Keyboard.DIGITS,
                max_len=11,
                known=_current_amount,  # what does not change is not typed again
                check=_yuan,
                display=_amount_read_back,
            ),
            Field(
                "new_term_to",
                "变更后到期日",
                "New term end",
                Keyboard.DIGITS,
                max_len=8,
                known=_current_term_to,
                check=_date,
            ),
            Field(
                "rank",
                "抵押顺位",
                "Rank",
                Keyboard.CHOICE,
                options=("第一顺位", "第二顺位", "第三顺位"),
                personal=False,
            ),
            Field("scope", "担保范围", "Guarantee scope", Keyboard.CHOICE, options=SCOPES),
            Field(
                "max_period_to",
                "最高额债权确定期间届满日",
                "Maximum-amount period end",
                Keyboard.DIGITS,
                max_len=8,
                check=_date,
                applies=_maximum,
            ),
        ),
    }
)
CROSS_CHECKS = {
    "mortgage_loan": _loan_checks,
    "advance_loan": _loan_checks,
    "private_mortgage": _loan_checks,
}


def fields(form: str) -> tuple[Field, ...]:
    return FORMS[form]


def editable(field: Field, ctx: Any = None) -> bool:
    if field.applies is not None and ctx is not None and not field.applies(ctx):
        return False  # "/" and why: the register never has an empty field
    return field.keyboard is not Keyboard.NONE


def initial_values(form: str, ctx: Any) -> dict[str, str]:
    values = {}
    for f in FORMS[form]:
        if f.applies is not None and not f.applies(ctx):
            values[f.name] = NOT_APPLICABLE
        elif f.known:
            values[f.name] = f.known(ctx)
        else:
            values[f.name] = f.options[0] if f.options else ""
    return values


def problems(form: str, values: dict[str, str], ctx: Any = None) -> dict[str, tuple[str, str]]:
    """Each editable field's problem, by name; empty when the form can go on."""
    out = {}
    for field in FORMS[form]:
        if editable(field, ctx):
            problem = field.problem(values.get(field.name, ""))
            if problem:
                out[field.name] = problem
    for name, problem in CROSS_CHECKS.get(form, lambda _v: {})(values).items():
        out.setdefault(name, problem)
    return out
