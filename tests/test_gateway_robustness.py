"""The gateway's edges, tried as a hostile or broken client would: every answer is a JSON 4xx,
never a 500 or the standard library's HTML; the sandbox's own routes exist only in its test
mode; the kiosk's client keeps its TLS, its CAs and its tokens to itself."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk.backend import models as m
from kiosk.backend.api import SANDBOX_HEADER, openapi
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.backend.errors import BackendRejected
from kiosk.config import load_config
from kiosk.sandbox.control import SandboxControl
from kiosk.sandbox.server import Sandbox
from kiosk.strict import StrictConfigError
from tests.backend_fixtures import TEST_TOKEN, Registry


def raw_request(url: str, data: bytes, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """Send bytes as they are (http.client would fix a bad request up) and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
    assert response.getheader("Content-Type") == "application/json", body[:80]
    return response.status, json.loads(body)


def post(registry: Registry, path: str, body: bytes, **headers: str) -> requests.Response:
    return requests.post(
        registry.sandbox.url + path,
        data=body,
        headers={
            "Authorization": f"Bearer {registry.client.token}",
            "Idempotency-Key": "robustness-01",
            "Content-Type": "application/json",
            **headers,
        },
        timeout=10,
    )


# -- every answer is JSON, never a 500 ---------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_an_undeclared_method_is_a_json_405(registry: Registry, method: str) -> None:
    status, body = raw_request(
        registry.sandbox.url,
        f"{method} /v1/kiosks/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode(),
    )
    assert (status, body["error"]) == (405, "method_not_allowed")


def test_a_malformed_request_line_is_a_json_400(registry: Registry) -> None:
    status, body = raw_request(registry.sandbox.url, b"GET\r\n\r\n")
    assert status == 400 and body["error"] == "bad_request"


@pytest.mark.parametrize(
    ("length", "status"),
    [("abc", 400), ("-1", 400), ("1e3", 400), ("99999999999999999999999", 400), ("99999999", 413)],
)
def test_a_bad_content_length_is_refused(registry: Registry, length: str, status: int) -> None:
    answer, body = raw_request(
        registry.sandbox.url,
        b"POST /v1/kiosks/heartbeat HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: {length}\r\n\r\n{{}}".encode(),
    )
    assert answer == status and body["error"] in ("invalid", "too_large")


def test_a_chunked_body_needs_a_length(registry: Registry) -> None:
    status, body = raw_request(
        registry.sandbox.url,
        b"POST /v1/kiosks/heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n",
    )
    assert (status, body["error"]) == (411, "length_required")


