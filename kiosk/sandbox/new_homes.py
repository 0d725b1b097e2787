"""New flats bought from their developer: the sale contracts on file, the tax link, and the
rules of the registrations their buyers file at a kiosk (seed 003: 网签备案 → 预告登记 → the
developer's first registration → 完税 → 首次转移登记, with the bank's 抵押预告 converted at
the same time).

Who may see what: a contract is shown to its own buyers only, verified at this kiosk; the other
buyers' names and numbers masked. The tax status of a contract likewise. Every application is
filed by a buyer with every other buyer present and signing (``parties`` with role "buyer").
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from kiosk.backend import models as m
from kiosk.redact import mask_id_number, mask_name
from kiosk.sandbox.handlers import (
    CONTRACT_TYPES,
    ApiError,
    Ctx,
    _field,
    _verified,
    documents_besides_signatures,
    refuse_if_seized,
    require_everyone,
)

__all__ = ["CONTRACT_TYPES", "check", "notice_id", "notice_proof", "notice_stands", "register"]
# the registrations that pass the flat to its buyers
TRANSFERS = frozenset(
    {
        m.ApplicationType.NEW_HOME_TRANSFER,
        m.ApplicationType.ADVANCE_TO_OWNERSHIP,
        m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE,
    }
)


def _buyers(ctx: Ctx, contract_number: str) -> list[sqlite3.Row]:
    return ctx.conn.execute(
        "SELECT b.id_number, b.share, p.name FROM contract_buyers b JOIN people p "
        "USING (id_number) WHERE b.contract_number = ? ORDER BY b.rowid",
        (contract_number,),
    ).fetchall()


def _notice(ctx: Ctx, contract_number: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM advance_notices WHERE contract_number = ? AND status = 'active'",
        contract_number,
    )


def _bank_part(ctx: Ctx, unit_code: str, buyers: set[str]) -> sqlite3.Row | None:
    """The bank's advance-notice mortgage on file for the flat, taken by one of its buyers."""
    for row in ctx.conn.execute(
        "SELECT a.*, b.name AS bank FROM advance_mortgages a JOIN banks b USING (bank_code) "
        "WHERE a.unit_code = ? AND a.status = 'active' ORDER BY a.notice_id",
        (unit_code,),
    ):
        if row["id_number"] in buyers:
            found: sqlite3.Row = row
            return found
    return None


def _built(ctx: Ctx, unit_code: str) -> bool:
    return ctx.one("SELECT 1 FROM first_registrations WHERE unit_code = ?", unit_code) is not None


def _contract(ctx: Ctx, row: sqlite3.Row, viewer: str) -> m.SaleContract:
    buyers = _buyers(ctx, row["contract_number"])
    numbers = {b["id_number"] for b in buyers}
    notice = _notice(ctx, row["contract_number"])
    bank = _bank_part(ctx, row["unit_code"], numbers)
    return m.SaleContract(
        row["contract_number"],
        row["unit_code"],
        row["address"],
        row["developer"],
        row["price_fen"],
        [b["name"] if b["id_number"] == viewer else mask_name(b["name"]) for b in buyers],
        [b["share"] for b in buyers],
        [
            b["id_number"] if b["id_number"] == viewer else mask_id_number(b["id_number"])
            for b in buyers
        ],
        _built(ctx, row["unit_code"]),
        notice["notice_id"] if notice else "",
        bank["bank"] if bank else "",
        bank["amount_fen"] if bank else 0,
        ctx.one("SELECT 1 FROM seizures WHERE unit_code = ?", row["unit_code"]) is not None,
    )


def list_contracts(ctx: Ctx, body: m.SaleContractsQuery) -> m.SaleContracts:
    """The person's contracts still open (filed: not rescinded, not yet transferred)."""
    person = _verified(ctx, body.verification_id)
    rows = ctx.conn.execute(
        "SELECT c.*, p.address FROM presale_contracts c JOIN properties p USING (unit_code) "
        "WHERE c.status = 'filed' AND c.contract_number IN "
        "(SELECT contract_number FROM contract_buyers WHERE id_number = ?) "
        "ORDER BY c.contract_number",
        (person,),
    ).fetchall()
    return m.SaleContracts([_contract(ctx, r, person) for r in rows])


def _own_contract(ctx: Ctx, person: str, contract_number: str) -> sqlite3.Row:
    """The contract, for one of its buyers; anyone else is told there is none (a contract
    number grants nothing)."""
    row = ctx.one(
        "SELECT c.* FROM presale_contracts c JOIN contract_buyers b USING (contract_number) "
        "WHERE c.contract_number = ? AND b.id_number = ?",
        contract_number.strip(),
        person,
    )
    if row is None:
        raise ApiError(404, "not_found", "no such contract of yours", "contract_number")
    return row


