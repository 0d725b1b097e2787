"""The sandbox's test mode, over HTTP: what the tests and the training demo use in place of a
payer's phone, the end of the registry's review and a failing network.

Kept apart from :class:`kiosk.backend.client.RegistryClient` on purpose: these routes are not
part of the gateway contract, and the kiosk's production client has no way to call them.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from kiosk.backend import models as m
from kiosk.backend.api import BY_NAME, SANDBOX_HEADER
from kiosk.backend.client import error_for


class SandboxControl:
    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.trust_env = False  # loopback: no proxy from the environment

    def close(self) -> None:
        self.session.close()

    def faults(self, faults: m.Faults) -> m.Faults:
        """From now on, answer the next ``faults.count`` calls with an error or a delay."""
        result: m.Faults = self._call("sandbox_faults", json.dumps(m.dump(faults)).encode())
        return result

    def pay(self, order_id: str) -> m.Order:
        """Settle an order as the payer's phone would."""
        result: m.Order = self._call("sandbox_pay", order_id=order_id)
        return result

    def register_case(self, case_number: str) -> m.Case:
        """End the registry's review of a case: registered."""
        result: m.Case = self._call("sandbox_register", case_number=case_number)
        return result

    def _call(self, name: str, data: bytes | None = None, **path: str) -> Any:
        route = BY_NAME[name]
        headers = {SANDBOX_HEADER: self.token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        response = self.session.request(
            route.method,
            self.base_url + route.url(**path),
            data=data,
            headers=headers,
            timeout=self.timeout_s,
            allow_redirects=False,
        )
        error = error_for(response)
        if error is not None:
            raise error
        return m.parse(route.response, response.json()) if route.response else response.json()
