"""Builds ``kiosk/ime/lexicon.tsv.gz``, the pinyin input method's word list, from jieba's
dictionary (word frequencies, MIT) and pypinyin (readings, MIT).

Not run by the build: the generated file is committed. Run it again to change the word list:
    python -m venv /tmp/lex && /tmp/lex/bin/pip install jieba pypinyin
    /tmp/lex/bin/python scripts/build_ime_lexicon.py
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import jieba  # type: ignore[import-not-found]
from pypinyin import Style, lazy_pinyin, pinyin  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent.parent / "kiosk" / "ime" / "lexicon.tsv.gz"
MIN_WORD_FREQ = 20  # about 70 000 words of two to four characters
HAN = re.compile(r"^[\u4e00-\u9fff]+$")
SYLLABLE = re.compile(r"^[a-z]+$")


def main() -> None:
    source = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
    rows: dict[tuple[str, str], int] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split()
        if not HAN.match(word) or len(word) > 4:
            continue
        count = int(freq)
        if len(word) == 1:  # every reading of a character
            for reading in pinyin(word, style=Style.NORMAL, heteronym=True)[0]:
                if SYLLABLE.match(reading):
                    key = (reading, word)
                    rows[key] = max(rows.get(key, 0), count)
            continue
        if count < MIN_WORD_FREQ:
            continue
        readings = lazy_pinyin(word, style=Style.NORMAL)
        if len(readings) != len(word) or not all(SYLLABLE.match(r) for r in readings):
            continue
        key = (" ".join(readings), word)
        rows[key] = max(rows.get(key, 0), count)
    lines = [f"{k}\t{w}\t{f}" for (k, w), f in sorted(rows.items())]
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(lines) + "\n")
    print(f"{len(lines)} entries → {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
