"""Deterministic synthetic data: people, properties, banks, mortgages, cases, appointments.

Well-formed by construction (valid ID numbers, unit codes and credit codes), the same on every
run for the same seed, and including the people the device emulators present (demo cards).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
import sqlite3
import time

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.identifiers import make_id_number, uscc_check_char

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚"
    "桂英华建国志红玉兰海燕鹏飞晓东文博雨欣子涵浩然思远佳怡"
)
REGIONS = (
    ("320102", "江苏省南京市玄武区", "苏", "南京市"),
    ("320106", "江苏省南京市鼓楼区", "苏", "南京市"),
    ("370102", "山东省济南市历下区", "鲁", "济南市"),
    ("110105", "北京市朝阳区", "京", "北京市"),
    ("330106", "浙江省杭州市西湖区", "浙", "杭州市"),
)
STREETS = ("中山路", "解放路", "人民路", "建设路", "和平路", "文化路", "长江路", "友谊路")
BANKS = (
    ("ICBC-NJ", "中国工商银行南京分行"),
    ("CCB-NJ", "中国建设银行南京分行"),
    ("BOC-JN", "中国银行济南分行"),
    ("ABC-BJ", "中国农业银行北京分行"),
    ("BOCOM-HZ", "交通银行杭州分行"),
)
USES = ("住宅", "住宅", "住宅", "商业", "办公")
RIGHT_TYPE = "国有建设用地使用权/房屋所有权"
COURTS = ("南京市玄武区人民法院", "济南市历下区人民法院", "北京市朝阳区人民法院")
PEOPLE = 200
PROPERTIES = 300
# the first demo card holder's name before they changed it: one of their properties is still
# registered under it (the name-change demo)
DEMO_FORMER_NAME = "张建华"
SANDBOX_PASSWORD = "Sandbox#2026"  # every seeded operator's password (training only)
DEMO_AUTHORIZATION = "AUTH-DEMO-0001"
# the applications a second operator of the bank reviews before they are filed
REVIEWED_TYPES = ("mortgage_first",)
# appointment codes are random, not a sequence one could walk through
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
DEMO_APPOINTMENT = "YY7K3QD9M2XA"  # the demo card holder's appointment


def password_hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 50_000).hex()


@functools.cache  # deliberately slow, and the same few demo accounts in every sandbox started;
def _seeded_hash(password: str, salt: str) -> str:  # never for a login (no timing tell)
    return password_hash(password, salt)


def make_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc_check_char(body)


CHINA = dt.timezone(dt.timedelta(hours=8))


def demo_appointment_slot(now: float) -> str:
    """The demo card holder's appointment: 40 minutes from when the registry was made (China
    time), so the check-in demo and tests find one that is open for check-in."""
    slot = dt.datetime.fromtimestamp(now, CHINA) + dt.timedelta(minutes=40)
    return slot.strftime("%Y-%m-%dT%H:%M")


def seed(conn: sqlite3.Connection, seed_value: int = 20261122, now: float | None = None) -> None:
    if conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]:
        return
    rng = random.Random(seed_value)
    today = dt.date(2026, 11, 1)
    conn.execute("BEGIN")
    people: list[str] = []
    for card in DEMO_CARDS:
        conn.execute(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)",
            (card.number, card.name, card.sex, card.birth, card.address, "13800138000"),
        )
        people.append(card.number)
    used = set(people)
    while len(people) < PEOPLE + len(DEMO_CARDS):
        code, area, _, _ = rng.choice(REGIONS)
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
        sequence = rng.randrange(1000)
        number = make_id_number(code, birth, sequence)
        if number in used:
            continue
        used.add(number)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        sex = "1" if sequence % 2 else "2"
        address = f"{area}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        conn.execute(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)",
            (number, name, sex, f"{birth:%Y%m%d}", address, phone),
        )
        people.append(number)

    banks = []
    for bank_code, name in BANKS:
        uscc = make_uscc(rng, rng.choice(REGIONS)[0])
        conn.execute(
            "INSERT INTO banks VALUES (?, ?, ?, ?)",
            (bank_code, name, uscc, f"B{rng.randrange(10**7):07d}H{rng.randrange(10**6):06d}"),
        )
        banks.append(bank_code)
        for kind in REVIEWED_TYPES:  # maker-checker, as the centre agreed with the bank
            conn.execute("INSERT INTO review_rules VALUES (?, ?)", (bank_code, kind))
        for i in range(1, 4):
            salt = f"{bank_code}-op{i:02d}"
            conn.execute(
                "INSERT INTO operators (bank_code, operator_id, name, password_hash, salt) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    bank_code,
                    f"op{i:02d}",
                    f"{rng.choice(SURNAMES)}经理{i}",
                    _seeded_hash(SANDBOX_PASSWORD, salt),
                    salt,
                ),
            )

    units: list[str] = []
    owners = people[: len(DEMO_CARDS)] + people[len(DEMO_CARDS) : len(DEMO_CARDS) + 150]
    certificate_serial = 1000
    for index in range(PROPERTIES):
        code, area, province, city = rng.choice(REGIONS)
        building, unit = rng.randrange(1, 60), rng.randrange(1, 3000)
        unit_code = (
            f"{code}{rng.randrange(1, 20):03d}{rng.randrange(1, 20):03d}"
            f"GB{rng.randrange(1, 99999):05d}F{building:04d}{unit:04d}"
        )
        if unit_code in units:
            continue
        certificate_serial += rng.randrange(1, 50)
        year = rng.randrange(2016, 2026)
        certificate = f"{province}({year}){city}不动产权第{certificate_serial:07d}号"
        address = f"{area}{rng.choice(STREETS)}{rng.randrange(1, 300)}号{building}幢{unit}室"
        conn.execute(
            "INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?)",
            (
                unit_code,
                address,
                certificate,
                round(rng.uniform(45, 180), 2),
                rng.choice(USES),
                RIGHT_TYPE,
            ),
        )
        units.append(unit_code)
        first = owners[index % len(owners)] if index < len(owners) * 2 else rng.choice(owners)
        holders = {first}
        if rng.random() < 0.3:
            holders.add(rng.choice(owners))
        for holder in sorted(holders):
            conn.execute(
                "INSERT INTO holders (unit_code, id_number) VALUES (?, ?)", (unit_code, holder)
            )
        if rng.random() < 0.35 or index < len(DEMO_CARDS):
            start = today - dt.timedelta(days=rng.randrange(100, 3000))
            conn.execute(
                "INSERT INTO mortgages (mortgage_id, unit_code, bank_code, amount_fen, maximum, "
                "term_from, term_to, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"M{index:06d}",
                    unit_code,
                    rng.choice(banks),
                    rng.randrange(200_000, 3_000_000) * 100,
                    int(rng.random() < 0.2),
                    f"{start:%Y-%m-%d}",
                    f"{start + dt.timedelta(days=365 * 20):%Y-%m-%d}",
                    "active" if rng.random() < 0.85 or index < len(DEMO_CARDS) else "cancelled",
                ),
            )
        if index % 30 == 7:
            conn.execute(
                "INSERT INTO seizures VALUES (?, ?, ?)",
                (unit_code, rng.choice(COURTS), f"{today - dt.timedelta(days=index):%Y-%m-%d}"),
            )
        if index % 60 == 11:
            conn.execute(
                "INSERT INTO objections (objection_id, unit_code, since, until) "
                "VALUES (?, ?, ?, ?)",
                (
                    f"YY{index:08d}",
                    unit_code,
                    f"{today - dt.timedelta(days=index):%Y-%m-%d}",
                    f"{today - dt.timedelta(days=index - 15):%Y-%m-%d}",
                ),
            )

    # The demo person: a second, unencumbered property, an open case with a fee, a ready case.
    demo = people[0]
    demo_units = [
        r[0]
        for r in conn.execute(
            "SELECT unit_code FROM holders WHERE id_number = ? ORDER BY unit_code", (demo,)
        )
    ]
    if len(demo_units) < 2:
        conn.execute(
            "INSERT OR IGNORE INTO holders (unit_code, id_number) VALUES (?, ?)", (units[-1], demo)
        )
        demo_units.append(units[-1])
    # registered before the demo person changed their name: the name-change demo's property
    renamed = next(unit for unit in demo_units if unit != units[0])
    conn.execute(
        "UPDATE holders SET registered_name = ? WHERE unit_code = ? AND id_number = ?",
        (DEMO_FORMER_NAME, renamed, demo),
    )
    for i, (number, status, fee) in enumerate(
        (
            ("YW20261101000001", "awaiting_payment", 8000),
            ("YW20261101000002", "registered", 0),
        )
    ):
        conn.execute(
            "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                "certificate_reissue" if i == 0 else "mortgage_first",
                status,
                units[0],
                demo,
                fee,
                0,
                "2026-11-01T09:00:00Z",
                "{}",
                "seed",
            ),
        )
    for i in range(40):
        applicant = rng.choice(owners)
        conn.execute(
            "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"YW20261020{i + 1:06d}",
                rng.choice(("mortgage_first", "certificate_reissue")),
                "awaiting_payment",
                rng.choice(units),
                applicant,
                rng.choice((1000, 8000)),
                0,
                "2026-10-20T10:00:00Z",
                "{}",
                "seed",
            ),
        )
    grantee = people[len(DEMO_CARDS) + 160]  # owns nothing: asks about a flat with consent
    conn.execute(
        "INSERT INTO authorizations VALUES (?, ?, ?, ?, ?)",
        (DEMO_AUTHORIZATION, demo, demo, units[0], "2027-12-31"),
    )
    for i in range(20):
        holder_unit = rng.choice(units)
        holder = conn.execute(
            "SELECT id_number FROM holders WHERE unit_code = ?", (holder_unit,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO authorizations VALUES (?, ?, ?, ?, ?)",
            (f"AUTH-{i + 1:08d}", holder, grantee, holder_unit, "2027-12-31"),
        )
    conn.execute(
        "INSERT INTO appointments VALUES (?, ?, ?, ?, 0)",
        (
            DEMO_APPOINTMENT,
            demo,
            "mortgage_cancellation",
            demo_appointment_slot(time.time() if now is None else now),
        ),
    )
    for i in range(20):
        conn.execute(
            "INSERT INTO appointments VALUES (?, ?, ?, ?, 0)",
            (
                "YY" + "".join(rng.choice(CODE_ALPHABET) for _ in range(10)),
                rng.choice(people),
                "query_certificate",
                f"2026-11-22T{9 + i % 8:02d}:00",
            ),
        )
    _seed_shared_flat(conn, people)
    # a 有无房产证明 the demo holder printed for school enrolment: the proof-check demo's
    conn.execute(
        "INSERT INTO queries VALUES (?, 'seed', ?, 'ownership', '', '子女入学', 0, 1, ?, ?, ?)",
        (
            "Q-DEMO-0001",
            demo,
            DEMO_PROOF_CODE,
            "2026-11-01T01:30:00Z",
            '{"kind": "ownership", "owns_property": true, "properties": []}',
        ),
    )
    conn.execute("COMMIT")


def _seed_shared_flat(conn: sqlite3.Connection, people: list[str]) -> None:
    """A flat the demo card holder owns half of with the Hong Kong card's holder (按份共有,
    1/2 each), unencumbered: the private mortgage's demo (玛丽's card is the lender's). Its
    unit code sorts after every other unit, so the other demos' lists start as before."""
    conn.execute(
        "INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?)",
        (
            DEMO_SHARED_UNIT,
            "山东省济南市历下区泉城路88号3幢1201室",
            "鲁(2024)济南市不动产权第9990001号",
            98.5,
            "住宅",
            RIGHT_TYPE,
        ),
    )
    for holder in (people[0], DEMO_CARDS[2].number):
        conn.execute(
            "INSERT INTO holders (unit_code, id_number, share) VALUES (?, ?, '1/2')",
            (DEMO_SHARED_UNIT, holder),
        )


