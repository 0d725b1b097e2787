from __future__ import annotations

from kiosk.config import SessionSection
from kiosk.events import EventBus
from kiosk.redact import REDACTOR
from kiosk.session import Phase, Session


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(elder: bool = False) -> tuple[Session, FakeClock, list[str]]:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("session:*", lambda name, _payload: seen.append(name))
    clock = FakeClock()
    session = Session(SessionSection(idle_timeout_s=60, warning_s=15), bus, clock)
    session.elder = elder
    return session, clock, seen


def test_idle_warning_then_end() -> None:
    session, clock, seen = make()
    clock.now += 59
    assert session.tick() is Phase.ACTIVE
    clock.now += 1
    assert session.tick() is Phase.WARNING
    assert session.seconds_left() == 15
    clock.now += 15
    assert session.tick() is Phase.ENDED
    assert session.end_reason == "idle"
    assert seen == ["session:warning", "session:ended"]


def test_a_touch_during_the_warning_resumes() -> None:
    session, clock, seen = make()
    clock.now += 65
    assert session.tick() is Phase.WARNING
    session.touch()
    assert session.phase is Phase.ACTIVE
    clock.now += 59
    assert session.tick() is Phase.ACTIVE
    assert seen == ["session:warning", "session:resumed"]


def test_elder_mode_doubles_the_time() -> None:
    session, clock, _ = make(elder=True)
    clock.now += 119
    assert session.tick() is Phase.ACTIVE
    clock.now += 1
    assert session.tick() is Phase.WARNING


def test_end_wipes_personal_data_and_names() -> None:
    session, _, _ = make()
    session.remember_person("identity", {"number": "11010519491231002X"}, name="张建国")
    assert REDACTOR("张建国") == "张**"
    session.end("cancel")
    assert session.data == {}
    assert REDACTOR("张建国") == "张建国"
    session.touch()
    assert session.phase is Phase.ENDED
