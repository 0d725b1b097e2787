"""Voice prompts: every step says what to do in Mandarin (espeak-ng's ``cmn-latn-pinyin``
voice), on by default in the senior mode, slower there, with a mute button on every screen.

Prompts are fixed step texts, never personal data; each is rendered once to a WAV in the
cache folder and played from there. Playing is the UI's business (``screens``): this module
only decides what to say and makes the sound file.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

VOICE = "cmn-latn-pinyin"
NORMAL_WPM = 165
SENIOR_WPM = 120


@dataclass
class VoicePrompts:
    cache: Path
    enabled_by_default: bool = False  # the senior mode turns it on
    muted: bool = False
    senior: bool = False
    wanted: bool = False  # the person turned it on for this visit
    last: str = ""  # the last prompt asked for (what a person would have heard)

    @property
    def available(self) -> bool:
        return shutil.which("espeak-ng") is not None

    @property
    def on(self) -> bool:
        return (self.enabled_by_default or self.senior or self.wanted) and not self.muted

    def reset(self) -> None:
        """A new visit: the defaults again."""
        self.muted, self.senior, self.wanted, self.last = False, False, False, ""

    def render(self, text: str) -> Path | None:
        """The prompt as a WAV file (cached); None when espeak-ng is missing or fails."""
        speed = SENIOR_WPM if self.senior else NORMAL_WPM
        digest = hashlib.sha256(f"{VOICE}|{speed}|{text}".encode()).hexdigest()[:20]
        target = self.cache / f"{digest}.wav"
        if target.exists():
            return target
        if not self.available:
            return None
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        result = subprocess.run(
            ["espeak-ng", "-v", VOICE, "-s", str(speed), "-w", str(tmp), text],
            capture_output=True,
            timeout=20,
            check=False,
        )
        if result.returncode != 0 or not tmp.exists():
            log.warning("voice prompt not rendered", extra={"error": result.stderr[-200:]})
            return None
        tmp.replace(target)
        return target

    def say(self, text: str) -> Path | None:
        """The file to play for ``text`` now, or None (muted, off, or no speech engine)."""
        self.last = text
        if not self.on or not text:
            return None
        return self.render(text)
