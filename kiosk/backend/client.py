"""The kiosk's client of the registry gateway API.

requests with a pooled session, explicit timeouts, an ``Idempotency-Key`` on every write, and
retries with backoff only where safe: reads, and writes (the key makes a repeat harmless) after
connection failures, timeouts and 5xx answers. Answers become the shared typed models; errors
become :mod:`kiosk.backend.errors`. Never call it from the UI thread.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from kiosk.backend import models as m
from kiosk.backend.api import BY_NAME, OPERATOR_HEADER, Route
from kiosk.backend.errors import (
    BackendConflict,
    BackendError,
    BackendNotFound,
    BackendRejected,
    BackendServerError,
    BackendTimeout,
    BackendUnauthorized,
    BackendUnreachable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def transport_problem(url: str) -> str | None:
    """Why the kiosk must not talk to the gateway at ``url``, or None: the link carries ID
    numbers and face images, so it is TLS unless it never leaves the machine (loopback)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        if parts.hostname == "localhost":
            return None
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return None
        except ValueError:
            pass
        return "plain http is allowed to loopback only; use https"
    return "expected an https:// address"


@dataclass(frozen=True)
class ClientSettings:
    """How to reach the gateway. Trusted CAs come from ``ca_bundle`` (the site file), or the
    bundled set when it is empty: never from environment variables such as REQUESTS_CA_BUNDLE;
    proxies and .netrc credentials from the environment are ignored too."""

    base_url: str
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    attempts: int = 3  # for safe retries
    backoff_s: float = 0.3
    client_cert: tuple[str, str] | None = None  # mutual TLS: (certificate, key) files
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        problem = transport_problem(self.base_url)
        if problem is not None:
            raise ValueError(f"gateway address {self.base_url!r}: {problem}")


def new_key() -> str:
    return uuid.uuid4().hex


