"""The sandbox registry's HTTP server: routing, kiosk tokens, idempotency keys, faults.

Stdlib ``ThreadingHTTPServer`` on loopback. Every write takes an ``Idempotency-Key``: the first
answer is stored with a hash of the request, a retry with the same key and content gets the same
answer, and the same key with other content is a 409. The handler and the stored answer are one
SQLite transaction, so a crash cannot separate them.

Every answer is JSON, errors included: a malformed request line, an undeclared method (405), a
body whose Content-Length is missing, not a number or too large, JSON nested too deep, text
that is not Unicode, an integer beyond 64 bits. A client that stops sending mid-request is cut
off after ``CLIENT_TIMEOUT_S``.

The test mode (``test_token``) adds the routes a test or a training demo needs and a gateway
never has: fault injection, the payer's phone, the end of the registry's review. Without it they
do not exist (404); with it they need the token in ``X-Sandbox-Token``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.backend import models as m
from kiosk.backend.api import (
    CONTRACT_ROUTES,
    MAX_ATTACHMENT_BYTES,
    OPERATOR_HEADER,
    ROUTES,
    SANDBOX_HEADER,
    Route,
    openapi_text,
)
from kiosk.sandbox import db, seed
from kiosk.sandbox.bank import BANK_HANDLERS
from kiosk.sandbox.control import SandboxControl
from kiosk.sandbox.handlers import CITIZEN_HANDLERS, ApiError, Ctx
from kiosk.sandbox.new_homes import NEW_HOME_HANDLERS
from kiosk.sandbox.objections import OBJECTION_HANDLERS

log = logging.getLogger(__name__)
# the bank's handlers build on the citizen ones, so the two are joined here, not in either
HANDLERS = {**CITIZEN_HANDLERS, **BANK_HANDLERS, **NEW_HOME_HANDLERS, **OBJECTION_HANDLERS}
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 32  # the deepest message is 4 levels; Python's parser recurses per level
IDEMPOTENCY_KEY = re.compile(r"[!-~]{8,64}")  # as the contract document says
CLIENT_TIMEOUT_S = 10.0  # a client that sends nothing for this long is cut off


class Sandbox:
    """The registry: a database, a server thread, and settings for training and tests."""

    def __init__(
        self,
        db_path: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        tls: ssl.SSLContext | None = None,
        test_token: str | None = None,
        client_timeout_s: float = CLIENT_TIMEOUT_S,
    ) -> None:
        self.db_path = Path(db_path)
        self.test_token = test_token
        self.client_timeout_s = client_timeout_s
        self.routes = ROUTES if test_token else CONTRACT_ROUTES
        self.clock = clock
        self._write_lock = threading.Lock()
        self._faults_lock = threading.Lock()
        self._faults = m.Faults(count=0)
        conn = db.connect(self.db_path)
        if not db.current(conn):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            aside = self.db_path.with_name(f"{self.db_path.name}.old-{int(clock())}")
            log.warning("sandbox file of an older schema put aside as %s", aside)
            self.db_path.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
            conn = db.connect(self.db_path)
        db.create(conn)
        seed.seed(conn, now=clock())
        seed.seed_bank(conn)
        conn.close()
        self._local = threading.local()
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self.tls = tls
        if tls is not None:  # e.g. a gateway that requires the kiosk's client certificate
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def start(self) -> Sandbox:
        # a short poll: stopping waits for it (the default half second, once per test)
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def control(self) -> SandboxControl:
        """A client of the test mode's routes (which this sandbox must have been started with)."""
        if not self.test_token:
            raise RuntimeError("the sandbox was not started in its test mode")
        return SandboxControl(self.url, self.test_token)

    def set_faults(self, faults: m.Faults) -> None:
        with self._faults_lock:
            self._faults = faults

    def snapshot(self, path: Path) -> None:
        """Copy the register as it is now to ``path`` (SQLite's online backup)."""
        self._copy(self.db_path, path)

    def restore(self, path: Path) -> None:
        """Put a snapshot back in place of the register, while serving: the tests that share
        one running app start each from the same register instead of repairing it by hand."""
        self._copy(path, self.db_path)

    def _copy(self, source_path: Path, target_path: Path) -> None:
        with self._write_lock:
            source, target = db.connect(source_path), db.connect(target_path)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()

    def set_setting(self, name: str, value: int) -> None:
        conn = self.connection()
        conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, str(value)))

    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self.db_path)
            self._local.conn = conn
        return conn

    def _take_fault(self, route: str) -> m.Faults | None:
        with self._faults_lock:
            faults = self._faults
            if faults.count <= 0 or (not faults.status and not faults.delay_s):
                return None
            if faults.routes and route not in faults.routes:  # a partial outage
                return None
            self._faults = dataclasses.replace(faults, count=faults.count - 1)
            return faults

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "DengjiSandbox/1"
            protocol_version = "HTTP/1.1"
            timeout = sandbox.client_timeout_s

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("sandbox %s", format % args)

            def do_GET(self) -> None:
                sandbox._dispatch(self, "GET")

            def do_POST(self) -> None:
                sandbox._dispatch(self, "POST")

            def send_error(
                self, code: int, message: str | None = None, explain: str | None = None
            ) -> None:
                """The standard library's errors (a bad request line, a method with no
                ``do_`` handler: 501) are HTML; the contract's are JSON. Any method but GET and
                POST comes here as a 501 and is routed, so it is a 405 with ``Allow`` (or a
                404) like any other."""
                self.close_connection = True
                if self.request_version == "HTTP/0.9":  # the request line did not parse
                    self.request_version = "HTTP/1.1"  # so the answer has a status line
                if code == 501:  # a method no route has
                    sandbox._dispatch(self, self.command)
                    return
                error = "bad_request" if code < 500 else "server_error"
                sandbox._answer(self, *_error(ApiError(code, error, message or "bad request")))

        return Handler

    # -- request handling -----------------------------------------------------------------

    def _dispatch(self, request: BaseHTTPRequestHandler, method: str) -> None:
        headers: dict[str, str] = {}
        try:
            status, content_type, body = self._handle(request, method)
        except MethodNotAllowed as err:
            status, content_type, body = _error(err)
            headers = {"Allow": ", ".join(err.allow)}
        except ApiError as err:
            status, content_type, body = _error(err)
        except m.InvalidMessage as err:
            status, content_type, body = _error(ApiError(400, "invalid", err.reason, err.field))
        except _ClientGone:
            request.close_connection = True
            return
        except Exception:
            log.exception("sandbox handler failed")
            status, content_type, body = _error(ApiError(500, "server_error", "internal error"))
        self._answer(request, status, content_type, body, headers, head=method == "HEAD")

    def _answer(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        content_type: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(body)))
            if request.close_connection:
                request.send_header("Connection", "close")
            request.end_headers()
            if not head:
                request.wfile.write(body)
        except OSError:  # gone before the answer (reset, broken pipe, timed out)
            log.info("sandbox client went away before the answer")
            request.close_connection = True

    def _body(self, request: BaseHTTPRequestHandler) -> bytes:
        """The request's body, as long as its Content-Length says. A body the server does not
        read would be taken for the next request on the connection: those answers close it."""
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            request.close_connection = True
            raise ApiError(411, "length_required", "send the body with a Content-Length")
        text = (request.headers.get("Content-Length") or "0").strip()
        if not text.isdigit() or len(text) > 12:
            request.close_connection = True
            raise ApiError(400, "invalid", "Content-Length is not a number", "Content-Length")
        length = int(text)
        if length > MAX_ATTACHMENT_BYTES + 1024:
            request.close_connection = True
            raise ApiError(413, "too_large", "request body too large")
        if not length:
            return b""
        try:
            raw = request.rfile.read(length)
        except OSError as err:  # the socket's timeout: a client that stopped sending
            raise _ClientGone from err
        if len(raw) < length:
            raise _ClientGone
        return raw

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> tuple[int, str, bytes]:
        parsed = urllib.parse.urlsplit(request.path)
        raw = self._body(request)
        if parsed.path == "/openapi.json" and method == "GET":
            return 200, "application/json", openapi_text().encode()
        route, params = _route(self.routes, method, parsed.path)
        if route.auth == "sandbox":
            self._check_test_token(request)
            if route.name == "sandbox_faults":
                faults = m.parse(m.Faults, _json(raw))
                self.set_faults(faults)
                return 200, "application/json", json.dumps(m.dump(faults)).encode()
        fault = self._take_fault(route.name)
        if fault is not None:
            time.sleep(fault.delay_s)
            if fault.status:
                raise ApiError(fault.status, "injected", "fault injected by the sandbox")
        kiosk_id = self._authenticate(request, route)
        if route.method == "GET":
            query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            body: Any = m.parse(route.request, query) if route.request else None
            return self._run(route, kiosk_id, params, body, request)
        key = request.headers.get("Idempotency-Key", "")
        keyed = route.auth in ("kiosk", "operator")
        if keyed and not IDEMPOTENCY_KEY.fullmatch(key):
            raise ApiError(
                400,
                "invalid",
                "an Idempotency-Key of 8-64 printable ASCII characters is required",
                "Idempotency-Key",
            )
        if route.request_body == "binary":
            body = raw
        elif route.request is not None:
            body = m.parse(route.request, _json(raw))
        else:
            body = None
        if not keyed:
            return self._run(route, kiosk_id, params, body, request)
        digest = hashlib.sha256(method.encode() + parsed.path.encode() + b"\0" + raw).hexdigest()
        return self._run_once(route, kiosk_id, key, digest, params, body, request)

    def _check_test_token(self, request: BaseHTTPRequestHandler) -> None:
        given = request.headers.get(SANDBOX_HEADER, "").encode()
        if not self.test_token or not hmac.compare_digest(given, self.test_token.encode()):
            raise ApiError(401, "unauthorized", f"the test token goes in {SANDBOX_HEADER}")

    def _authenticate(self, request: BaseHTTPRequestHandler, route: Route) -> str:
        if route.auth in ("none", "sandbox"):
            return "-"
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        row = (
            self.connection()
            .execute("SELECT kiosk_id FROM kiosks WHERE token = ?", (token,))
            .fetchone()
            if token
            else None
        )
        if row is None:
            raise ApiError(401, "unauthorized", "missing or unknown kiosk token")
        kiosk_id: str = row["kiosk_id"]
        return kiosk_id

    def _context(
        self,
        route: Route,
        kiosk_id: str,
        params: dict[str, str],
        request: BaseHTTPRequestHandler,
    ) -> Ctx:
        content_type = request.headers.get("Content-Type", "")
        ctx = Ctx(self.connection(), kiosk_id, self.clock(), params, content_type)
        if route.auth == "operator":  # the operator logged in at this kiosk, still active
            token = request.headers.get(OPERATOR_HEADER, "")
            row = ctx.one(
                "SELECT * FROM operator_sessions WHERE token = ? AND kiosk_id = ? AND expires > ?",
                token,
                kiosk_id,
                ctx.now,
            )
            if not token or row is None:
                raise ApiError(401, "operator_unauthorized", "log in as an operator first")
            ctx.operator = row
        return ctx

    def _run(
        self,
        route: Route,
        kiosk_id: str,
        params: dict[str, str],
        body: Any,
        request: BaseHTTPRequestHandler,
    ) -> tuple[int, str, bytes]:
        ctx = self._context(route, kiosk_id, params, request)
        conn = ctx.conn
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = _encode(route, HANDLERS[route.name](ctx, body))
            except ApiError as err:
                conn.execute("COMMIT" if err.keep_changes else "ROLLBACK")
                raise
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return result

    def _run_once(
        self,
        route: Route,
        kiosk_id: str,
        key: str,
        digest: str,
        params: dict[str, str],
        body: Any,
        request: BaseHTTPRequestHandler,
    ) -> tuple[int, str, bytes]:
        ctx = self._context(route, kiosk_id, params, request)
        conn = ctx.conn
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                stored = conn.execute(
                    "SELECT * FROM idempotency WHERE kiosk_id = ? AND key = ?", (kiosk_id, key)
                ).fetchone()
                if stored is not None:
                    conn.execute("ROLLBACK")
                    if stored["request_hash"] != digest:
                        raise ApiError(
                            409,
                            "idempotency_conflict",
                            "this Idempotency-Key was used for another request",
                            "Idempotency-Key",
                        )
                    return stored["status"], stored["content_type"], bytes(stored["body"])
                try:
                    result = _encode(route, HANDLERS[route.name](ctx, body))
                except ApiError as err:  # a refusal is an answer too: stored like a success
                    if not err.keep_changes:
                        conn.execute("ROLLBACK")
                        conn.execute("BEGIN IMMEDIATE")
                    result = _error(err)
                conn.execute(
                    "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
                    (kiosk_id, key, digest, *result),
                )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return result


