"""Strict reading of TOML tables into frozen dataclasses.

Every key must be known; an unknown key is an error naming the file, the dotted key, and the
nearest known key as a hint (a typo in a site config must stop the kiosk at start, not be
ignored for months). Types are checked, never coerced silently.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class StrictConfigError(ValueError):
    """A configuration or profile file that cannot be used, with where and why."""

    def __init__(self, source: str, key: str, problem: str, hint: str = "") -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.hint = hint
        where = f"{source}: {key}" if key else source
        text = f"{where}: {problem}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise StrictConfigError(str(path), "", "file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise StrictConfigError(str(path), "", f"not valid TOML: {err}") from None


def unknown_key_error(source: str, key: str, known: typing.Iterable[str]) -> StrictConfigError:
    known = sorted(known)
    leaf = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(leaf, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
    return StrictConfigError(source, key, "unknown key", hint)


def build(cls: type[T], data: dict[str, Any], source: str, prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; nested dataclass fields take nested tables."""
    if not isinstance(data, dict):
        raise StrictConfigError(source, prefix, f"expected a table, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            raise unknown_key_error(source, _join(prefix, key), fields)
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, field in fields.items():
        key = _join(prefix, name)
        if name in data:
            values[name] = convert(hints[name], data[name], source, key)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise StrictConfigError(source, key, "required key is missing")
    return cls(**values)


def convert(hint: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return convert(option, value, source, key)
            except StrictConfigError as err:
                errors.append(err.problem)
        raise StrictConfigError(source, key, "; ".join(errors))
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise StrictConfigError(source, key, f"{value!r} is not one of {choices}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise StrictConfigError(source, key, f"expected a list, got {type(value).__name__}")
        item = args[0] if args else Any
        items = [convert(item, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, source, key)
    if isinstance(hint, type) and issubclass(hint, str) and hint is not str:  # StrEnum
        try:
            return hint(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in hint)  # type: ignore[attr-defined]
            raise StrictConfigError(source, key, f"{value!r} is not one of {choices}") from None
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StrictConfigError(source, key, f"expected a number, got {value!r}")
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise StrictConfigError(source, key, "number out of range")
        if not math.isfinite(value):
            raise StrictConfigError(source, key, "expected a finite number")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise StrictConfigError(source, key, f"expected an integer, got {value!r}")
        if not INT64_MIN <= value <= INT64_MAX:  # what SQLite and every gateway store
            raise StrictConfigError(source, key, "integer out of range (64-bit signed)")
        return value
    if hint in (str, bool):
        if not isinstance(value, hint):
            raise StrictConfigError(source, key, f"expected {hint.__name__}, got {value!r}")
        if hint is str and not _encodable(value):  # JSON's "\ud800": no UTF-8 for it
            raise StrictConfigError(source, key, "text with a lone surrogate (not Unicode)")
        return value
    if hint is Any:
        return value
    raise StrictConfigError(source, key, f"unsupported field type {hint!r}")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key
