"""Voice prompts: Mandarin speech rendered by espeak-ng, slower for seniors, cached, muted."""

from __future__ import annotations

import wave
from pathlib import Path

from kiosk.voice import VoicePrompts

PROMPT = "请将身份证放在下方感应区"


def seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        return float(audio.getnframes()) / float(audio.getframerate())


def test_a_prompt_is_spoken_in_mandarin_and_cached(tmp_path: Path) -> None:
    voice = VoicePrompts(tmp_path, enabled_by_default=True)
    assert voice.available
    path = voice.say(PROMPT)
    assert path is not None and path.read_bytes()[:4] == b"RIFF"
    assert 1.0 < seconds(path) < 8.0  # about twelve syllables
    mtime = path.stat().st_mtime_ns
    assert voice.say(PROMPT) == path and path.stat().st_mtime_ns == mtime  # rendered once
    assert voice.last == PROMPT


def test_seniors_hear_it_slower_and_muting_silences_it(tmp_path: Path) -> None:
    voice = VoicePrompts(tmp_path)
    assert voice.say(PROMPT) is None  # off by default for everyone else
    voice.senior = True
    slow = voice.say(PROMPT)
    normal = VoicePrompts(tmp_path, enabled_by_default=True).say(PROMPT)
    assert slow is not None and normal is not None and slow != normal
    assert seconds(slow) > seconds(normal) * 1.2
    voice.muted = True
    assert voice.say(PROMPT) is None and voice.last == PROMPT
    voice.reset()
    assert not voice.senior and not voice.muted and voice.say(PROMPT) is None
