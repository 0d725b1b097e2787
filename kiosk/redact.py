"""Masking of personal data for logs, diagnostics and anything that leaves the session.

ID numbers keep their first 3 and last 4 characters; phone numbers keep 3 and 4; names keep
their first character. Free text is scanned for ID and phone numbers; names cannot be found by
a pattern, so the session registers the names it holds (and drops them when it is wiped), and
structured fields with personal meaning are masked by key.
"""

from __future__ import annotations

import re
import threading

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{10,11}(\d{3}[\dXx])(?![0-9A-Za-z])")
# as for ID numbers, a letter or digit beside it means it is part of something else (a hex
# session id such as "473aa17862324086ae9…" holds eleven digits that look like a mobile)
MOBILE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?![0-9A-Za-z])"
)
PERSONAL_KEYS = frozenset(
    {"person", "holder", "applicant", "id_number", "phone", "mobile", "address", "card_number"}
)


def mask_id_number(value: str) -> str:
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)[-11:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def mask_value(key: str, value: str) -> str:
    """Mask a structured field by what its key says it holds."""
    if key in ("id_number", "card_number"):
        return mask_id_number(value)
    if key in ("phone", "mobile"):
        return mask_phone(value)
    if key == "address":
        return value[:6] + "…" if len(value) > 6 else "…"
    return mask_name(value)


class Redactor:
    """Masks known personal values and personal-data patterns in free text. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: set[str] = set()

    def register_name(self, name: str) -> None:
        if len(name.strip()) >= 2:
            with self._lock:
                self._names.add(name.strip())

    def forget_names(self) -> None:
        with self._lock:
            self._names.clear()

    def __call__(self, text: str) -> str:
        text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
        text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
        with self._lock:
            names = sorted(self._names, key=len, reverse=True)
        for name in names:
            text = text.replace(name, mask_name(name))
        return text


REDACTOR = Redactor()
