"""The people of an application made by several in one sitting (个人之间抵押: every holder of
the flat and the lender): who each is by role, whether they have placed their card, passed the
face check and signed. Personal: held in memory for the visit only, wiped at its end.

Each person comes to the machine in turn; the screen shows every party by role and masked
name with where they are, so the next person sees who is next and who is done, and nothing
else of the others (their ID numbers and full names stay off the screen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.idcard.identity import IdentityDocument
from kiosk.flows.spec import CO_BUYERS, CO_OWNERS, ROLES
from kiosk.redact import mask_name


@dataclass
class Party:
    role: str  # a key of spec.ROLES
    expected: str = ""  # a co-owner: the masked name the register has for them
    share: str = ""  # a co-owner's share (按份共有), "" otherwise
    # brought by a "co_owners" step (must hold the chosen unit) or a "co_buyers" one (must be
    # a buyer on the chosen contract); "" for a party of a named role
    group: str = ""
    document: IdentityDocument | None = None  # their card, once read
    verification_id: str = ""  # their face check at this kiosk, once passed
    verified_at: float = 0.0  # when (time.monotonic()): renewed if it would lapse unsigned
    signature: bytearray = field(default_factory=bytearray)  # JPEG, zeroed at the end
    signed_at: str = ""

    @property
    def role_names(self) -> tuple[str, str]:
        zh, en = ROLES[self.role]
        if self.group:
            group_zh, group_en = GROUP_NAMES[self.group]
            return f"{zh}（{group_zh}）", f"{en} ({group_en})"
        return zh, en

    @property
    def shown_name(self) -> str:
        """The masked name: the card's once read, else the register's for a co-owner."""
        if self.document is not None:
            return mask_name(self.document.name)
        return self.expected

    @property
    def state(self) -> str:
        """waiting | card (read, face check next) | verified | signed."""
        if self.signature:
            return "signed"
        if self.verification_id:
            return "verified"
        return "card" if self.document is not None else "waiting"

    def forget(self) -> None:
        self.signature[:] = bytes(len(self.signature))
        self.document = None


GROUP_NAMES = {CO_OWNERS: ("共有人", "co-owner"), CO_BUYERS: ("共同购房人", "co-buyer")}
STATE_TEXTS = {
    "waiting": ("未到场", "not yet"),
    "card": ("已读证，待核验", "card read, face check next"),
    "verified": ("已核验", "verified"),
    "signed": ("已核验并签名", "verified and signed"),
}


def party_line(party: Party, now: bool = False) -> tuple[str, str, str, str]:
    """One party as the screens list it: (role zh, role en, masked name, state)."""
    zh, en = party.role_names
    return zh, en, party.shown_name, "now" if now else party.state


def slip_lines(parties: list[Party]) -> list[tuple[str, str]]:
    """Where each party got to, for the hand-off slip and its audit record: by role (co-owners
    numbered), never by name — the slip carries nothing personal."""
    lines = []
    grouped = sum(1 for p in parties if p.group)
    number = 0
    for party in parties:
        zh, en = party.role_names
        if party.group and grouped > 1:
            number += 1
            zh, en = f"{zh}{number}", f"{en} {number}"
        state_zh, state_en = STATE_TEXTS[party.state]
        lines.append((f"{zh}：{state_zh}", f"{en}: {state_en}"))
    return lines