def tax_status(ctx: Ctx, body: m.TaxQuery) -> m.TaxStatus:
    person = _verified(ctx, body.verification_id)
    row = _own_contract(ctx, person, body.contract_number)
    tax = ctx.one("SELECT * FROM deed_taxes WHERE contract_number = ?", row["contract_number"])
    if tax is None:  # the tax office has not assessed it yet
        return m.TaxStatus(row["contract_number"], False, 0)
    return m.TaxStatus(
        row["contract_number"],
        bool(tax["receipt_number"]),
        tax["amount_fen"],
        tax["receipt_number"],
        tax["paid_on"],
    )


def check(
    ctx: Ctx, body: m.Application, applicant: str, parties: list[tuple[str, str, str]]
) -> None:
    """The rules of the contract registrations: the contract on file for this flat and open;
    every buyer present (the applicant and each other as "buyer"), nobody else; not seized;
    and what each type needs of the flat (built or not), the advance notice, the tax and the
    bank's part."""
    kind = body.type
    contract = ctx.one(
        "SELECT * FROM presale_contracts WHERE contract_number = ? AND unit_code = ?",
        _field(body, "contract_number"),
        body.unit_code,
    )
    if contract is None:
        raise ApiError(
            409, "no_contract", "no sale contract on file for this unit", "fields.contract_number"
        )
    if contract["status"] != "filed":
        raise ApiError(
            409,
            "contract_closed",
            f"the contract is {contract['status']}: nothing more can be registered on it",
            "fields.contract_number",
        )
    buyers = {b["id_number"]: b["name"] for b in _buyers(ctx, contract["contract_number"])}
    signing = {applicant} | {n for n, _role, _ in parties}
    if applicant not in buyers or signing - set(buyers):
        raise ApiError(409, "not_buyer", "everyone who signs must be a buyer on the contract")
    require_everyone(buyers, signing, "every buyer applies")
    refuse_if_seized(ctx, body.unit_code)
    notice = _notice(ctx, contract["contract_number"])
    built = _built(ctx, body.unit_code)
    if kind is m.ApplicationType.ADVANCE_NOTICE:
        if notice is not None:
            raise ApiError(409, "notice_exists", "the advance notice is registered already")
        if built:
            raise ApiError(
                409,
                "already_built",
                "the flat is first registered: apply for the transfer (新建商品房转移登记)",
            )
        return
    if kind is m.ApplicationType.ADVANCE_NOTICE_CANCELLATION:
        if notice is None:
            raise ApiError(409, "no_notice", "no advance notice on this contract")
        if not documents_besides_signatures(ctx, body):
            raise ApiError(
                400, "invalid", "the agreement to rescind the contract is required", "attachments"
            )
        return
    # a transfer: the flat built and in the developer's name, the deed tax paid
    if not built:
        raise ApiError(
            409,
            "not_built",
            "the developer's first registration is not done: register the advance notice",
        )
    tax = ctx.one("SELECT * FROM deed_taxes WHERE contract_number = ?", contract["contract_number"])
    if tax is None or not tax["receipt_number"]:
        raise ApiError(409, "tax_unpaid", "the deed tax of this contract is not paid")
    bank = _bank_part(ctx, body.unit_code, set(buyers))
    if kind is m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE:
        if bank is None:
            raise ApiError(409, "no_bank_part", "no bank's advance-notice mortgage is on file")
        return
    if bank is not None:  # the bank's mortgage converts with the transfer, never left behind
        raise ApiError(
            409,
            "bank_part_on_file",
            f"{bank['bank']} has an advance-notice mortgage on it: apply for 转移并抵押",
        )
    if kind is m.ApplicationType.NEW_HOME_TRANSFER and notice is not None:
        raise ApiError(
            409, "notice_on_file", "the advance notice is registered: apply for 预告转本"
        )
    if kind is m.ApplicationType.ADVANCE_TO_OWNERSHIP and notice is None:
        raise ApiError(409, "no_notice", "no advance notice on this contract")