DEMO_SHARED_UNIT = "370102019019GB99999F00990099"
DEMO_PROOF_CODE = "D3M0C0DE2026"  # the seeded proof's verification code
DEMO_CONTRACT = "YS2026-NJ-000101"  # the demo card holder's flat bought off-plan
DEMO_ADVANCE = "YG2025000017"  # the bank's advance-notice mortgage on a flat now registered


def seed_bank(conn: sqlite3.Connection) -> None:
    """The bank service point's demo data: a pre-sale contract and an advance-notice mortgage
    of BOC-JN for the demo card holder. Added to a sandbox that has none (older ones too)."""
    if conn.execute("SELECT COUNT(*) FROM presale_contracts").fetchone()[0]:
        return
    demo = DEMO_CARDS[0].number
    units = [
        r[0]
        for r in conn.execute(
            "SELECT h.unit_code FROM holders h WHERE h.id_number = ? AND NOT EXISTS "
            "(SELECT 1 FROM mortgages g WHERE g.unit_code = h.unit_code AND g.status = 'active') "
            "ORDER BY h.unit_code",
            (demo,),
        )
    ]
    conn.execute("BEGIN")
    new_flat = "320106011005GB20466F00120903"  # GB/T 37346, a flat of a building in pre-sale
    conn.execute(
        "INSERT OR IGNORE INTO properties VALUES (?, ?, ?, ?, ?, ?)",
        (
            new_flat,
            "江苏省南京市鼓楼区江东北路88号12幢903室（预售）",
            f"预售备案{DEMO_CONTRACT}",
            96.5,
            "住宅",
            RIGHT_TYPE,
        ),
    )
    conn.execute(
        "INSERT INTO presale_contracts (contract_number, unit_code, buyer, developer, price_fen) "
        "VALUES (?, ?, ?, ?, ?)",
        (DEMO_CONTRACT, new_flat, demo, DEVELOPER, 312_000_000),
    )
    conn.execute("INSERT INTO contract_buyers VALUES (?, ?, '')", (DEMO_CONTRACT, demo))
    conn.execute("INSERT INTO deed_taxes VALUES (?, ?, '', '')", (DEMO_CONTRACT, 9_360_000))
    if units:
        conn.execute(
            "INSERT INTO advance_mortgages VALUES (?, ?, ?, ?, ?, 'active')",
            (DEMO_ADVANCE, units[-1], "BOC-JN", demo, 150_000_000),
        )
    _seed_new_homes(conn, demo)
    conn.execute("COMMIT")