class RegistryClient:
    def __init__(self, settings: ClientSettings, token: str = "") -> None:
        self.settings = settings
        self.token = token
        self.session = requests.Session()
        self.session.trust_env = False  # no CA bundle, proxy or .netrc from the environment
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if settings.client_cert:
            self.session.cert = settings.client_cert
        # Passed with each request (and trust_env is off): the kiosk trusts the centre's CA
        # whatever the environment says.
        self._verify: str | bool = settings.ca_bundle or True

    def close(self) -> None:
        self.session.close()

    # -- the API --------------------------------------------------------------------------

    def register(self, kiosk_id: str, enrolment_code: str) -> m.KioskToken:
        token: m.KioskToken = self.call("register_kiosk", m.RegisterKiosk(kiosk_id, enrolment_code))
        self.token = token.token
        return token

    def heartbeat(self, body: m.Heartbeat) -> m.HeartbeatAck:
        return self.call("heartbeat", body)  # type: ignore[no-any-return]

    def verify_identity(self, body: m.VerifyIdentity) -> m.Verification:
        return self.call("verify_identity", body)  # type: ignore[no-any-return]

    def list_records(self, body: m.RecordsQuery) -> m.Records:
        return self.call("list_records", body)  # type: ignore[no-any-return]

    def create_query(self, body: m.CreateQuery, key: str | None = None) -> m.QueryResult:
        return self.call("create_query", body, key=key)  # type: ignore[no-any-return]

    def list_slots(self, service: str) -> m.Slots:
        return self.call("list_slots", m.SlotsQuery(service))  # type: ignore[no-any-return]

    def book_appointment(self, body: m.BookAppointment, key: str | None = None) -> m.Appointment:
        return self.call("book_appointment", body, key=key)  # type: ignore[no-any-return]

    def list_guides(self) -> m.Guides:
        return self.call("list_guides")  # type: ignore[no-any-return]

    def issue_authorization(
        self, body: m.IssueAuthorization, key: str | None = None
    ) -> m.Authorization:
        return self.call("issue_authorization", body, key=key)  # type: ignore[no-any-return]

    def list_contracts(self, verification_id: str) -> m.SaleContracts:
        return self.call("list_contracts", m.SaleContractsQuery(verification_id))  # type: ignore[no-any-return]

    def tax_status(self, verification_id: str, contract_number: str) -> m.TaxStatus:
        return self.call("tax_status", m.TaxQuery(verification_id, contract_number))  # type: ignore[no-any-return]

    def lookup_unit(self, verification_id: str, unit_code: str) -> m.UnitFound:
        return self.call("lookup_unit", m.UnitLookup(verification_id, unit_code))  # type: ignore[no-any-return]

    def list_objections(self, verification_id: str) -> m.Objections:
        return self.call("list_objections", m.ObjectionsQuery(verification_id))  # type: ignore[no-any-return]

    def query_certificate(self, query_id: str) -> bytes:
        return self.call("query_certificate", path={"query_id": query_id})  # type: ignore[no-any-return]

    def verify_certificate(self, code: str) -> m.CertificateCheck:
        return self.call("verify_certificate", m.VerifyCertificate(code))  # type: ignore[no-any-return]

    def upload_attachment(
        self, data: bytes, content_type: str, key: str | None = None
    ) -> m.Attachment:
        return self.call(  # type: ignore[no-any-return]
            "upload_attachment", data, key=key, content_type=content_type
        )

    def submit_application(self, body: m.Application, key: str | None = None) -> m.Case:
        return self.call("submit_application", body, key=key)  # type: ignore[no-any-return]

    def get_case(self, case_number: str, verification_id: str) -> m.Case:
        return self.call(  # type: ignore[no-any-return]
            "get_case", m.CaseQuery(verification_id), path={"case_number": case_number}
        )

    def list_cases(self, verification_id: str) -> m.Cases:
        return self.call("list_cases", m.CasesQuery(verification_id))  # type: ignore[no-any-return]

    def create_order(self, body: m.CreateOrder) -> m.Order:
        # The business reference is the idempotency key too: one reference, one charge.
        return self.call("create_order", body, key=body.reference)  # type: ignore[no-any-return]

    def get_order(self, order_id: str) -> m.Order:
        return self.call("get_order", path={"order_id": order_id})  # type: ignore[no-any-return]

    def cancel_order(self, order_id: str) -> m.Order:
        return self.call(  # type: ignore[no-any-return]
            "cancel_order", path={"order_id": order_id}, key=f"cancel-{order_id}"
        )

    def order_receipt(self, order_id: str) -> m.EReceipt:
        return self.call("order_receipt", path={"order_id": order_id})  # type: ignore[no-any-return]

    def refund_order(self, order_id: str, body: m.RefundRequest) -> m.Refund:
        return self.call(  # type: ignore[no-any-return]
            "refund_order", body, path={"order_id": order_id}, key=body.refund_no
        )

    def certificate_data(self, case_number: str, verification_id: str) -> m.CertificateData:
        return self.call(  # type: ignore[no-any-return]
            "certificate_data", m.CaseQuery(verification_id), path={"case_number": case_number}
        )

    def request_delivery(
        self, case_number: str, body: m.DeliveryRequest, key: str | None = None
    ) -> m.Delivery:
        return self.call(  # type: ignore[no-any-return]
            "request_delivery", body, path={"case_number": case_number}, key=key
        )

    def report_paper(self, body: m.PaperReport, key: str | None = None) -> m.PaperAck:
        return self.call("report_paper", body, key=key)  # type: ignore[no-any-return]

    def list_paper(self, since: str = "") -> m.PaperReports:
        return self.call("list_paper", m.PaperQuery(since))  # type: ignore[no-any-return]

    def operator_login(self, body: m.OperatorLogin) -> m.OperatorSession:
        return self.call("operator_login", body)  # type: ignore[no-any-return]

    # -- bank operators (each call carries the operator's token) ----------------------------

    def operator_logout(self, operator: str) -> m.OperatorLogout:
        return self.call("operator_logout", operator=operator)  # type: ignore[no-any-return]

    def witness_identity(
        self, body: m.WitnessIdentity, operator: str, key: str | None = None
    ) -> m.Verification:
        return self.call("witness_identity", body, key=key, operator=operator)  # type: ignore[no-any-return]

    def authorize_bank(
        self, body: m.BankAuthorizationRequest, operator: str, key: str | None = None
    ) -> m.BankAuthorization:
        return self.call("authorize_bank", body, key=key, operator=operator)  # type: ignore[no-any-return]

    def bank_records(self, authorization_id: str, operator: str) -> m.BankRecords:
        return self.call(  # type: ignore[no-any-return]
            "bank_records", m.BankRecordsQuery(authorization_id), operator=operator
        )

    def save_draft(
        self, draft_id: str, body: m.SaveDraft, operator: str, key: str | None = None
    ) -> m.Draft:
        return self.call(  # type: ignore[no-any-return]
            "save_draft", body, path={"draft_id": draft_id}, key=key, operator=operator
        )

    def list_drafts(self, operator: str, since: str = "") -> m.Drafts:
        return self.call("list_drafts", m.DraftsQuery(since), operator=operator)  # type: ignore[no-any-return]

    def submit_draft(self, draft_id: str, operator: str, key: str | None = None) -> m.Case:
        return self.call(  # type: ignore[no-any-return]
            "submit_draft", path={"draft_id": draft_id}, key=key, operator=operator
        )

    def return_draft(self, draft_id: str, reason: str, operator: str) -> m.Draft:
        return self.call(  # type: ignore[no-any-return]
            "return_draft", m.ReturnDraft(reason), path={"draft_id": draft_id}, operator=operator
        )

    def withdraw_draft(self, draft_id: str, operator: str) -> m.Draft:
        return self.call(  # type: ignore[no-any-return]
            "withdraw_draft", path={"draft_id": draft_id}, operator=operator
        )

    def draft_attachment(self, draft_id: str, attachment_id: str, operator: str) -> bytes:
        return self.call(  # type: ignore[no-any-return]
            "draft_attachment",
            path={"draft_id": draft_id, "attachment_id": attachment_id},
            operator=operator,
        )

    def approve_draft(self, draft_id: str, operator: str, key: str | None = None) -> m.Case:
        return self.call(  # type: ignore[no-any-return]
            "approve_draft", path={"draft_id": draft_id}, key=key, operator=operator
        )

    def list_operator_cases(self, operator: str, since: str = "") -> m.Cases:
        return self.call(  # type: ignore[no-any-return]
            "list_operator_cases", m.OperatorCasesQuery(since), operator=operator
        )

    def registration_proof(self, case_number: str, operator: str) -> bytes:
        return self.call(  # type: ignore[no-any-return]
            "registration_proof", path={"case_number": case_number}, operator=operator
        )

    def create_ticket(self, service: str, key: str | None = None) -> m.Ticket:
        return self.call("create_ticket", m.TicketRequest(service), key=key)  # type: ignore[no-any-return]

    def list_appointments(self, verification_id: str) -> m.Appointments:
        return self.call(  # type: ignore[no-any-return]
            "list_appointments", m.AppointmentsQuery(verification_id)
        )

    def check_in(self, code: str, verification_id: str) -> m.Ticket:
        return self.call(  # type: ignore[no-any-return]
            "check_in",
            m.CheckIn(verification_id),
            path={"code": code},
            key=f"checkin-{code}-{verification_id}",
        )

    # -- transport ------------------------------------------------------------------------

    def call(
        self,
        name: str,
        body: Any = None,
        *,
        path: dict[str, str] | None = None,
        key: str | None = None,
        content_type: str = "",
        operator: str = "",
    ) -> Any:
        route = BY_NAME[name]
        url = self.settings.base_url.rstrip("/") + route.url(**(path or {}))
        headers = {"Accept": "application/json, application/pdf"}
        if self.token and route.auth != "none":
            headers["Authorization"] = f"Bearer {self.token}"
        if route.auth == "operator":
            headers[OPERATOR_HEADER] = operator
        params: dict[str, Any] | None = None
        data: bytes | None = None
        if route.method == "GET":
            if body is not None:
                params = {k: v for k, v in m.dump(body).items() if v not in ("", None)}
        else:
            headers["Idempotency-Key"] = key or new_key()
            if route.request_body == "binary":
                data = body
                headers["Content-Type"] = content_type
            elif body is not None:
                data = json.dumps(m.dump(body), ensure_ascii=False).encode()
                headers["Content-Type"] = "application/json"
        response = self._send(route, url, headers, params, data)
        if route.response_body in ("pdf", "binary"):
            return response.content
        try:
            payload = response.json()
        except ValueError as err:
            raise BackendServerError("the gateway answered something that is not JSON") from err
        try:
            return m.parse(route.response, payload) if route.response else payload
        except m.InvalidMessage as err:
            raise BackendServerError(f"unexpected answer from the gateway: {err}") from err

    def _send(
        self,
        route: Route,
        url: str,
        headers: dict[str, str],
        params: dict[str, Any] | None,
        data: bytes | None,
    ) -> requests.Response:
        attempts = max(1, self.settings.attempts)
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.request(
                    route.method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    verify=self._verify,
                    timeout=(self.settings.connect_timeout_s, self.settings.read_timeout_s),
                    # the gateway never redirects; following one would carry the kiosk's and
                    # the operator's tokens to wherever it points
                    allow_redirects=False,
                )
                error = error_for(response)
            except requests.Timeout as err:
                error = BackendTimeout(f"{route.name}: the gateway did not answer in time")
                error.__cause__ = err
            except requests.ConnectionError as err:
                error = BackendUnreachable(f"{route.name}: cannot reach the gateway")
                error.__cause__ = err
            if error is None:
                return response
            if not error.retryable or attempt == attempts:
                raise error
            delay = self.settings.backoff_s * 2 ** (attempt - 1)
            log.warning(
                "gateway call failed, retrying",
                extra={"route": route.name, "attempt": attempt, "error": str(error)},
            )
            time.sleep(delay)
        raise AssertionError("unreachable")


def error_for(response: requests.Response) -> BackendError | None:
    """The error an answer stands for, or None for a success."""
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        return BackendRejected(f"{status}: the gateway redirected to {where!r}; not followed")
    if status < 400:
        return None
    try:
        body = response.json()
        error, reason, field = body.get("error", ""), body.get("reason", ""), body.get("field", "")
    except (ValueError, AttributeError):
        error, reason, field = "", response.text[:200], ""
    message = f"{status} {error}: {reason}" + (f" ({field})" if field else "")
    kwargs = {"status": status, "error": error, "field": field}
    if status in (400, 405, 413, 422):
        return BackendRejected(message, **kwargs)
    if status in (401, 403):
        return BackendUnauthorized(message, **kwargs)
    if status == 404:
        return BackendNotFound(message, **kwargs)
    if status == 409:
        return BackendConflict(message, **kwargs)
    if status >= 500:
        return BackendServerError(message, **kwargs)
    return BackendRejected(message, **kwargs)