def register(ctx: Ctx, case: sqlite3.Row, values: dict[str, str]) -> None:
    """The review ends: what the registration changes on the register."""
    kind = m.ApplicationType(case["type"])
    contract_number = values.get("contract_number", "")
    if kind is m.ApplicationType.ADVANCE_NOTICE:
        ctx.conn.execute(
            "INSERT INTO advance_notices VALUES (?, ?, ?, ?, 'active')",
            (notice_id(case["case_number"]), contract_number, case["unit_code"], ctx.china_day()),
        )
        return
    if kind is m.ApplicationType.ADVANCE_NOTICE_CANCELLATION:
        ctx.conn.execute(
            "UPDATE advance_notices SET status = 'cancelled' WHERE contract_number = ? "
            "AND status = 'active'",
            (contract_number,),
        )
        ctx.conn.execute(
            "UPDATE presale_contracts SET status = 'rescinded' WHERE contract_number = ?",
            (contract_number,),
        )
        return
    if kind not in TRANSFERS:
        return
    # the flat passes from the developer to the buyers, with their shares, under a new
    # certificate; the advance notice has served its purpose
    buyers = _buyers(ctx, contract_number)
    ctx.conn.executemany(
        "INSERT INTO holders (unit_code, id_number, share) VALUES (?, ?, ?)",
        [(case["unit_code"], b["id_number"], b["share"]) for b in buyers],
    )
    ctx.conn.execute("DELETE FROM first_registrations WHERE unit_code = ?", (case["unit_code"],))
    ctx.conn.execute(
        "UPDATE properties SET certificate_number = ? WHERE unit_code = ?",
        (
            f"苏({ctx.china_day()[:4]})南京市不动产权第{8_000_000 + int(case['case_number'][-6:])}"
            "号",
            case["unit_code"],
        ),
    )
    ctx.conn.execute(
        "UPDATE advance_notices SET status = 'converted' WHERE contract_number = ? "
        "AND status = 'active'",
        (contract_number,),
    )
    ctx.conn.execute(
        "UPDATE presale_contracts SET status = 'transferred' WHERE contract_number = ?",
        (contract_number,),
    )
    if kind is m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE:
        bank = _bank_part(ctx, case["unit_code"], {b["id_number"] for b in buyers})
        if bank is not None:
            ctx.conn.execute(
                "UPDATE advance_mortgages SET status = 'converted' WHERE notice_id = ?",
                (bank["notice_id"],),
            )
            ctx.conn.execute(
                "INSERT INTO mortgages (mortgage_id, unit_code, bank_code, amount_fen, maximum, "
                "term_from, term_to, status) VALUES (?, ?, ?, ?, 0, ?, ?, 'active')",
                (
                    f"M{case['case_number']}",
                    case["unit_code"],
                    bank["bank_code"],
                    bank["amount_fen"],
                    ctx.china_day(),
                    f"{int(ctx.china_day()[:4]) + 30}{ctx.china_day()[4:]}",
                ),
            )


def notice_id(case_number: str) -> str:
    """The advance notice an ADVANCE_NOTICE case registers (YW… → YGDJ…)."""
    return f"YGDJ{case_number[2:]}"


def notice_stands(ctx: Ctx, case_number: str) -> bool:
    row = ctx.one(
        "SELECT 1 FROM advance_notices WHERE notice_id = ? AND status = 'active'",
        notice_id(case_number),
    )
    return row is not None


def notice_proof(ctx: Ctx, case: sqlite3.Row) -> tuple[list[str], list[m.FieldValue]]:
    """The 不动产登记证明 of an advance notice: the buyers' right to have the flat registered
    to them (预告登记), the developer bound by it, the contract and price."""
    body = json.loads(case["body"]) if case["body"] else {}
    values = {f["name"]: f["value"] for f in body.get("fields", [])}
    contract = ctx.one(
        "SELECT * FROM presale_contracts WHERE contract_number = ?",
        values.get("contract_number", ""),
    )
    assert contract is not None  # checked when it was filed
    buyers = _buyers(ctx, contract["contract_number"])
    holders = [b["name"] for b in buyers]
    named = "、".join(f"{b['name']}（{b['share']}）" if b["share"] else b["name"] for b in buyers)
    other = (
        f"预告登记种类：预购商品房买卖；合同备案号：{contract['contract_number']}；"
        f"成交价：{contract['price_fen'] / 100:,.2f} 元"
    )
    return holders, [
        m.FieldValue("matter", "预告登记"),
        m.FieldValue("holder", named),
        m.FieldValue("obligors", contract["developer"]),
        m.FieldValue("other", other),
    ]


NEW_HOME_HANDLERS: dict[str, Callable[[Ctx, Any], Any]] = {
    "list_contracts": list_contracts,
    "tax_status": tax_status,
}
