"""Wrapping text to a receipt's columns: CJK and full-width characters take two columns.

Nothing is silently cut off: a line too long is wrapped, a word too long is broken.
"""

from __future__ import annotations

import unicodedata


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns; breaks at spaces for Latin text, anywhere for CJK."""
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            candidate = line + token
            if columns(candidate) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = token.lstrip()
            while columns(line) > width:  # a token longer than the line: break it
                cut = _fit(line, width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    word = ""
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        elif char == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


def _fit(text: str, width: int) -> int:
    used = 0
    for index, char in enumerate(text):
        used += columns(char)
        if used > width:
            return max(1, index)
    return len(text)
