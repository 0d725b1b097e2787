"""A journey without Kivy and without emulators: the real sandbox registry (its own database),
the real durable outbox, in-memory devices and printers that record what they were given, and
a player that does what each step's screen would do for the person.

The devices and printers are stand-ins on purpose: the drivers are tested against their
emulators elsewhere; here the question is the journey's logic, and it must run in
milliseconds.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.base import Detail, Role, State, Status
from drivers.idcard.identity import IdentityDocument, decode_text
from drivers.idcard.sam_emulator import DEMO_CARDS, DemoCard
from kiosk.audit import AuditLog
from kiosk.card_reader import CardReader
from kiosk.documents.scan import ScanBatch
from kiosk.events import EventBus
from kiosk.flows.deps import JourneyServices
from kiosk.flows.journey import Journey
from kiosk.flows.runner import JourneyRunner, Phase, StepView
from kiosk.flows.spec import FlowSpec, StepKind, load_flows
from kiosk.messages import UserMessage
from kiosk.outbox import Outbox
from kiosk.printing import PrintOutcome, PrintState
from kiosk.sandbox.seed import DEMO_AUTHORIZATION, DEMO_OBJECTION_UNIT
from kiosk.sealing import Sealer
from tests.backend_fixtures import Registry, signature_jpeg
from tests.synthetic_pages import page_image

FLOWS = load_flows()


class Card:
    """The reader's stand-in: a card on it (or not), and what reading it gives. Putting a
    card down or taking it away is published as the reader's supervisor would."""

    def __init__(self, bus: EventBus, card: DemoCard | None = DEMO_CARDS[0]) -> None:
        self.bus = bus
        self._card = card

    @property
    def card(self) -> DemoCard | None:
        return self._card

    @card.setter
    def card(self, card: DemoCard | None) -> None:
        self._card = card
        self.bus.publish("idcard:status", self.status())

    def status(self) -> Status:
        detail = Detail.CARD_PRESENT if self._card is not None else Detail.NO_CARD
        return Status(State.READY, frozenset({detail}))

    def read_identity(self) -> IdentityDocument:
        assert self._card is not None
        return decode_text(self._card.text_block())


class PeopleInLine(CardReader):
    """The reader with the other parties of a sitting waiting their turn: when the journey
    waits for the card on the reader to be taken away (a party step), the person at the
    machine takes theirs and the next in ``line`` places their own, as the screen asks.
    With nobody left in line, nobody comes: the wait is over at once, as if its time ran
    out (the runner's tests do not wait on the clock)."""

    def __init__(self, devices: Devices, bus: EventBus) -> None:
        super().__init__(devices, bus)
        self.devices = devices
        # the private mortgage demo: the co-owner (the Hong Kong card), then the lender
        self.line: list[DemoCard] = [DEMO_CARDS[2], DEMO_CARDS[4]]

    def wait_removed(self, over: threading.Event, timeout_s: float) -> bool:
        if not self.line:
            return not self.present()
        self.devices.reader.card = None
        removed = super().wait_removed(over, timeout_s)
        self.devices.reader.card = self.line.pop(0)
        return removed


class Devices:
    """Device jobs run in place on the stand-ins; every role is ready unless set otherwise."""

    def __init__(self) -> None:
        self.bus = EventBus()
        self.reader = Card(self.bus)
        self.states: dict[Role, State] = {role: State.READY for role in Role}

    def submit(self, role: Role, job: Callable[[Any], Any]) -> Future[Any]:
        assert role is Role.IDCARD, role
        future: Future[Any] = Future()
        try:
            future.set_result(job(self.reader))
        except Exception as err:
            future.set_exception(err)
        return future

    def statuses(self) -> dict[Role, Status]:
        statuses = {role: Status(state) for role, state in self.states.items()}
        if self.states[Role.IDCARD] is State.READY:
            statuses[Role.IDCARD] = self.reader.status()
        return statuses


@dataclass
class Printed:
    action_id: str
    kind: str
    what: Any


