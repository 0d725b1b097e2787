"""The pinyin input method on its real word list: syllable splitting, candidates, picking."""

from __future__ import annotations

from kiosk.ime.pinyin import MAX_LETTERS, Composer, candidates, lexicon


def texts(letters: str) -> list[str]:
    return [c.text for c in candidates(letters)]


def test_syllables_split_longest_first_and_the_end_may_be_unfinished() -> None:
    lex = lexicon()
    assert lex.split("zhongshanlu") == ["zhong", "shan", "lu"]
    assert lex.split("xianggang") == ["xiang", "gang"]
    assert lex.split("zhongshanl") == ["zhong", "shan", "l"]
    assert lex.split("danyuan") == ["dan", "yuan"]


def test_address_words_come_first() -> None:
    assert texts("zhongshanlu")[0] == "中山路"
    assert "中山路" in texts("zhongshanl")[:3]  # the last syllable not finished yet
    assert texts("danyuan")[0] == "单元"
    assert texts("xiaoqu")[0] == "小区"
    assert "号" in texts("hao")[:3]
    assert "栋" in texts("dong")[:8]
    assert "室" in texts("shi")[:8]
    assert texts("chaoyangqu")[0] == "朝阳区"


def test_longer_words_then_shorter_then_characters() -> None:
    found = candidates("wangfujing")
    assert [c.text for c in found[:3]] == ["王府井", "王府", "往复"]
    by_length = [len(c.text) for c in found]
    assert by_length == sorted(by_length, reverse=True)
    assert found[0].letters == len("wangfujing")
    assert next(c for c in found if c.text == "王府").letters == len("wangfu")


def test_picking_consumes_its_syllables_and_the_rest_stays() -> None:
    composer = Composer()
    for letter in "xingfulu":
        composer.type(letter)
    first = next(c for c in composer.candidates if c.text == "幸福")
    assert composer.pick(first) == "幸福"
    assert composer.letters == "lu"
    assert composer.pick(next(c for c in composer.candidates if c.text == "路")) == "路"
    assert composer.letters == "" and composer.chosen == "幸福路"
    assert composer.candidates == []


def test_typing_is_bounded_and_odd_input_offers_nothing_harmful() -> None:
    composer = Composer()
    for _ in range(MAX_LETTERS + 10):
        composer.type("a")
    assert len(composer.letters) == MAX_LETTERS
    composer.type("1")
    composer.type("中")
    assert set(composer.letters) == {"a"}
    assert candidates("") == []
    assert all(len(c.text) >= 1 for c in candidates("vvvv"))
    assert composer.backspace() and len(composer.letters) == MAX_LETTERS - 1
    composer.clear()
    assert not composer.backspace()
