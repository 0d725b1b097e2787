"""Validators for the identifiers of the domain. Used by the kiosk and the sandbox alike.

- Resident ID number, GB 11643: 17 digits and a check character; digits 7-14 a real date.
- Unified social credit code, GB 32100: 18 characters, check by weights mod 31. Some genuine
  early pilot codes fail the check: ``uscc_problem`` says so, and callers warn, not refuse.
- Real-estate unit code, GB/T 37346: 28 characters, no check digit.
- Certificate numbers vary in the wild: parsed leniently, displayed as issued.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
UNIT_CODE = re.compile(r"^(\d{6})(\d{3})(\d{3})([GJZ])([A-Z])(\d{5})([FLQW])(\d{4})(\d{4})$")
PARCEL_KINDS = frozenset("ABSXCDEFWHG")
CERTIFICATE = re.compile(
    r"^(?P<province>[\u4e00-\u9fa5]{1,2})\s*[（(]\s*(?P<year>\d{4})\s*[)）]\s*"
    r"(?P<place>[\u4e00-\u9fa5]+?)\s*不动产(?P<kind>权|证明)\s*第\s*(?P<number>\d{6,8})\s*号$"
)


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str, today: dt.date | None = None) -> str | None:
    """Why ``value`` is not a valid resident ID number, or None when it is."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "must be 17 digits and a digit or X"
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "digits 7-14 are not a date"
    if birth > (today or dt.date.today()) or birth.year < 1880:
        return "birth date out of range"
    if id_check_char(value[:17]) != value[17]:
        return "check character does not match"
    return None


def is_id_number(value: str) -> bool:
    return id_number_problem(value) is None


def id_birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A well-formed number (for synthetic data): region (6) + birth + sequence (3) + check."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """Why ``value`` is not a valid unified social credit code, or None."""
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return "must be 18 characters from 0-9 and A-Y without I, O, S, V, Z"
    if uscc_check_char(value[:17]) != value[17]:
        return "check character does not match"
    return None


def unit_code_problem(value: str) -> str | None:
    """Why ``value`` is not a real-estate unit code (GB/T 37346), or None."""
    match = UNIT_CODE.match(value)
    if not match:
        return "must be 6+6 digits, 2 letters + 5 digits, and F/L/Q/W + 8 digits (28 characters)"
    if match.group(5) not in PARCEL_KINDS:
        return f"unknown parcel kind {match.group(5)!r}"
    if match.group(7) == "W" and match.group(8) + match.group(9) != "00000000":
        return "land without fixture must end in W00000000"
    return None


@dataclass(frozen=True)
class CertificateNumber:
    province: str
    year: int
    place: str
    kind: str  # "权" (certificate of title) or "证明" (registration proof)
    number: str
    text: str  # as issued, shown unchanged


def parse_certificate_number(value: str) -> CertificateNumber | None:
    cleaned = value.strip().replace("\u3000", " ")
    match = CERTIFICATE.match(cleaned)
    if not match:
        return None
    return CertificateNumber(
        match["province"],
        int(match["year"]),
        match["place"],
        match["kind"],
        match["number"],
        value,
    )