def test_text_that_is_not_unicode_is_refused_with_its_field(registry: Registry) -> None:
    response = post(
        registry,
        "/v1/queue/tickets",
        b'{"service": "\\ud800"}',
        **{"Idempotency-Key": "surrogate-1"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "service"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # Python's parser recursion
        b'{"a":' * 40 + b"1" + b"}" * 40,  # parses, but deeper than any message
        b'{"service": NaN}',  # Python's JSON extensions are not JSON
        b'{"service": Infinity}',
    ],
)
def test_malformed_json_is_refused(registry: Registry, body: bytes) -> None:
    response = post(registry, "/v1/queue/tickets", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid"


def test_an_integer_beyond_64_bits_is_refused(registry: Registry) -> None:
    heartbeat = m.dump(m.Heartbeat("1.0", "hall"))
    heartbeat["outbox_depth"] = 2**70
    response = post(registry, "/v1/kiosks/heartbeat", json.dumps(heartbeat).encode())
    assert response.status_code == 400, response.text
    assert response.json()["field"].endswith("outbox_depth")
    schema = openapi()["components"]["schemas"]["Heartbeat"]["properties"]["outbox_depth"]
    assert schema["maximum"] == 2**63 - 1  # the document says so, for clients and fuzzers


def test_a_client_that_stops_sending_is_cut_off(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "r.db", client_timeout_s=0.3).start()
    try:
        host, port = sandbox.server.server_address[:2]
        with socket.create_connection((str(host), port), timeout=5) as sock:
            sock.sendall(
                b"POST /v1/queue/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
            )
            assert sock.recv(1024) == b""  # closed by the server, no answer owed
        with socket.create_connection((str(host), port), timeout=5) as sock:
            sock.sendall(b"GET /openapi.json HTT")  # the request line never ends
            assert sock.recv(1024) == b""
        assert requests.get(sandbox.url + "/openapi.json", timeout=5).ok  # still serving
    finally:
        sandbox.stop()


# -- the sandbox's test mode ---------------------------------------------------------------


def test_the_test_routes_exist_only_in_the_test_mode(tmp_path: Path) -> None:
    production = Sandbox(tmp_path / "r.db").start()
    try:
        for path in ("/v1/sandbox/faults", "/v1/sandbox/payer/O1", "/v1/sandbox/cases/C1/register"):
            response = requests.post(production.url + path, data=b"{}", timeout=5)
            assert response.status_code == 404, path
        with pytest.raises(RuntimeError):
            production.control()
    finally:
        production.stop()
    paths = openapi()["paths"]
    assert not [p for p in paths if "sandbox" in p]
    assert not [
        op for ops in paths.values() for op in ops.values() if "sandbox" in op["operationId"]
    ]


@pytest.mark.parametrize("token", ["", "guess", TEST_TOKEN + "x"])
def test_the_test_routes_need_the_test_token(registry: Registry, token: str) -> None:
    wrong = SandboxControl(registry.sandbox.url, token)
    for call in (
        lambda: wrong.faults(m.Faults(status=500, count=5)),
        lambda: wrong.pay("O" + "1" * 15),
        lambda: wrong.register_case("YW20261101000002"),
    ):
        with pytest.raises(Exception) as refused:
            call()
        assert getattr(refused.value, "status", 0) == 401
    wrong.close()
    # the kiosk's own token opens nothing there either
    response = requests.post(
        registry.sandbox.url + "/v1/sandbox/faults",
        json={"status": 500, "count": 5},
        headers={"Authorization": f"Bearer {registry.client.token}"},
        timeout=5,
    )
    assert response.status_code == 401
    assert registry.client.heartbeat(m.Heartbeat("1.0", "hall")).server_time  # no fault was set


# -- the client ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://gateway.example.cn", True),
        ("http://127.0.0.1:8480", True),
        ("http://localhost:8480", True),
        ("http://[::1]:8480", True),
        ("http://gateway.example.cn", False),
        ("http://10.1.2.3:8480", False),
        ("ftp://gateway.example.cn", False),
        ("gateway.example.cn", False),
    ],
)
def test_tls_except_to_loopback(tmp_path: Path, url: str, allowed: bool) -> None:
    site = tmp_path / "site.toml"
    site.write_text(f'[kiosk]\nprofile = "hall-example-k1"\n[backend]\nurl = "{url}"\n')
    if allowed:
        ClientSettings(url)
        assert load_config(site).backend.url == url
    else:
        with pytest.raises(ValueError, match="https"):
            ClientSettings(url)
        with pytest.raises(StrictConfigError, match=r"backend\.url"):
            load_config(site)


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]]
    location = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.seen.append(dict(self.headers))
        self.send_response(307 if self.location else 200)
        if self.location:
            self.send_header("Location", self.location)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self) -> None:
        self.do_POST()


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Another host (127.0.0.2) that records what reaches it."""
    seen: list[dict[str, str]] = []
    handler = type("Elsewhere", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.2", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_is_not_followed_and_no_token_leaves(
    elsewhere: tuple[str, list[dict[str, str]]],
) -> None:
    target, reached = elsewhere
    seen: list[dict[str, str]] = []
    handler = type("Redirector", (_Recorder,), {"seen": seen, "location": target + "/steal"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    client = RegistryClient(
        ClientSettings(f"http://127.0.0.1:{server.server_address[1]}"), token="kiosk-secret"
    )
    try:
        with pytest.raises(BackendRejected, match="redirected"):
            client.list_drafts(operator="operator-secret")
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert len(seen) == 1 and seen[0]["Authorization"] == "Bearer kiosk-secret"
    assert reached == []  # nothing, let alone a token, reached the other host


def test_the_environment_supplies_no_proxy_and_no_ca(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.9:9")  # would swallow every request
    monkeypatch.setenv("http_proxy", "http://127.0.0.9:9")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "attacker-ca.pem"))
    client = RegistryClient(ClientSettings(registry.sandbox.url), token=registry.client.token)
    try:
        assert client.heartbeat(m.Heartbeat("1.0", "hall")).server_time
        assert client.session.trust_env is False
    finally:
        client.close()


def test_headers_of_the_test_mode_are_not_the_clients() -> None:
    """The production client has no call for the test routes and never sends their header."""
    assert not [name for name in dir(RegistryClient) if name.startswith("sandbox")]
    assert (
        SANDBOX_HEADER
        not in Path(__file__).parent.parent.joinpath("kiosk/backend/client.py").read_text()
    )
