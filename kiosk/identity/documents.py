"""Whether an identity document read from a card may be used, and why not, in two languages.

Numbers are checked with the kiosk's identifier validators (GB 11643 for resident IDs, HMT
permits and 2023 foreigner cards; the 2017 foreigner card's 15 characters are checked for
shape). An expired card is refused with a clear message. Decoding is the driver's business;
this is the kiosk's judgement.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from drivers.idcard.identity import CardType, IdentityDocument
from kiosk.identifiers import id_number_problem

HMT_PREFIXES = ("810000", "820000", "830000")


@dataclass(frozen=True)
class DocumentProblem:
    code: str
    zh: str
    en: str


class DocumentRefused(Exception):
    def __init__(self, problem: DocumentProblem) -> None:
        super().__init__(problem.en)
        self.problem = problem


def document_problem(document: IdentityDocument, today: dt.date) -> DocumentProblem | None:
    number = document.number
    kind = document.card_type
    if kind in (CardType.RESIDENT, CardType.HMT_PERMIT, CardType.FOREIGN_PERMANENT_2023):
        problem = id_number_problem(number, today)
        if kind is CardType.HMT_PERMIT and not number.startswith(HMT_PREFIXES):
            problem = "a residence permit number starts with 810000, 820000 or 830000"
        if kind is CardType.FOREIGN_PERMANENT_2023 and not number.startswith("9"):
            problem = "a 2023 permanent residence number starts with 9"
        if problem:
            return DocumentProblem(
                "bad_number",
                "证件号码校验未通过，请到人工窗口办理",
                f"The card number failed its check ({problem}); please go to a counter",
            )
    elif kind is CardType.FOREIGN_PERMANENT_2017 and not re.fullmatch(r"[A-Z]{3}\d{12}", number):
        return DocumentProblem(
            "bad_number",
            "证件号码格式不正确，请到人工窗口办理",
            "The card number is malformed; please go to a counter",
        )
    if document.expired(today):
        assert document.valid_to is not None
        return DocumentProblem(
            "expired",
            f"您的证件已于{document.valid_to:%Y年%m月%d日}过期，请使用有效证件",
            f"Your card expired on {document.valid_to:%Y-%m-%d}; please use a valid card",
        )
    if document.valid_from is not None and document.valid_from > today:
        return DocumentProblem("not_yet_valid", "证件尚未生效", "The card is not valid yet")
    return None


def check_document(document: IdentityDocument, today: dt.date) -> IdentityDocument:
    problem = document_problem(document, today)
    if problem is not None:
        raise DocumentRefused(problem)
    return document
