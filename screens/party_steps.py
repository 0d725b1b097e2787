"""A sitting of several: whose turn it is at the machine, and where everyone else is. The
runner reads the next card by itself; this screen says who places it, lists every party by
role and masked name with their state (done, now, still to come), and offers the way out."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.flows.parties import STATE_TEXTS
from kiosk.flows.runner import StepView
from screens.steps import StepScreen

MARKS = {"now": "▶", "waiting": "○", "card": "▶", "verified": "✓", "signed": "✓"}
NOW_TEXTS = ("请放置身份证", "place your card")


def party_rows(parties: tuple[tuple[str, str, str, str], ...], english: bool) -> str:
    """The parties as the screen lists them, one per line: mark, role, masked name, state."""
    rows = []
    for role_zh, role_en, name, state in parties:
        zh, en = NOW_TEXTS if state == "now" else STATE_TEXTS[state]
        role, text = (role_en, en) if english else (role_zh, zh)
        rows.append(f"{MARKS[state]}  {role}  {name}  ·  {text}".replace("    ", "  "))
    return "\n".join(rows)


class PartyScreen(StepScreen):
    lead_zh = StringProperty("")
    lead_en = StringProperty("")
    rows_zh = StringProperty("")
    rows_en = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.lead_zh, self.lead_en = view.lead_zh, view.lead_en
        self.rows_zh = party_rows(view.parties, english=False)
        self.rows_en = party_rows(view.parties, english=True)
