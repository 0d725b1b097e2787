"""预约办理: the free slots of the next five working days from the registry, a day, a time,
booked for the person verified at the kiosk, a slip with the code; and the registry's rules
(capacity, one open appointment per service, only bookable slots), each tried."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.flows.runner import Phase
from kiosk.flows.spec import StepKind
from kiosk.sandbox.handlers import APPOINTMENT_SERVICES, SLOT_CAPACITY
from tests.backend_fixtures import Registry
from tests.runner_harness import Kit, play, start_kit


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def test_slots_are_the_next_five_working_days_during_opening_hours(registry: Registry) -> None:
    slots = registry.client.list_slots("counter").slots
    days = sorted({s.slot[:10] for s in slots})
    assert len(days) == 5
    assert all(dt.date.fromisoformat(d).weekday() < 5 for d in days)  # no weekend
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert days[0] > today  # from tomorrow on
    times = {s.slot[11:] for s in slots}
    assert min(times) == "09:00" and max(times) == "16:30" and "12:00" not in times
    assert all(s.free == SLOT_CAPACITY for s in slots)


def test_a_person_books_a_slot_and_takes_the_slip(kit: Kit) -> None:
    visit = kit.visit("book_appointment")
    services = play(visit, until=StepKind.CHOOSE)
    keys = [c.key for c in services.choices]
    assert keys == list(APPOINTMENT_SERVICES)  # what the registry books, in its order
    assert "new_home_transfer" in keys  # a new flat's transfer at the counter too
    visit.runner.choose("private_mortgage")
    days = visit.screens.last
    assert days.items == "booking_days" and len(days.choices) == 5
    assert days.choices[0].second_zh.startswith(f"余 {SLOT_CAPACITY * 15} 个")
    visit.runner.choose(days.choices[1].key)
    times = visit.screens.last
    assert times.items == "booking_times" and times.choices[0].lead_zh == "09:00"
    slot = times.choices[2].key
    visit.runner.choose(slot)
    done = visit.screens.last
    assert done.kind is StepKind.DONE, done.lead_en
    booked = visit.journey.ctx.booked
    assert booked is not None and booked.slot == slot and booked.service == "private_mortgage"
    assert f"预约号 Appointment: {booked.code}" in done.outputs
    (slip,) = kit.printers.printed
    text = "".join(str(getattr(op, "text", "")) for op in slip.what)
    assert booked.code in text and slot.replace("T", " ") in text
    with sqlite3.connect(kit.registry.sandbox.db_path) as conn:
        row = conn.execute(
            "SELECT id_number, service, slot FROM appointments WHERE code = ?", (booked.code,)
        ).fetchone()
    assert row == (DEMO_CARDS[0].number, "private_mortgage", slot)
    # one left fewer in that slot for the next person
    after = {s.slot: s.free for s in kit.registry.client.list_slots("private_mortgage").slots}
    assert after[slot] == SLOT_CAPACITY - 1
    assert ("appointment.book", "booked") in visit.actions()


def test_a_slot_taken_meanwhile_goes_back_to_the_times_to_choose_another(kit: Kit) -> None:
    visit = kit.visit("book_appointment")
    play(visit, until=StepKind.CHOOSE)
    visit.runner.choose("counter")
    visit.runner.choose(visit.screens.last.choices[0].key)
    slot = visit.screens.last.choices[0].key
    with sqlite3.connect(kit.registry.sandbox.db_path) as conn:  # others booked it meanwhile
        for i in range(SLOT_CAPACITY):
            conn.execute(
                "INSERT INTO appointments VALUES (?, ?, 'counter', ?, 0)",
                (f"YYFULL{i:06d}", DEMO_CARDS[1].number, slot),
            )
    visit.runner.choose(slot)
    full = visit.screens.last
    assert full.phase is Phase.FAILED and full.message is not None
    assert full.message.code == "slot_full" and full.can_retry
    visit.runner.retry(full.message)
    again = visit.screens.last
    assert again.items == "booking_times" and slot not in [c.key for c in again.choices]
    visit.runner.choose(again.choices[0].key)
    assert visit.screens.last.kind is StepKind.DONE


def test_one_open_appointment_per_service(registry: Registry) -> None:
    person = registry.verify().verification_id
    first, second = registry.client.list_slots("counter").slots[:2]
    registry.client.book_appointment(m.BookAppointment(person, "counter", first.slot))
    with pytest.raises(BackendError) as refused:
        registry.client.book_appointment(m.BookAppointment(person, "counter", second.slot))
    assert refused.value.error == "already_booked"
    other = registry.client.book_appointment(  # another service is another appointment
        m.BookAppointment(person, "certificate_reissue", second.slot)
    )
    assert other.service == "certificate_reissue"


@pytest.mark.parametrize(
    ("service", "slot", "error"),
    [
        ("counter", "2020-01-06T09:00", "slot_closed"),  # the past
        ("counter", "DAY0T12:00", "slot_closed"),  # lunch
        ("counter", "DAY0T08:30", "slot_closed"),  # before opening
        ("query_certificate", "DAY0T09:00", "invalid"),  # done at the kiosk, not booked
    ],
)
def test_only_a_bookable_slot_is_booked(
    registry: Registry, service: str, slot: str, error: str
) -> None:
    day = registry.client.list_slots("counter").slots[0].slot[:10]
    person = registry.verify().verification_id
    with pytest.raises(BackendError) as refused:
        registry.client.book_appointment(
            m.BookAppointment(person, service, slot.replace("DAY0", day))
        )
    assert refused.value.error == error


def test_booking_needs_a_verification_made_here(registry: Registry) -> None:
    slot = registry.client.list_slots("counter").slots[0].slot
    with pytest.raises(BackendError) as refused:
        registry.client.book_appointment(m.BookAppointment("VNOSUCH", "counter", slot))
    assert refused.value.status == 404
