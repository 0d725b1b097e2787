"""flows.toml is checked when it is loaded: every parameter and its value, and that each step
has what it needs from the steps before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.flows.spec import GIVES, NEEDS_BEFORE, load_flows
from kiosk.strict import StrictConfigError

HEAD = '[f]\njourney = "f"\ntitle_zh = "f"\ntitle_en = "f"\n'


def load(tmp_path: Path, steps: str, mode: str = "") -> None:
    path = tmp_path / "flows.toml"
    path.write_text(f'{HEAD}{mode}steps = [{steps}, {{ kind = "done" }}]\n')
    load_flows(path)


def test_the_shipped_flows_load() -> None:
    flows = load_flows()
    assert len(flows) >= 15
    query = flows["authorized_query"].steps[4]
    assert query.param("back_on") == ["not_authorized", "expired"]


@pytest.mark.parametrize(
    ("steps", "where", "problem"),
    [
        ('{ kind = "query", kind_of = "everything" }', "steps[0].kind_of", "one of"),
        ('{ kind = "pay", for = "fun" }', "steps[0].for", "one of"),
        ('{ kind = "ticket", service = "vip" }', "steps[0].service", "one of"),
        ('{ kind = "query", back_on = ["teapot"] }', "steps[0].back_on", "refusal codes"),
        ('{ kind = "query", back_on = "expired" }', "steps[0].back_on", "must be list"),
        ('{ kind = "choose", items = "pets" }', "steps[0].items", "one of"),
        ('{ kind = "print", document = "poster" }', "steps[0].document", "unknown document"),
        ('{ kind = "consent", colour = "red" }', "steps[0].colour", "not a consent parameter"),
    ],
)
def test_a_parameter_value_outside_its_set_stops_the_load(
    tmp_path: Path, steps: str, where: str, problem: str
) -> None:
    with pytest.raises(StrictConfigError) as err:
        load(tmp_path, steps)
    assert f"f.{where}" in str(err.value) and problem in str(err.value)


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ('{ kind = "face_check" }', "face_check needs id_auth before it (for the card)"),
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "query" }',
            "query needs consent before it (for the consent)",
        ),
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "consent" },'
            '{ kind = "query", kind_of = "unit" }',
            "query needs form before it (for the authorization code)",
        ),
        ('{ kind = "print", document = "ticket" }', "print needs ticket before it"),
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "pay", for = "case" }',
            "pay needs choose before it (for the case)",
        ),
        (
            '{ kind = "id_auth" }, { kind = "face_check" },'
            '{ kind = "choose", items = "properties" }, { kind = "review" },'
            '{ kind = "submit", application = "address_change" }',
            "submit needs sign before it (for the signature)",
        ),
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "choose", items = "ready" },'
            '{ kind = "deliver", method = "ems" }',
            "deliver needs choose before it (for the delivery choice)",
        ),
        (
            '{ kind = "id_auth" }, { kind = "ticket", service = "appointment" }',
            "ticket needs choose before it (for the appointment)",
        ),
    ],
)
def test_a_step_without_what_it_needs_from_earlier_stops_the_load(
    tmp_path: Path, steps: str, problem: str
) -> None:
    with pytest.raises(StrictConfigError) as err:
        load(tmp_path, steps)
    assert problem in str(err.value)


def test_what_a_step_needs_is_what_some_step_gives() -> None:
    given = set().union(*GIVES.values())
    for key, needs in NEEDS_BEFORE.items():
        assert needs <= given, key


def test_a_flow_in_its_order_loads(tmp_path: Path) -> None:
    load(
        tmp_path,
        '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "choose", items = "cases" },'
        '{ kind = "pay", for = "case" }, { kind = "print", document = "payment_receipt" }',
    )


PARTIES = (
    '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "choose", items = "to_mortgage" },'
    '{ kind = "party", role = "co_owners" }, { kind = "party", role = "mortgagee" },'
    '{ kind = "review" }'
)


def test_a_sitting_of_several_in_its_order_loads(tmp_path: Path) -> None:
    steps = f'{PARTIES}, {{ kind = "sign", signer = "parties" }}'
    load(tmp_path, steps, 'applicant_role = "mortgagor"\n')


@pytest.mark.parametrize(
    ("steps", "head", "where", "problem"),
    [
        # party steps without the first person's role
        (f'{PARTIES}, {{ kind = "sign", signer = "parties" }}', "", "applicant_role", "names"),
        # a role nobody defined
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "party", role = "uncle" }',
            'applicant_role = "mortgagor"\n',
            "steps[2].role",
            "one of",
        ),
        # the applicant signing alone what several file
        (
            f'{PARTIES}, {{ kind = "sign" }}, '
            '{ kind = "submit", application = "private_mortgage" }',
            'applicant_role = "mortgagor"\n',
            "steps",
            'signer = "parties"',
        ),
        # filing without everyone's signatures
        (
            f'{PARTIES}, {{ kind = "submit", application = "private_mortgage" }}',
            'applicant_role = "mortgagor"\n',
            "steps",
            'everyone signs: signer = "parties"',
        ),
        # everyone signing where nobody else came
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "sign", signer = "parties" }',
            "",
            "steps",
            "one person signs",
        ),
        # co-owners of a flat nobody chose
        (
            '{ kind = "id_auth" }, { kind = "face_check" }, { kind = "party", role = "co_owners" }',
            'applicant_role = "mortgagor"\n',
            "steps[2]",
            "for the property",
        ),
        # a party before the first person is verified
        (
            '{ kind = "id_auth" }, { kind = "party", role = "mortgagee" }',
            'applicant_role = "mortgagor"\n',
            "steps[1]",
            "for the verification",
        ),
        (
            f'{PARTIES}, {{ kind = "sign", signer = "parties" }}',
            'applicant_role = "lender"\n',
            "applicant_role",
            "one of",
        ),
    ],
)
def test_a_sitting_of_several_out_of_order_stops_the_load(
    tmp_path: Path, steps: str, head: str, where: str, problem: str
) -> None:
    with pytest.raises(StrictConfigError) as err:
        load(tmp_path, steps, head)
    assert f"f.{where}" in str(err.value) and problem in str(err.value), str(err.value)
