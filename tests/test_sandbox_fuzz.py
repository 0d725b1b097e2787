"""Random bodies at every write endpoint: the sandbox answers 4xx, never 500, stays consistent."""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.backend import models as m
from kiosk.backend.api import OPERATOR_HEADER, ROUTES, Route
from kiosk.sandbox import db
from kiosk.sandbox.seed import SANDBOX_PASSWORD
from tests.backend_fixtures import Registry

BANK = "BOC-JN"

WRITE_ROUTES = [r for r in ROUTES if r.method == "POST" and r.auth != "sandbox"]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "YW20261101000002",
            "'; DROP TABLE cases;--",
            "11010519491231002X",
            "Q1",
            "\u0000",
            "🏠" * 20,
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def shaped(route: Route) -> st.SearchStrategy[Any]:
    """Bodies with the model's own field names and random values: they get past the parser."""
    if route.request is None:
        return JSON
    names = [f.name for f in dataclasses.fields(route.request)]
    hints = typing.get_type_hints(route.request)
    values = {
        name: (st.text(max_size=30) | SCALARS) if hints[name] is str else JSON for name in names
    }
    return st.fixed_dictionaries({}, optional=values)


def path_for(route: Route, value: str) -> str:
    """The route's path with every {parameter} in it filled with the drawn segment."""
    return route.url(**{p: value for p in re.findall(r"{(\w+)}", route.path)})


def operator_token(registry: Registry) -> str:
    """A fresh bank operator session for each example (the one before may have been logged out)."""
    session = registry.client.operator_login(m.OperatorLogin(BANK, "op01", SANDBOX_PASSWORD))
    return session.operator_token


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_bodies_never_cause_a_server_error(registry: Registry, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(WRITE_ROUTES))
    body = data.draw(JSON | shaped(route))
    segment = data.draw(st.sampled_from(["P1", "YW20261101000002", "x" * 30, "YY7K3QD9M2XA"]))
    key = data.draw(st.text(alphabet="abcdef0123456789-", min_size=0, max_size=70))
    headers = {
        "Authorization": f"Bearer {registry.client.token}",
        # a live operator session, so the bank routes are reached past their gate too
        OPERATOR_HEADER: operator_token(registry),
        "Idempotency-Key": key,
        "Content-Type": data.draw(
            st.sampled_from(["application/json", "application/pdf", "image/jpeg"])
        ),
    }
    raw = data.draw(
        st.sampled_from([json.dumps(body).encode(), b"%PDF-", b"\xff\xd8\xff", b"{not json", b""])
    )
    response = requests.post(
        registry.sandbox.url + path_for(route, segment), data=raw, headers=headers, timeout=10
    )
    assert response.status_code < 500, (route.name, body, response.text)
    assert "error" in response.json() or response.status_code == 200


def test_the_data_stays_consistent_after_the_storm(registry: Registry) -> None:
    test_random_bodies_never_cause_a_server_error(registry)
    conn = db.connect(registry.sandbox.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT COUNT(*) FROM orders WHERE amount_fen <= 0").fetchone()[0] == 0
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM cases WHERE fee_fen < 0 OR type NOT IN "
            "('mortgage_cancellation','address_change','name_change','mortgage_first',"
            "'mortgage_change','advance_mortgage','advance_to_mortgage','certificate_reissue')"
        ).fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT COUNT(*) FROM people").fetchone()[0] >= 200
    assert conn.execute("SELECT COUNT(*) FROM properties").fetchone()[0] >= 300
    conn.close()
