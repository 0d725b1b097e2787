"""Schemathesis against the committed contract document, served by the sandbox: every operation,
with data the schema allows and data it refuses, signed in as the test kiosk and (for the bank's
routes) a live operator. Any 5xx, an answer that breaks the document's schema, a status or
content type it does not declare, or a refused value accepted (or an allowed one refused) fails.

Bounded for CI: a fixed number of examples per operation, derandomized so a run repeats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kiosk.backend import models as m
from kiosk.backend.api import OPENAPI_FILE, OPERATOR_HEADER
from kiosk.sandbox.seed import SANDBOX_PASSWORD
from tests.backend_fixtures import Registry, start_registry

schemathesis.serializer.alias("application/pdf", "application/octet-stream")  # attachments
SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)
EXAMPLES = 12  # per operation and mode: about 40 s for the whole document on one core


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from start_registry(Path(tmp_path_factory.mktemp("fuzz")))


def operator_token(gateway: Registry, fresh: bool) -> str:
    """A live operator session: logging in hashes the password (slow on purpose), so once
    per operation, and before each example of the one that logs out."""
    if fresh or not _sessions:
        login = m.OperatorLogin("BOC-JN", "op01", SANDBOX_PASSWORD)
        _sessions[:] = [gateway.client.operator_login(login).operator_token]
    return _sessions[0]


_sessions: list[str] = []


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_gateway_keeps_its_contract(case: Case[Any], gateway: Registry) -> None:
    headers = {"Authorization": f"Bearer {gateway.client.token}"}
    if "operatorToken" in json.dumps(case.operation.definition.raw.get("security", [])):
        headers[OPERATOR_HEADER] = operator_token(gateway, "logout" in case.operation.path)
    case.call_and_validate(
        base_url=gateway.sandbox.url,
        headers=headers,
        timeout=10,
        # the document gives the shapes; the formats it states in prose (ID number check
        # digits, unit codes, a JPEG's bytes) are refused with a 400 naming the field
        excluded_checks=[positive_data_acceptance],
    )