@dataclass
class Printers:
    """Records each print; ``fail`` makes the next prints of a kind fail with a message."""

    printed: list[Printed] = field(default_factory=list)
    fail: dict[str, UserMessage] = field(default_factory=dict)
    _sheet: int = 0

    def _outcome(self, action_id: str, kind: str, what: Any) -> PrintOutcome:
        if kind in self.fail:
            return PrintOutcome(action_id, PrintState.FAILED, message=self.fail[kind])
        self.printed.append(Printed(action_id, kind, what))
        return PrintOutcome(action_id, PrintState.PRINTED)

    def receipt(self, action_id: str, ops: list[Any], *, kind: str = "receipt") -> PrintOutcome:
        return self._outcome(action_id, kind, ops)

    def document(
        self, action_id: str, pdf: bytes, title: str, *, kind: str = "document"
    ) -> PrintOutcome:
        return self._outcome(action_id, kind, pdf)

    def certificate(self, action_id: str, data: Any) -> PrintOutcome:
        outcome = self._outcome(action_id, "certificate", data)
        if outcome.ok:
            self._sheet += 1
            return PrintOutcome(action_id, PrintState.PRINTED, paper_serial=f"T{self._sheet:07d}")
        return outcome

    def kinds(self) -> list[str]:
        return [p.kind for p in self.printed]


class Link:
    """The registry link as a journey sees it; ``up`` can be turned off."""

    def __init__(self, registry: Registry, folder: Path) -> None:
        self.client: Any = registry.client
        self.outbox: Outbox | None = Outbox(
            folder / "outbox.db", registry.client, Sealer(folder / "outbox.key"), EventBus()
        )
        self.up = True
        self.outbox.start(interval_s=0.02)  # a submission is sent while the journey waits


@dataclass
class Screens:
    """The runner's views: what was rendered and said, and how the visit ended."""

    views: list[StepView] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    large: bool = False  # the larger text is on
    removals: int = 0  # the card's removal, heard (on the reader's thread)
    asked: list[float] = field(default_factory=list)  # "go on?" after a removal, its grace

    def large_text(self) -> bool:
        return self.large

    def card_removed(self) -> None:
        self.removals += 1

    def ask_card_back(self, grace_s: float) -> None:
        self.asked.append(grace_s)

    def render(self, view: StepView) -> None:
        self.views.append(view)

    def say(self, text: str) -> None:
        self.said.append(text)

    def end_visit(self, reason: str) -> None:
        self.ended.append(reason)

    @property
    def last(self) -> StepView:
        return self.views[-1]

    def screens(self) -> list[str]:
        return [v.screen if v.phase is Phase.STEP else v.phase.value for v in self.views]


@dataclass
class Visit:
    runner: JourneyRunner
    screens: Screens
    devices: Devices
    printers: Printers
    link: Link
    registry: Registry
    audit: AuditLog

    @property
    def journey(self) -> Journey:
        return self.runner.journey

    def actions(self) -> list[tuple[str, str]]:
        return [(r.action, r.outcome) for r in self.audit.records()]


@dataclass
class Kit:
    """One registry, link and audit log for a test; visits share them."""

    registry: Registry
    folder: Path
    devices: Devices = field(default_factory=Devices)
    printers: Printers = field(default_factory=Printers)
    link: Link | None = None
    audit: AuditLog | None = None
    today: dt.date = field(default_factory=dt.date.today)
    maker_checker: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.card = PeopleInLine(self.devices, self.devices.bus)
        self.link = Link(self.registry, self.folder)
        self.audit = AuditLog(self.folder / "audit.db")

    def visit(self, flow: str | FlowSpec, operator: Any = None) -> Visit:
        spec = FLOWS[flow] if isinstance(flow, str) else flow
        assert self.link is not None and self.audit is not None
        services = JourneyServices(
            registry=self.link,
            devices=self.devices,
            printing=self.printers,
            card=self.card,
            audit=self.audit,
            today=lambda: self.today,
            maker_checker=self.maker_checker,
        )
        screens = Screens()
        journey = Journey(spec, services, "S-test", operator)
        runner = JourneyRunner(journey, screens)
        return Visit(
            runner, screens, self.devices, self.printers, self.link, self.registry, self.audit
        )

    def hold_outbox(self) -> Outbox:
        """The outbox of a kiosk started with the network down: nothing leaves until the test
        calls ``deliver_due``."""
        assert self.link is not None and self.link.outbox is not None
        self.link.outbox.stop()
        self.link.outbox = Outbox(
            self.folder / "outbox.db", self.registry.client, Sealer(self.folder / "outbox.key")
        )
        return self.link.outbox

    def close(self) -> None:
        if self.link is not None and self.link.outbox is not None:
            self.link.outbox.stop()


