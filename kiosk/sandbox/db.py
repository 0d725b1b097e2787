"""The sandbox registry's SQLite schema. Every statement takes parameters, never text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id_number TEXT PRIMARY KEY, name TEXT NOT NULL, sex TEXT NOT NULL, birth TEXT NOT NULL,
    address TEXT NOT NULL, phone TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS properties (
    unit_code TEXT PRIMARY KEY, address TEXT NOT NULL, certificate_number TEXT NOT NULL UNIQUE,
    area_m2 REAL NOT NULL, use TEXT NOT NULL, right_type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holders (
    unit_code TEXT NOT NULL REFERENCES properties, id_number TEXT NOT NULL REFERENCES people,
    -- the name the register has for this holder on this unit when it is not their name now
    -- (registered before a name change: 更名登记 brings it up to date); '' = people.name
    registered_name TEXT NOT NULL DEFAULT '',
    -- 按份共有: this holder's share ("1/2"); '' for a sole holder or holders in common
    share TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (unit_code, id_number)
);
CREATE TABLE IF NOT EXISTS banks (
    bank_code TEXT PRIMARY KEY, name TEXT NOT NULL, uscc TEXT NOT NULL UNIQUE,
    licence_number TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operators (
    bank_code TEXT NOT NULL REFERENCES banks, operator_id TEXT NOT NULL, name TEXT NOT NULL,
    password_hash TEXT NOT NULL, salt TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0, PRIMARY KEY (bank_code, operator_id)
);
CREATE TABLE IF NOT EXISTS mortgages (
    mortgage_id TEXT PRIMARY KEY, unit_code TEXT NOT NULL REFERENCES properties,
    -- the mortgagee: a bank, or a person (个人之间抵押: bank_code NULL, lender their number)
    bank_code TEXT REFERENCES banks, amount_fen INTEGER NOT NULL,
    maximum INTEGER NOT NULL, term_from TEXT NOT NULL, term_to TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    lender TEXT REFERENCES people,
    CHECK ((bank_code IS NULL) != (lender IS NULL))
);
CREATE TABLE IF NOT EXISTS seizures (
    unit_code TEXT NOT NULL REFERENCES properties, court TEXT NOT NULL, since TEXT NOT NULL
);
-- 异议登记: by someone who is not a holder (objector NULL: registered at a counter); it lapses
-- after ``until`` (15 days) unless the objector went to court, or the objector cancels it
CREATE TABLE IF NOT EXISTS objections (
    objection_id TEXT PRIMARY KEY, unit_code TEXT NOT NULL REFERENCES properties,
    since TEXT NOT NULL, until TEXT NOT NULL, objector TEXT REFERENCES people,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled'))
);
-- a unit looked up by its code for an objection: a few per verification (not a directory)
CREATE TABLE IF NOT EXISTS unit_lookups (
    verification_id TEXT NOT NULL REFERENCES verifications, unit_code TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS authorizations (
    code TEXT PRIMARY KEY, holder TEXT NOT NULL REFERENCES people,
    grantee TEXT NOT NULL REFERENCES people, unit_code TEXT NOT NULL REFERENCES properties,
    expires TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kiosks (kiosk_id TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS heartbeats (
    kiosk_id TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS verifications (
    verification_id TEXT PRIMARY KEY, id_number TEXT NOT NULL, result TEXT NOT NULL,
    kiosk_id TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS queries (
    query_id TEXT PRIMARY KEY, verification_id TEXT NOT NULL, id_number TEXT NOT NULL,
    kind TEXT NOT NULL, unit_code TEXT NOT NULL, purpose TEXT NOT NULL, fee_fen INTEGER NOT NULL,
    paid INTEGER NOT NULL, code TEXT NOT NULL UNIQUE, created TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    attachment_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    content_type TEXT NOT NULL, data BLOB NOT NULL, kiosk_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    case_number TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL,
    unit_code TEXT NOT NULL, applicant TEXT NOT NULL, fee_fen INTEGER NOT NULL,
    paid INTEGER NOT NULL, created TEXT NOT NULL, body TEXT NOT NULL, kiosk_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    target TEXT NOT NULL, amount_fen INTEGER NOT NULL, channel TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL, paid_at TEXT,
    receipt_number TEXT, kiosk_id TEXT NOT NULL, id_number TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    refund_no TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders,
    amount_fen INTEGER NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paper (
    -- no case: a sheet a kiosk's maintenance page took
    paper_serial TEXT PRIMARY KEY, case_number TEXT REFERENCES cases,
    outcome TEXT NOT NULL, at TEXT NOT NULL, kiosk_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    case_number TEXT NOT NULL REFERENCES cases, method TEXT NOT NULL, reference TEXT NOT NULL,
    body TEXT NOT NULL, at TEXT NOT NULL, kiosk_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket_number TEXT PRIMARY KEY, service TEXT NOT NULL, issued TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS appointments (
    code TEXT PRIMARY KEY, id_number TEXT NOT NULL REFERENCES people, service TEXT NOT NULL,
    slot TEXT NOT NULL, checked_in INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS idempotency (
    kiosk_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
    status INTEGER NOT NULL, content_type TEXT NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (kiosk_id, key)
);
CREATE TABLE IF NOT EXISTS query_prints (
    query_id TEXT PRIMARY KEY REFERENCES queries, printed_at TEXT NOT NULL, kiosk_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_records (
    kiosk_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, outcome TEXT NOT NULL, fields TEXT NOT NULL, prev TEXT NOT NULL,
    hash TEXT NOT NULL, PRIMARY KEY (kiosk_id, seq)
);
CREATE TABLE IF NOT EXISTS operator_sessions (
    token TEXT PRIMARY KEY, bank_code TEXT NOT NULL, operator_id TEXT NOT NULL,
    name TEXT NOT NULL, kiosk_id TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS witnessed (
    verification_id TEXT PRIMARY KEY REFERENCES verifications, bank_code TEXT NOT NULL,
    operator_id TEXT NOT NULL, statement_sha256 TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bank_authorizations (
    authorization_id TEXT PRIMARY KEY, bank_code TEXT NOT NULL, operator_id TEXT NOT NULL,
    id_number TEXT NOT NULL, verification_id TEXT NOT NULL, scope TEXT NOT NULL,
    signature_sha256 TEXT NOT NULL, created TEXT NOT NULL, expires REAL NOT NULL,
    case_number TEXT NOT NULL
);
-- a new flat's sale contract on file with the housing authority (网签备案); ``buyer`` is the
-- first buyer (the bank's borrower), contract_buyers has every buyer with their share
CREATE TABLE IF NOT EXISTS presale_contracts (
    contract_number TEXT PRIMARY KEY, unit_code TEXT NOT NULL REFERENCES properties,
    buyer TEXT NOT NULL REFERENCES people, developer TEXT NOT NULL, price_fen INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'filed' CHECK (status IN ('filed', 'rescinded', 'transferred'))
);
CREATE TABLE IF NOT EXISTS contract_buyers (
    contract_number TEXT NOT NULL REFERENCES presale_contracts,
    id_number TEXT NOT NULL REFERENCES people, share TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (contract_number, id_number)
);
-- the developer's first registration of a flat (房屋所有权首次登记): built, in its name
CREATE TABLE IF NOT EXISTS first_registrations (
    unit_code TEXT PRIMARY KEY REFERENCES properties, developer TEXT NOT NULL,
    registered_on TEXT NOT NULL
);
-- the tax link's answer for a contract: the deed tax (契税), paid once it has a receipt
CREATE TABLE IF NOT EXISTS deed_taxes (
    contract_number TEXT PRIMARY KEY REFERENCES presale_contracts, amount_fen INTEGER NOT NULL,
    receipt_number TEXT NOT NULL DEFAULT '', paid_on TEXT NOT NULL DEFAULT ''
);
-- the buyers' advance notice (预购商品房预告登记): nobody else can register the flat
CREATE TABLE IF NOT EXISTS advance_notices (
    notice_id TEXT PRIMARY KEY, contract_number TEXT NOT NULL REFERENCES presale_contracts,
    unit_code TEXT NOT NULL REFERENCES properties, since TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'cancelled', 'converted'))
);
CREATE TABLE IF NOT EXISTS advance_mortgages (
    notice_id TEXT PRIMARY KEY, unit_code TEXT NOT NULL REFERENCES properties,
    bank_code TEXT NOT NULL REFERENCES banks, id_number TEXT NOT NULL REFERENCES people,
    amount_fen INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'converted'))
);
CREATE TABLE IF NOT EXISTS drafts (
    draft_id TEXT PRIMARY KEY, bank_code TEXT NOT NULL, maker TEXT NOT NULL,
    maker_name TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
    updated TEXT NOT NULL, checker TEXT NOT NULL, case_number TEXT NOT NULL
);
-- everyone besides the applicant who took part in a case in person (a co-owner, the lender)
CREATE TABLE IF NOT EXISTS case_parties (
    case_number TEXT NOT NULL REFERENCES cases, id_number TEXT NOT NULL, role TEXT NOT NULL,
    verification_id TEXT NOT NULL, PRIMARY KEY (case_number, id_number)
);
-- the check code printed on a certificate or registration proof (证明核验): one per document
-- of a case (a transfer with a mortgage issues the buyers' title and the bank's proof), with
-- what it stated when it was issued
CREATE TABLE IF NOT EXISTS document_codes (
    code TEXT PRIMARY KEY, case_number TEXT NOT NULL REFERENCES cases, kind TEXT NOT NULL,
    issued_at TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (case_number, kind)
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS review_rules (
    bank_code TEXT NOT NULL REFERENCES banks, type TEXT NOT NULL, PRIMARY KEY (bank_code, type)
);
CREATE TABLE IF NOT EXISTS certificate_issues (
    case_number TEXT NOT NULL REFERENCES cases, kiosk_id TEXT NOT NULL,
    verification_id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (case_number, kiosk_id)
);
"""
# Raised when the tables change. A sandbox file of another version is training data: it is
# put aside and a new one seeded (the kiosk's own stores migrate; see issue 18).
SCHEMA_VERSION = 5


# the holder's name as the register has it (see holders.registered_name); h JOIN p
HOLDER_NAME = "COALESCE(NULLIF(h.registered_name, ''), p.name)"


def connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def current(conn: sqlite3.Connection) -> bool:
    """Whether the file is new or of this schema version."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    return version == SCHEMA_VERSION or not tables
