"""One typed identity document, whatever card it came from, and the decoding of the SAM text.

The text block is 256 bytes of UCS-2 little-endian padded with spaces. The card type is the
character at byte 248: blank resident ID card, ``J`` Hong Kong/Macau/Taiwan residence permit,
``I`` foreigner's permanent residence card (2017), ``Y`` the 2023 card. The 2023 layout keeps
the resident offsets for name, sex, birth, number and dates, so a parser that ignores the marker
silently misreads it: decoding always dispatches on the marker, and refuses an unknown one.
Checking the number and the validity belongs to the kiosk (its identifier validators).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum

from drivers.errors import ProtocolError

TEXT_LENGTH = 256
NATIONS = {
    "01": "汉",
    "02": "蒙古",
    "03": "回",
    "04": "藏",
    "05": "维吾尔",
    "06": "苗",
    "07": "彝",
    "08": "壮",
    "09": "布依",
    "10": "朝鲜",
    "11": "满",
    "12": "侗",
    "13": "瑶",
    "14": "白",
    "15": "土家",
    "16": "哈尼",
    "17": "哈萨克",
    "18": "傣",
    "19": "黎",
    "20": "傈僳",
    "21": "佤",
    "22": "畲",
    "23": "高山",
    "24": "拉祜",
    "25": "水",
    "26": "东乡",
    "27": "纳西",
    "28": "景颇",
    "29": "柯尔克孜",
    "30": "土",
    "31": "达斡尔",
    "32": "仫佬",
    "33": "羌",
    "34": "布朗",
    "35": "撒拉",
    "36": "毛南",
    "37": "仡佬",
    "38": "锡伯",
    "39": "阿昌",
    "40": "普米",
    "41": "塔吉克",
    "42": "怒",
    "43": "乌孜别克",
    "44": "俄罗斯",
    "45": "鄂温克",
    "46": "德昂",
    "47": "保安",
    "48": "裕固",
    "49": "京",
    "50": "塔塔尔",
    "51": "独龙",
    "52": "鄂伦春",
    "53": "赫哲",
    "54": "门巴",
    "55": "珞巴",
    "56": "基诺",
    "97": "其他",
    "98": "外国血统中国籍人士",
}
SEXES = {"0": "unknown", "1": "male", "2": "female", "9": "unspecified"}


class CardType(StrEnum):
    RESIDENT = "resident"
    HMT_PERMIT = "hmt_permit"
    FOREIGN_PERMANENT_2017 = "foreign_permanent_2017"
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"
    PASSPORT = "passport"


class PhotoState(StrEnum):
    DECODED = "decoded"  # ``photo`` is an image (BMP/JPEG) the kiosk can show and compare
    UNDECODED = "undecoded"  # only the card's WLT bytes: checks use the registry's photo
    FAILED = "failed"  # a decoder is configured but could not decode this photo
    ABSENT = "absent"


@dataclass(frozen=True)
class IdentityDocument:
    card_type: CardType
    name: str  # the name as printed (Chinese name where the card has one)
    sex: str  # male / female / unknown / unspecified
    birth_date: dt.date | None
    number: str
    issuer: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None  # None with ``long_term``: no expiry (长期)
    long_term: bool = False
    nation: str = ""  # GB 3304 code; display adds 族
    address: str = ""
    english_name: str = ""
    nationality: str = ""  # ISO 3166 alpha-3 for foreigners
    pass_number: str = ""  # HMT permit: the travel pass number
    issue_count: str = ""
    photo: bytes = field(default=b"", repr=False)
    photo_state: PhotoState = PhotoState.ABSENT
    photo_format: str = ""  # "bmp", "jpeg" or "wlt"
    raw_photo: bytes = field(default=b"", repr=False)  # the card's own bytes (WLT)
    fingerprint: bytes = field(default=b"", repr=False)

    @property
    def nation_name(self) -> str:
        return NATIONS.get(self.nation, "")

    def expired(self, today: dt.date) -> bool:
        return not self.long_term and self.valid_to is not None and self.valid_to < today

    def age(self, today: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday

    def with_photo(self, photo: bytes, state: PhotoState, fmt: str) -> IdentityDocument:
        return replace(self, photo=photo, photo_state=state, photo_format=fmt)


def _text(block: bytes, offset: int, size: int) -> str:
    return block[offset : offset + size].decode("utf-16-le", errors="replace").strip(" \x00")


def _date(value: str, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise ProtocolError(f"{what} {value!r} is not a date", code="card_data") from None


def _valid_to(value: str) -> tuple[dt.date | None, bool]:
    if value.startswith("长期"):
        return None, True
    return _date(value, "valid-to date"), False


def card_type_of(block: bytes) -> CardType:
    marker = _text(block, 248, 2)
    types = {
        "": CardType.RESIDENT,
        "J": CardType.HMT_PERMIT,
        "I": CardType.FOREIGN_PERMANENT_2017,
        "Y": CardType.FOREIGN_PERMANENT_2023,
    }
    if marker not in types:
        raise ProtocolError(f"unknown card type marker {marker!r}", code="card_type")
    return types[marker]


def decode_text(block: bytes) -> IdentityDocument:
    """The 256-byte text block of any supported card, as an ``IdentityDocument``."""
    if len(block) != TEXT_LENGTH:
        raise ProtocolError(f"text block is {len(block)} bytes, not 256", code="frame_length")
    card_type = card_type_of(block)
    if card_type is CardType.FOREIGN_PERMANENT_2017:
        valid_to, long_term = _valid_to(_text(block, 204, 16))
        return IdentityDocument(
            card_type=card_type,
            english_name=_text(block, 0, 120),
            sex=SEXES.get(_text(block, 120, 2), "unknown"),
            number=_text(block, 122, 30),
            nationality=_text(block, 152, 6),
            name=_text(block, 158, 30) or _text(block, 0, 120),
            valid_from=_date(_text(block, 188, 16), "issue date"),
            valid_to=valid_to,
            long_term=long_term,
            birth_date=_date(_text(block, 220, 16), "birth date"),
            issue_count=_text(block, 236, 4),
            issuer=_text(block, 240, 8),
        )
    valid_to, long_term = _valid_to(_text(block, 204, 16))
    common = {
        "card_type": card_type,
        "name": _text(block, 0, 30),
        "sex": SEXES.get(_text(block, 30, 2), "unknown"),
        "birth_date": _date(_text(block, 36, 16), "birth date"),
        "number": _text(block, 122, 36),
        "valid_from": _date(_text(block, 188, 16), "valid-from date"),
        "valid_to": valid_to,
        "long_term": long_term,
    }
    if card_type is CardType.FOREIGN_PERMANENT_2023:
        return IdentityDocument(
            **common,  # type: ignore[arg-type]
            issue_count=_text(block, 32, 4),
            english_name=(_text(block, 52, 70) + _text(block, 220, 22)).strip(),
            nationality=_text(block, 242, 6),
        )
    document = IdentityDocument(
        **common,  # type: ignore[arg-type]
        address=_text(block, 52, 70),
        issuer=_text(block, 158, 30),
    )
    if card_type is CardType.RESIDENT:
        return replace(document, nation=_text(block, 32, 4))
    return replace(document, pass_number=_text(block, 220, 18), issue_count=_text(block, 238, 4))