def start_kit(registry: Registry, folder: Path) -> Iterator[Kit]:
    kit = Kit(registry, folder)
    try:
        yield kit
    finally:
        kit.close()


@dataclass
class Verified:
    """What the face step hands the runner when it passed."""

    verification_id: str


def play(
    visit: Visit,
    until: StepKind | None = None,
    senior: bool = False,
    scan: Callable[[], ScanBatch] | None = None,
) -> StepView:
    """Do what a person who goes along with everything does on each step's screen, through
    the runner's intents, until the journey is done, fails, hands off, or reaches ``until``.
    Returns the last view."""
    runner, journey, registry = visit.runner, visit.journey, visit.registry
    if not visit.screens.views:
        runner.start()
    for _ in range(60):
        view = visit.screens.last
        if view.phase is not Phase.STEP or view.kind is until or view.kind is StepKind.DONE:
            return view
        kind = view.kind
        if kind is StepKind.ID_AUTH:
            assert view.offer == "elder", "the card was read and nothing came next"
            runner.elder_answer(senior)
        elif view.screen == "step_face_intro":  # the applicant's, or a party's
            document = journey.person_document()
            assert document is not None
            verification = registry.verify(document.number, document.name)
            runner.face_finished(Verified(verification.verification_id))
        elif kind is StepKind.PARTY:
            raise AssertionError(f"a party step waits for a card: {view.lead_en}")
        elif kind is StepKind.CONSENT:
            runner.agree()
        elif kind is StepKind.RESULT:
            assert not view.loading
            runner.print_result()
        elif kind is StepKind.CHOOSE:
            available = [c for c in view.choices if c.available]
            assert available, f"nothing to choose: {view.lead_en}"
            runner.choose(available[0].key)
        elif kind is StepKind.PAY:
            assert view.status == "waiting" and journey.ctx.order is not None, view.status
            registry.control.pay(journey.ctx.order.order_id)  # paid with a phone
            runner.check_payment()
        elif kind is StepKind.FORM:
            problems = journey.fill_form({**journey.form_values(), **TYPED})
            assert not problems, problems
            runner.next()
        elif kind is StepKind.SCAN:
            runner.scanned(scan() if scan is not None else scanned_pages())
        elif kind is StepKind.REVIEW:
            runner.next()
        elif kind is StepKind.SIGN:
            wanted = journey.signer_wanted() if view.sign_texts[0].startswith("请") else None
            if journey.step.param("signer") == "parties" and wanted is not None:
                runner.signed(signature_jpeg(f"party-{wanted[0]}"))  # each their own hand
            else:
                runner.signed(SIGNATURE)
        else:
            raise AssertionError(f"no screen plays {kind}")
    raise AssertionError("the journey went round in circles")


def scanned_pages() -> ScanBatch:
    """One page as the scan step hands it over (a printed contract, photographed flat)."""
    batch = ScanBatch()
    batch.add(page_image(600))
    return batch


# what the person types where the kiosk cannot know it (the demo card holder's data)
TYPED = {
    "phone": "13800138000",
    "authorization_code": DEMO_AUTHORIZATION,
    "verification_code": "0123456789AB",  # a proof's code (none has it: not found)
    "unit_code": DEMO_OBJECTION_UNIT,  # the unit the demo holder objects to (王芳's flat)
    # whom a holder authorizes to query their unit (李娜's resident number)
    "grantee_name": "李娜",
    "grantee_id_number": "320102198806151246",
    # a bank operator's loan terms
    "amount": "800000",
    "term_from": "20261201",
    "term_to": "20461130",
    "new_amount": "300000",
    "new_term_to": "20401231",
}
SIGNATURE = signature_jpeg()  # a real JPEG with ink: the registry checks signatures