class _ClientGone(Exception):
    """The client stopped sending before its body was complete: no answer is owed."""


class MethodNotAllowed(ApiError):
    def __init__(self, method: str, allow: list[str]) -> None:
        super().__init__(405, "method_not_allowed", f"{method} is not allowed here")
        self.allow = allow


def _route(routes: tuple[Route, ...], method: str, path: str) -> tuple[Route, dict[str, str]]:
    allow: list[str] = []
    for route in routes:
        match = route.pattern.match(path)
        if match:
            if route.method == method:
                return route, match.groupdict()
            allow.append(route.method)
    if path == "/openapi.json":
        allow.append("GET")
    if allow:
        raise MethodNotAllowed(method, sorted(set(allow)))
    raise ApiError(404, "not_found", f"no route {path}")


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, "too_large", "JSON body too large")
    try:
        value = json.loads(raw or b"{}", parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid", "the body is not JSON") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise ApiError(400, "invalid", "the JSON body is nested too deep")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _encode(route: Route, value: Any) -> tuple[int, str, bytes]:
    if route.response_body == "pdf":
        return 200, "application/pdf", bytes(value)
    if route.response_body == "binary":  # (content type, bytes) from the handler
        content_type, data = value
        return 200, str(content_type), bytes(data)
    return 200, "application/json", json.dumps(m.dump(value), ensure_ascii=False).encode()


def _error(err: ApiError) -> tuple[int, str, bytes]:
    body = m.ErrorBody(err.error, err.reason, err.field)
    return err.status, "application/json", json.dumps(m.dump(body), ensure_ascii=False).encode()