DEVELOPER = "南京江东置业有限公司"
# new flats of a finished building, first registered to the developer, each bought by the demo
# card holder (with the Hong Kong card's holder for the first, half each):
DEMO_NEW_HOME = "YS2025-NJ-000233"  # to transfer (新建商品房转移登记); the deed tax paid
DEMO_NOTICED_HOME = "YS2024-NJ-000045"  # with the buyer's advance notice: 预告转本
DEMO_NOTICE = "YGDJ2024000045"  # that advance notice
DEMO_MORTGAGED_HOME = "YS2025-NJ-000310"  # the bank's advance-notice mortgage on file: 转移并抵押
DEMO_BANK_ADVANCE = "YG2025000310"


def _seed_new_homes(conn: sqlite3.Connection, demo: str) -> None:
    co_buyer = DEMO_CARDS[2].number
    homes = (
        # contract, unit, room, price, buyers with shares
        (DEMO_NOTICED_HOME, "320106011005GB20466F00110601", "11幢601室", 268_000_000, [(demo, "")]),
        (
            DEMO_NEW_HOME,
            "320106011005GB20466F00110802",
            "11幢802室",
            295_000_000,
            [(demo, "1/2"), (co_buyer, "1/2")],
        ),
        (
            DEMO_MORTGAGED_HOME,
            "320106011005GB20466F00111003",
            "11幢1003室",
            301_000_000,
            [(demo, "")],
        ),
    )
    for index, (contract, unit, room, price, buyers) in enumerate(homes):
        conn.execute(
            "INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?)",
            (
                unit,
                f"江苏省南京市鼓楼区江东北路88号{room}",
                f"苏(2025)南京市不动产权第{9_100_233 + index:07d}号",
                89.0 + index,
                "住宅",
                RIGHT_TYPE,
            ),
        )
        conn.execute(
            "INSERT INTO first_registrations VALUES (?, ?, '2025-11-20')", (unit, DEVELOPER)
        )
        conn.execute(
            "INSERT INTO presale_contracts (contract_number, unit_code, buyer, developer, "
            "price_fen) VALUES (?, ?, ?, ?, ?)",
            (contract, unit, buyers[0][0], DEVELOPER, price),
        )
        conn.executemany(
            "INSERT INTO contract_buyers VALUES (?, ?, ?)",
            [(contract, number, share) for number, share in buyers],
        )
        conn.execute(  # 3% deed tax, paid through the electronic tax office
            "INSERT INTO deed_taxes VALUES (?, ?, ?, '2025-11-28')",
            (contract, price * 3 // 100, f"WS32010625{index:08d}"),
        )
    notice_unit = homes[0][1]
    conn.execute(
        "INSERT INTO advance_notices VALUES (?, ?, ?, '2024-06-03', 'active')",
        (DEMO_NOTICE, DEMO_NOTICED_HOME, notice_unit),
    )
    conn.execute(
        "INSERT INTO advance_mortgages VALUES (?, ?, ?, ?, ?, 'active')",
        (DEMO_BANK_ADVANCE, homes[2][1], "BOC-JN", demo, 180_000_000),
    )
    _seed_objection_demo(conn, demo)


# two flats of 王芳's (the last demo card): the demo card holder, an heir of the family, objects
# to the first's registration (the objection demo) and has an objection standing on the second
DEMO_OBJECTION_UNIT = "370102019019GB99999F00990101"
DEMO_OBJECTED_UNIT = "370102019019GB99999F00990102"


def _seed_objection_demo(conn: sqlite3.Connection, demo: str) -> None:
    holder = DEMO_CARDS[5].number
    if conn.execute("SELECT 1 FROM people WHERE id_number = ?", (holder,)).fetchone() is None:
        return  # a sandbox seeded without the demo cards
    for index, unit in enumerate((DEMO_OBJECTION_UNIT, DEMO_OBJECTED_UNIT)):
        conn.execute(
            "INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?)",
            (
                unit,
                f"山东省济南市市中区经七路{101 + index}号2单元{401 + index}室",
                f"鲁(2019)济南市不动产权第{9_990_101 + index:07d}号",
                76.0,
                "住宅",
                RIGHT_TYPE,
            ),
        )
        conn.execute("INSERT INTO holders (unit_code, id_number) VALUES (?, ?)", (unit, holder))
    today = dt.datetime.now(CHINA).date()
    conn.execute(
        "INSERT INTO objections VALUES (?, ?, ?, ?, ?, ?, 'active')",
        (
            "YY2026DEMO0001",
            DEMO_OBJECTED_UNIT,
            f"{today - dt.timedelta(days=3)}",
            f"{today + dt.timedelta(days=12)}",
            demo,
            "权利人登记有误",
        ),
    )
