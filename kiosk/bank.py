"""The operator's desk at a bank service point: one operator logged in at a time, their
workbench (the last 30 days' drafts and cases, and any case still in progress), maker-checker
approval, reprints and the registration proof. UI-free; every call here may block on the
registry (run it on a worker thread).

The bank's licence data comes from the registry with the login and is shown, never typed.
Operator actions are audited under the operator's id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kiosk.backend import models as m
from kiosk.backend.client import RegistryClient
from kiosk.backend.errors import BackendError
from kiosk.backend.models import Case, CaseStatus, Draft, DraftStatus
from kiosk.core import Kiosk
from kiosk.documents.pdf_images import embedded_jpegs
from kiosk.documents.receipts import acknowledgment
from kiosk.messages import UserMessage
from kiosk.printing import PrintOutcome

if TYPE_CHECKING:
    from kiosk.flows.journey import Journey
    from kiosk.flows.spec import FlowSpec

log = logging.getLogger(__name__)

# what the operator screens use of the registry's records (screens never import kiosk.backend)
__all__ = [
    "LOGIN_REFUSED",
    "NOT_OWN",
    "OPERATOR_ENDS",
    "Case",
    "CaseStatus",
    "Draft",
    "DraftStatus",
    "LoginRefused",
    "OperatorDesk",
    "Workbench",
]

LOGIN_REFUSED = {
    "unauthorized": ("账号或密码错误", "Wrong operator id or password"),
    "locked": (
        "失败次数过多，账号已锁定 15 分钟",
        "Too many failed attempts: the account is locked for 15 minutes",
    ),
}
NOT_OWN = UserMessage(
    "same_operator",
    "不能复核自己经办的申请，请由本行另一名经办人复核",
    "You cannot approve your own application: another operator of the bank approves it",
    False,
)


# a visit ending for these logs the operator out; any other reason (the application finished,
# cancelled, failed) ends only the application and the operator stays on the workbench
OPERATOR_ENDS = frozenset({"idle", "logout", "shutdown", "out_of_service", "maintenance", "test"})


class LoginRefused(Exception):
    def __init__(self, message: UserMessage) -> None:
        super().__init__(message.en)
        self.message = message


@dataclass
class Workbench:
    """What the operator sees: their unfinished drafts, the bank's drafts awaiting review,
    and the cases they filed or approved in the last 30 days or still in progress (a case
    registered days after its filing still has its proof printed here)."""

    drafts: list[m.Draft] = field(default_factory=list)
    cases: list[m.Case] = field(default_factory=list)


class OperatorDesk:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.session: m.OperatorSession | None = None

    @property
    def bank_code(self) -> str:
        return self.kiosk.config.bank.bank_code

    @property
    def client(self) -> RegistryClient:
        link = self.kiosk.backend
        if link is None or link.client is None:
            raise LoginRefused(
                UserMessage(
                    "backend_down",
                    "登记系统暂时无法连接",
                    "The registry cannot be reached",
                    True,
                )
            )
        return link.client

    @property
    def token(self) -> str:
        assert self.session is not None, "no operator logged in"
        return self.session.operator_token

    def _audit(self, action: str, outcome: str, operator: str = "", **fields: str) -> None:
        if self.kiosk.audit is not None:
            who = operator or (self.session.operator_id if self.session else "-")
            self.kiosk.audit.record(f"operator:{self.bank_code}/{who}", action, outcome, **fields)

    # -- login ----------------------------------------------------------------------------

    def login(self, operator_id: str, password: str) -> m.OperatorSession:
        """Log in (the registry counts failures and locks the account after five)."""
        if self.session is not None:
            self.logout("replaced")
        operator_id = operator_id.strip()
        try:
            session = self.client.operator_login(
                m.OperatorLogin(self.bank_code, operator_id, password)
            )
        except BackendError as err:
            zh, en = LOGIN_REFUSED.get(
                err.error, ("登录失败，请稍后再试", "Login failed: try again later")
            )
            self._audit("operator.login", err.error or "failed", operator=operator_id[:20])
            raise LoginRefused(UserMessage(err.error or "login", zh, en, True)) from err
        self.session = session
        self._audit("operator.login", "ok", bank=session.bank.name)
        self._send_held(session)
        return session

    def _send_held(self, session: m.OperatorSession) -> None:
        """Drafts kept while the registry was away (an idle logout in an outage) go now, with
        this session, before the workbench lists them."""
        link = self.kiosk.backend
        if link is None or link.outbox is None:
            return
        try:
            sent = link.outbox.deliver_held(session.ref, session.operator_token)
        except Exception as err:  # they wait for the next login; the login itself stands
            log.warning("held drafts not sent", extra={"error": str(err)})
            return
        if sent:
            self._audit("bank.draft", "sent_held", count=str(sent))

    def logout(self, reason: str) -> None:
        self.release(self.take(reason), reason)

    def take(self, reason: str) -> m.OperatorSession | None:
        """End the operator's session on this kiosk now (the screen is theirs no longer)."""
        session = self.session
        if session is not None:
            self._audit("operator.logout", reason)
        self.session = None
        return session

    def release(self, session: m.OperatorSession | None, reason: str) -> None:
        """Tell the registry (blocking: on a worker thread)."""
        if session is None:
            return
        try:
            self.client.operator_logout(operator=session.operator_token)
        except Exception as err:  # the registry ends the session itself when it expires
            log.warning("operator logout not confirmed", extra={"error": str(err), "why": reason})

    # -- the application under way when the visit ends -----------------------------------

    def logs_out(self, reason: str) -> bool:
        """Whether a visit ending for ``reason`` ends the operator's session too."""
        return reason in OPERATOR_ENDS or self.session is None

    @staticmethod
    def keeps(journey: Journey | None) -> bool:
        """Whether an application that ended without the operator logging out is kept as
        their draft: one that failed (the registry away at filing, say) is not lost; one
        cancelled is gone."""
        return journey is not None and journey.ended.startswith("failed:")

    @staticmethod
    def keep_draft(
        journey: Journey | None, then: Callable[[], None] | None = None
    ) -> threading.Thread:
        """What the operator entered is taken now, on the caller's (UI) thread, before the
        visit is wiped, and kept as their draft with the registry on a worker (``then`` runs
        after it there). With the registry away it waits in the outbox for their next login;
        refused by the registry, it is logged."""
        body = journey.open_draft() if journey is not None else None

        def keep() -> None:
            if journey is not None and body is not None:
                try:
                    journey.keep_draft(body)
                except Exception as err:
                    log.warning("draft not kept", extra={"error": str(err)})
            if then is not None:
                then()

        worker = threading.Thread(target=keep, name="keep-draft", daemon=True)
        worker.start()
        return worker

    @staticmethod
    def flow_for(draft: m.Draft, flows: Mapping[str, FlowSpec]) -> str | None:
        """The bank journey that files a draft's application type."""
        return next(
            (
                name
                for name, flow in flows.items()
                if flow.mode == "bank"
                and any(s.param("application") == draft.type.value for s in flow.steps)
            ),
            None,
        )

    # -- the workbench --------------------------------------------------------------------

    def workbench(self) -> Workbench:
        drafts = self.client.list_drafts(operator=self.token).drafts
        cases = self.client.list_operator_cases(operator=self.token).cases
        return Workbench(list(drafts), list(cases))

    def can_approve(self, draft: m.Draft) -> bool:
        return (
            self.session is not None
            and draft.status is m.DraftStatus.AWAITING_REVIEW
            and draft.maker != self.session.operator_id
        )

    def approve(self, draft: m.Draft) -> m.Case:
        """The checker approves another operator's application: it is filed now."""
        if self.session is not None and draft.maker == self.session.operator_id:
            self._audit("bank.approve", "refused_own", draft=draft.draft_id)
            raise LoginRefused(NOT_OWN)
        case = self.client.approve_draft(
            draft.draft_id, operator=self.token, key=f"approve-{draft.draft_id}"
        )
        self._audit("bank.approve", "filed", draft=draft.draft_id, case=case.case_number)
        return case

    def return_to_maker(self, draft: m.Draft, reason: str) -> m.Draft:
        """The checker sends another operator's application back with the reason; nothing is
        filed."""
        returned = self.client.return_draft(draft.draft_id, reason, operator=self.token)
        self._audit("bank.return", "returned", draft=draft.draft_id)
        return returned

    def draft_pages(self, draft: m.Draft) -> list[tuple[str, bytes]]:
        """What the maker scanned and the signatures, for the checker to look at: (label,
        JPEG) per page, a scan's PDF opened into its pages (a PDF without page pictures stays
        whole, shown by name). Audited: the checker opened another operator's documents."""
        pages: list[tuple[str, bytes]] = []
        for attachment in draft.attachments:
            data = self.client.draft_attachment(draft.draft_id, attachment, self.token)
            inside = embedded_jpegs(data) if data.startswith(b"%PDF") else []
            if inside:
                pages.extend((f"{attachment} p{n}", page) for n, page in enumerate(inside, 1))
            else:
                pages.append((attachment, data))
        self._audit("bank.review", "documents_opened", draft=draft.draft_id, pages=str(len(pages)))
        return pages

    def withdraw(self, draft: m.Draft) -> m.Draft:
        """The maker takes their application back before it is filed."""
        withdrawn = self.client.withdraw_draft(draft.draft_id, operator=self.token)
        self._audit("bank.withdraw", "withdrawn", draft=draft.draft_id)
        return withdrawn

    def print_acknowledgment(self, case: m.Case, draft: m.Draft | None = None) -> PrintOutcome:
        """Print (or reprint) a case's acknowledgment; the applicant's name is not shown
        (masked "*"). The agent is the operator who stood with the borrower (the draft's
        maker); the one approving it is named as the checker, never as the agent. A reprint
        from the case list, without the draft, names the bank alone."""
        session = self.session
        bank = session.bank.name if session else ""
        agent, checker = bank, ""
        if draft is not None:
            agent = f"{bank} {draft.maker_name}（{draft.maker}）"
            if session is not None and session.operator_id != draft.maker:
                checker = f"{session.operator_name}（{session.operator_id}）"
        ops = acknowledgment(
            case, case.type, "*", case.progress_url, 48, agent=agent, checker=checker
        )
        self._audit("bank.reprint", "acknowledgment", case=case.case_number)
        return self.kiosk.print_service.receipt(
            f"acknowledgment-{case.case_number}", ops, kind="acknowledgment", reprint=True
        )

    def print_proof(self, case: m.Case) -> PrintOutcome:
        """Download the electronic registration proof and print it (A4, certificate printer)."""
        pdf = self.client.registration_proof(case.case_number, operator=self.token)
        self._audit("bank.proof", "downloaded", case=case.case_number)
        return self.kiosk.print_service.document(
            f"proof-{case.case_number}", pdf, f"proof {case.case_number}", kind="registration_proof"
        )
