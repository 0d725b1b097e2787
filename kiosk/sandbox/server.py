"""The sandbox registry's HTTP server: routing, kiosk tokens, idempotency keys, faults.

Stdlib ``ThreadingHTTPServer`` on loopback. Every write takes an ``Idempotency-Key``: the first
answer is stored with a hash of the request, a retry with the same key and content gets the same
answer, and the same key with other content is a 409. The handler and the stored answer are one
SQLite transaction, so a crash cannot separate them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.backend import models as m
from kiosk.backend.api import MAX_ATTACHMENT_BYTES, OPERATOR_HEADER, ROUTES, Route, openapi_text
from kiosk.sandbox import db, seed
from kiosk.sandbox.bank import BANK_HANDLERS
from kiosk.sandbox.handlers import CITIZEN_HANDLERS, ApiError, Ctx

log = logging.getLogger(__name__)
# the bank's handlers build on the citizen ones, so the two are joined here, not in either
HANDLERS = {**CITIZEN_HANDLERS, **BANK_HANDLERS}
MAX_JSON_BYTES = 4 * 1024 * 1024


class Sandbox:
    """The registry: a database, a server thread, and settings for training and tests."""

    def __init__(
        self,
        db_path: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.clock = clock
        self._write_lock = threading.Lock()
        self._faults_lock = threading.Lock()
        self._faults = m.Faults(count=0)
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

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("sandbox %s", format % args)

            def do_GET(self) -> None:
                sandbox._dispatch(self, "GET")

            def do_POST(self) -> None:
                sandbox._dispatch(self, "POST")

        return Handler

    # -- request handling -----------------------------------------------------------------

    def _dispatch(self, request: BaseHTTPRequestHandler, method: str) -> None:
        try:
            status, content_type, body = self._handle(request, method)
        except ApiError as err:
            status, content_type, body = _error(err)
        except m.InvalidMessage as err:
            status, content_type, body = _error(ApiError(400, "invalid", err.reason, err.field))
        except Exception:
            log.exception("sandbox handler failed")
            status, content_type, body = _error(ApiError(500, "server_error", "internal error"))
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            log.info("sandbox client went away before the answer")

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> tuple[int, str, bytes]:
        parsed = urllib.parse.urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_ATTACHMENT_BYTES + 1024:
            raise ApiError(413, "too_large", "request body too large")
        raw = request.rfile.read(length) if length else b""
        if parsed.path == "/openapi.json" and method == "GET":
            return 200, "application/json", openapi_text().encode()
        route, params = _route(method, parsed.path)
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
            query = dict(urllib.parse.parse_qsl(parsed.query))
            body: Any = m.parse(route.request, query) if route.request else None
            return self._run(route, kiosk_id, params, body, request)
        key = request.headers.get("Idempotency-Key", "")
        if route.auth != "none" and not 8 <= len(key) <= 64:
            raise ApiError(
                400,
                "invalid",
                "an Idempotency-Key of 8-64 characters is required",
                "Idempotency-Key",
            )
        if route.request_body == "binary":
            body = raw
        elif route.request is not None:
            body = m.parse(route.request, _json(raw))
        else:
            body = None
        if route.auth == "none" or not key:
            return self._run(route, kiosk_id, params, body, request)
        digest = hashlib.sha256(method.encode() + parsed.path.encode() + b"\0" + raw).hexdigest()
        return self._run_once(route, kiosk_id, key, digest, params, body, request)

    def _authenticate(self, request: BaseHTTPRequestHandler, route: Route) -> str:
        if route.auth == "none":
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


def _route(method: str, path: str) -> tuple[Route, dict[str, str]]:
    allowed = False
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            if route.method == method:
                return route, match.groupdict()
            allowed = True
    if allowed:
        raise ApiError(405, "method_not_allowed", f"{method} is not allowed here")
    raise ApiError(404, "not_found", f"no route {path}")


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, "too_large", "JSON body too large")
    try:
        return json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid", "the body is not JSON") from None


def _encode(route: Route, value: Any) -> tuple[int, str, bytes]:
    if route.response_body == "pdf":
        return 200, "application/pdf", bytes(value)
    return 200, "application/json", json.dumps(m.dump(value), ensure_ascii=False).encode()


def _error(err: ApiError) -> tuple[int, str, bytes]:
    body = m.ErrorBody(err.error, err.reason, err.field)
    return err.status, "application/json", json.dumps(m.dump(body), ensure_ascii=False).encode()
