"""Objections (异议登记) and their cancellation, filed at a kiosk by a person who is not the
unit's holder and says the register is wrong about it. Registered at once (seed 004: 异议 is
"即时办结"), free, and lapsing after 15 days unless the objector went to court.

The objector names the unit by the code printed on its certificate. The lookup is the one
route that shows a unit to someone who does not hold it, so it says where the unit is and
whether an objection stands, never who holds it, and allows a few lookups per verification.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

from kiosk.backend import models as m
from kiosk.identifiers import unit_code_problem
from kiosk.redact import mask_name
from kiosk.sandbox.handlers import ApiError, Ctx, _field, _verified, documents_besides_signatures

LOOKUPS_PER_VERIFICATION = 5
OBJECTION_DAYS = 15  # 《不动产登记暂行条例实施细则》第八十三条: lapses unless a suit is filed


def lookup_unit(ctx: Ctx, body: m.UnitLookup) -> m.UnitFound:
    _verified(ctx, body.verification_id)
    code = body.unit_code.strip().upper()
    problem = unit_code_problem(code)
    if problem:
        raise ApiError(400, "invalid", problem, "unit_code")
    done = ctx.one(
        "SELECT COUNT(*) AS n FROM unit_lookups WHERE verification_id = ?", body.verification_id
    )
    if done is not None and done["n"] >= LOOKUPS_PER_VERIFICATION:
        raise ApiError(
            429, "too_many_lookups", "a few units per visit: ask at a counter", "unit_code"
        )
    ctx.conn.execute("INSERT INTO unit_lookups VALUES (?, ?)", (body.verification_id, code))
    row = ctx.one("SELECT address FROM properties WHERE unit_code = ?", code)
    if row is None:
        # the lookup counts all the same: guessing codes costs the same as finding one
        raise ApiError(
            404, "unit_not_found", "no unit with this code", "unit_code", keep_changes=True
        )
    return m.UnitFound(code, row["address"], _standing(ctx, code) is not None)


def _standing(ctx: Ctx, unit_code: str, objector: str | None = None) -> dict[str, str] | None:
    sql = "SELECT * FROM objections WHERE unit_code = ? AND status = 'active' AND until >= ?"
    args: list[str] = [unit_code, ctx.china_day()]
    if objector is not None:
        sql += " AND objector = ?"
        args.append(objector)
    row = ctx.one(sql, *args)
    return dict(row) if row is not None else None


def list_objections(ctx: Ctx, body: m.ObjectionsQuery) -> m.Objections:
    person = _verified(ctx, body.verification_id)
    rows = ctx.conn.execute(
        "SELECT o.*, p.address FROM objections o JOIN properties p USING (unit_code) "
        "WHERE o.objector = ? AND o.status = 'active' AND o.until >= ? ORDER BY o.since",
        (person, ctx.china_day()),
    )
    return m.Objections(
        [
            m.Objection(
                r["objection_id"], r["unit_code"], r["address"], r["reason"], r["since"], r["until"]
            )
            for r in rows
        ]
    )


def check(ctx: Ctx, body: m.Application, applicant: str) -> None:
    if body.type is m.ApplicationType.OBJECTION_CANCELLATION:
        objection = ctx.one(
            "SELECT * FROM objections WHERE objection_id = ? AND unit_code = ? AND objector = ? "
            "AND status = 'active' AND until >= ?",
            _field(body, "objection_id"),
            body.unit_code,
            applicant,
            ctx.china_day(),
        )
        if objection is None:
            raise ApiError(
                409, "no_objection", "no standing objection of yours", "fields.objection_id"
            )
        return
    holder = ctx.one(
        "SELECT 1 FROM holders WHERE unit_code = ? AND id_number = ?", body.unit_code, applicant
    )
    if holder is not None:
        raise ApiError(
            409, "is_holder", "a holder has the register corrected (更正登记), not objected to"
        )
    reason = _field(body, "reason")
    _field(body, "interest")
    if len(reason) > 60:
        raise ApiError(400, "invalid", "reason: at most 60 characters", "fields.reason")
    if _standing(ctx, body.unit_code, applicant) is not None:
        raise ApiError(409, "objection_exists", "your objection on this unit stands already")
    repeated = ctx.one(
        "SELECT 1 FROM objections WHERE unit_code = ? AND objector = ? AND reason = ?",
        body.unit_code,
        applicant,
        reason,
    )
    if repeated is not None:  # 实施细则第八十三条: the same matter, the same reason, again
        raise ApiError(
            409, "objection_repeated", "an objection on this matter for this reason lapsed before"
        )
    if not documents_besides_signatures(ctx, body):
        raise ApiError(400, "invalid", "the evidence of your interest is required", "attachments")


def register_now(ctx: Ctx, body: m.Application, applicant: str, case: str) -> None:
    """Instant: the objection stands from today for 15 days, or it is cancelled."""
    if body.type is m.ApplicationType.OBJECTION:
        today = dt.date.fromisoformat(ctx.china_day())
        ctx.conn.execute(
            "INSERT INTO objections VALUES (?, ?, ?, ?, ?, ?, 'active')",
            (
                objection_id(case),
                body.unit_code,
                today.isoformat(),
                (today + dt.timedelta(days=OBJECTION_DAYS)).isoformat(),
                applicant,
                _field(body, "reason"),
            ),
        )
    else:
        ctx.conn.execute(
            "UPDATE objections SET status = 'cancelled' WHERE objection_id = ?",
            (_field(body, "objection_id"),),
        )


def objection_id(case_number: str) -> str:
    """The objection an OBJECTION case registers (YW… → YY…)."""
    return f"YY{case_number[2:]}"


def objection_stands(ctx: Ctx, case_number: str) -> bool:
    """Registered, not withdrawn and not lapsed."""
    row = ctx.one(
        "SELECT 1 FROM objections WHERE objection_id = ? AND status = 'active' AND until >= ?",
        objection_id(case_number),
        ctx.china_day(),
    )
    return row is not None


def objection_proof(ctx: Ctx, case: sqlite3.Row) -> tuple[list[str], list[m.FieldValue]]:
    """The 不动产登记证明 of an objection, for its objector: the objection, its term; the
    holders it concerns masked (the objector is told no more of them than the register shows
    the public)."""
    objector = ctx.one("SELECT name FROM people WHERE id_number = ?", case["applicant"])
    row = ctx.one(
        "SELECT * FROM objections WHERE objection_id = ?", objection_id(case["case_number"])
    )
    assert objector is not None and row is not None  # registered with the case
    holders = [
        mask_name(r["name"])
        for r in ctx.conn.execute(
            "SELECT p.name FROM holders h JOIN people p USING (id_number) WHERE h.unit_code = ? "
            "ORDER BY p.id_number",
            (case["unit_code"],),
        )
    ]
    other = f"异议事项：{row['reason']}；异议登记期间：{row['since']} 至 {row['until']}"
    return [objector["name"]], [
        m.FieldValue("matter", "异议登记"),
        m.FieldValue("holder", objector["name"]),
        m.FieldValue("obligors", "、".join(holders) or "/"),
        m.FieldValue("other", other),
    ]


OBJECTION_HANDLERS: dict[str, Callable[[Ctx, Any], Any]] = {
    "lookup_unit": lookup_unit,
    "list_objections": list_objections,
}
