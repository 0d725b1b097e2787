"""A pinyin input method, good enough for an address line or a name on a kiosk: type letters,
pick a word or a character from the candidates, go on with what is left.

The word list (``lexicon.tsv.gz``, built by ``scripts/build_ime_lexicon.py`` from jieba's
frequencies and pypinyin's readings) has about 86 000 entries: every common character under each
of its readings and the words of two to four characters. Letters are split into syllables
longest first ("zhongshanlu" → zhong shan lu); the last may be unfinished ("zhongshanl" offers
中山路 too). Candidates: the longest words that match first, then shorter ones, then characters,
each by frequency, the parts of an address (号, 栋, 单元, 小区…) before the rest. Picking one
consumes its syllables; the rest stays to be typed on.
"""

from __future__ import annotations

import gzip
import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON = Path(__file__).with_name("lexicon.tsv.gz")
MAX_CANDIDATES = 60
# what addresses are made of: offered before more frequent words of the same sound
ADDRESS_TERMS = frozenset(
    [
        "省",
        "市",
        "区",
        "县",
        "镇",
        "乡",
        "村",
        "组",
        "路",
        "街",
        "道",
        "巷",
        "弄",
        "里",
        "号",
        "栋",
        "幢",
        "座",
        "楼",
        "层",
        "单元",
        "室",
        "小区",
        "花园",
        "公寓",
        "社区",
        "大道",
        "新村",
        "家园",
        "苑",
        "院",
        "号楼",
        "街道",
        "大厦",
    ]
)
ADDRESS_BOOST = 100
MAX_LETTERS = 40


@dataclass(frozen=True)
class Candidate:
    text: str
    letters: int  # how many typed letters it consumes


class Lexicon:
    """Words by their syllables; loaded once per process (about a quarter of a second)."""

    def __init__(self, path: Path = LEXICON) -> None:
        # (syllables but the last) → [(last syllable, word, frequency)], by frequency
        self.by_head: dict[tuple[str, ...], list[tuple[str, str, int]]] = defaultdict(list)
        self.syllables: set[str] = set()
        with gzip.open(path, "rt", encoding="utf-8") as source:
            for line in source:
                key, word, freq = line.rstrip("\n").split("\t")
                parts = tuple(key.split(" "))
                if len(parts) == 1:
                    self.syllables.add(parts[0])
                weight = int(freq) * (ADDRESS_BOOST if word in ADDRESS_TERMS else 1)
                self.by_head[parts[:-1]].append((parts[-1], word, weight))
        for entries in self.by_head.values():
            entries.sort(key=lambda e: -e[2])
        self.prefixes = {s[:i] for s in self.syllables for i in range(1, len(s) + 1)}

    def split(self, letters: str) -> list[str]:
        """Syllables, longest first; the last may be the start of one."""
        out: list[str] = []
        i = 0
        while i < len(letters):
            for j in range(min(len(letters), i + 6), i, -1):
                piece = letters[i:j]
                whole = piece in self.syllables
                # a whole syllable, or the unfinished end of the input
                if whole or (j == len(letters) and piece in self.prefixes):
                    # "xian" + "g..." : prefer a split that lets the rest go on
                    if whole and j < len(letters) and not self._can_go_on(letters[j:]):
                        continue
                    out.append(piece)
                    i = j
                    break
            else:
                out.append(letters[i])  # not pinyin: kept as it is, offers nothing
                i += 1
        return out

    def _can_go_on(self, rest: str) -> bool:
        return any(rest[:k] in self.prefixes for k in range(1, min(len(rest), 6) + 1))

    def words(self, syllables: tuple[str, ...], last_unfinished: bool) -> list[str]:
        head, last = syllables[:-1], syllables[-1]
        return [
            word
            for tail, word, _freq in self.by_head.get(head, ())
            if tail == last or (last_unfinished and tail.startswith(last))
        ]


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _lexicon() -> Lexicon:
    return Lexicon()


def lexicon() -> Lexicon:
    with _lock:
        return _lexicon()


def candidates(letters: str, lex: Lexicon | None = None) -> list[Candidate]:
    """What the typed letters may mean, the likeliest first."""
    letters = letters.lower()[:MAX_LETTERS]
    if not letters:
        return []
    lex = lex or lexicon()
    parts = lex.split(letters)
    unfinished = parts[-1] not in lex.syllables
    out: list[Candidate] = []
    seen: set[str] = set()
    for count in range(min(len(parts), 4), 0, -1):
        used = sum(len(p) for p in parts[:count])
        last_open = unfinished and count == len(parts)
        for word in lex.words(tuple(parts[:count]), last_open):
            if word not in seen and len(word) == count:
                seen.add(word)
                out.append(Candidate(word, used))
                if len(out) >= MAX_CANDIDATES:
                    return out
    return out


class Composer:
    """The letters being typed and the text chosen so far for one field."""

    def __init__(self, lex: Lexicon | None = None) -> None:
        self._lex = lex
        self.letters = ""
        self.chosen = ""

    @property
    def candidates(self) -> list[Candidate]:
        return candidates(self.letters, self._lex)

    def type(self, letter: str) -> None:
        if len(self.letters) < MAX_LETTERS and letter.isascii() and letter.isalpha():
            self.letters += letter.lower()

    def backspace(self) -> bool:
        """Deletes a typed letter; False when there are none (the field's text goes next)."""
        if not self.letters:
            return False
        self.letters = self.letters[:-1]
        return True

    def pick(self, candidate: Candidate) -> str:
        """The candidate's text goes into the field; returns it."""
        self.letters = self.letters[candidate.letters :]
        self.chosen += candidate.text
        return candidate.text

    def clear(self) -> None:
        self.letters = ""
        self.chosen = ""
