"""The CJK font for PDFs, fast.

fpdf2 parses the whole font for every document: for WenQuanYi Micro Hei (~30 000 glyphs) that
is ~350 ms, more than a query certificate may take. So documents use a subset of the font with
the 3 755 level-1 GB 2312 characters, ASCII and common symbols (~4 500 glyphs), built once per
machine into the cache folder; a document with any character outside it (a rare name) uses
the full font, so nothing ever prints as an empty box.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cache
from pathlib import Path

FULL_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
SYMBOLS = "，。、；：？！“”‘’（）【】《》—…·￥№㎡×÷±°℃"
_build_lock = threading.Lock()


def full_font() -> str:
    for candidate in FULL_FONTS:
        if Path(candidate).exists():
            return candidate
    raise FileNotFoundError("no Chinese font: install fonts-wqy-microhei")


def common_chars() -> set[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(SYMBOLS)
    # GB 2312 symbol rows and level 1 (the 3 755 most used characters); level 2 is rarer
    # and its characters take the full font.
    for high in (*range(0xA1, 0xAA), *range(0xB0, 0xD8)):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dengji-kiosk" / "fonts"


@cache
def common_font() -> tuple[str, frozenset[str]]:
    """(path of the subset font, the characters it covers), built once per machine."""
    source = Path(full_font())
    stat = source.stat()
    chars = "".join(sorted(common_chars()))
    key = hashlib.sha1(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{chars}".encode()).hexdigest()[
        :12
    ]
    target = _cache_dir() / f"cjk-common-{key}.ttf"
    covered_file = target.with_suffix(".chars")
    with _build_lock:
        if not target.exists() or not covered_file.exists():
            from fontTools import subset, ttLib

            font = ttLib.TTFont(str(source), fontNumber=0)
            available = {chr(c) for c in font.getBestCmap()}
            covered = set(chars) & available
            subsetter = subset.Subsetter(subset.Options())
            subsetter.populate(text="".join(sorted(covered)))
            subsetter.subset(font)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            font.save(str(tmp))
            covered_file.write_text("".join(sorted(covered)), encoding="utf-8")
            tmp.replace(target)
        covered_text = covered_file.read_text(encoding="utf-8")
    return str(target), frozenset(covered_text)


def font_for(*texts: str) -> str:
    """The quick subset when it covers every character of ``texts``, else the full font."""
    try:
        path, covered = common_font()
    except Exception:  # no fontTools subsetting possible: the full font always works
        return full_font()
    needed = {c for text in texts for c in text if not c.isspace()}
    return path if needed <= covered else full_font()


def warm_up() -> None:
    """Build the subset in the background at start, so no person waits for it."""
    threading.Thread(target=common_font, name="font-cache", daemon=True).start()
