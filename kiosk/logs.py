"""Structured logging: one JSON object a line on stdout (journald keeps it), redacted.

The redaction runs in a filter on the handler, so no code path can log around it: messages,
arguments, exception text and structured ``extra`` fields all pass through it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, TextIO

from kiosk.redact import PERSONAL_KEYS, REDACTOR, Redactor, mask_value

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactionFilter(logging.Filter):
    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redactor(message)
        record.args = None
        if record.exc_info:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redactor(formatted)
            record.exc_info = None
        for key, value in list(vars(record).items()):
            if key in _STANDARD or not isinstance(value, str):
                continue
            masked = mask_value(key, value) if key in PERSONAL_KEYS else self.redactor(value)
            setattr(record, key, masked)
        return True


OWN_LOGGERS = ("kiosk", "drivers", "screens", "__main__")


class ThirdPartyFilter(logging.Filter):
    """Libraries speak at warning and above: their info (fontTools names every glyph it
    subsets) would drown the kiosk's own lines. The kiosk's loggers keep the root level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        name = record.name
        return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str = "INFO", stream: TextIO | None = None, file: Path | None = None
) -> logging.Handler:
    """Route every log record through the redaction filter to ``stream`` as JSON lines, and
    to a small rotating ``file`` as well when given (what maintenance exports to a USB stick;
    the journal keeps the full history)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handlers: list[logging.Handler] = [handler]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingFileHandler(file, maxBytes=2_000_000, backupCount=4))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_dengji", False):
            root.removeHandler(existing)
            existing.close()
    for item in handlers:
        item.addFilter(ThirdPartyFilter())
        item.addFilter(RedactionFilter())
        item.setFormatter(JsonFormatter())
        item._dengji = True  # type: ignore[attr-defined]
        root.addHandler(item)
    root.setLevel(level)
    return handler
