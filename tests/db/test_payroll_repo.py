"""The roster SQL against the pure ledger, idempotent builds, release and immutability."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from activities.payroll_activities import roster_page
from dibao.db import payroll_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.payroll import (
    Change,
    Line,
    LineKind,
    PayrollRun,
    household_lines,
    months_from,
    verify_bank_file,
)
from dibao.settings import Settings

COUNTY = "610423"
BUILT = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)


def seed_case(
    conn: psycopg.Connection[Any],
    case_id: str,
    head_name: str,
    changes: list[tuple[str, int, str]],
    *,
    county: str = COUNTY,
    status: str = "receiving",
    payee: dict[str, Any] | bool | None = True,
) -> None:
    """A case row, its application (the head's name is the account holder) and entitlement
    changes (month, fen, kind), recorded in the order given."""
    township, village = county + "100", county + "100201"
    head_id = hashlib.sha256(case_id.encode()).hexdigest()[:18]
    now = datetime(2026, 8, 1, tzinfo=UTC)
    conn.execute(
        "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
        "rule_pack_version, area_type, province_code, county_code, township_code, village_code, "
        "stage_entered_at, filed_at) VALUES (%s, %s, 'recipient', %s, 'seed-default', 1, "
        "'rural', %s, %s, %s, %s, %s, %s)",
        (case_id, head_id, status, county[:2], county, township, village, now, now),
    )
    if payee is True:  # an account, so the household is paid (without one it is held back)
        payee = {
            "account_holder": head_name,
            "bank": "示例农商银行",
            "account_no": account_of(case_id),
        }
    payload: dict[str, Any] = {
        "members": [
            {"name": head_name, "id_number": head_id, "relation": "head"},
            {"name": "家属", "id_number": "x", "relation": "spouse"},
        ],
        "payee": payee or None,
    }
    conn.execute(
        "INSERT INTO applications (case_id, payload, request_sha256, filed_by, filed_role) "
        "VALUES (%s, %s::jsonb, 'h', 'seed', 'village_caseworker')",
        (case_id, json.dumps(payload, ensure_ascii=False)),
    )
    for month, fen, kind in changes:
        add_change(conn, case_id, month, fen, kind)


def account_of(case_id: str) -> str:
    return "62" + str(int(hashlib.sha256(case_id.encode()).hexdigest(), 16))[:17]


def add_change(
    conn: psycopg.Connection[Any], case_id: str, month: str, fen: int, kind: str = "increase"
) -> None:
    conn.execute(
        "INSERT INTO entitlement_changes (case_id, step_key, certificate_no, effective_month, "
        "monthly_amount_fen, category, reason, recorded_at, change_kind, paid_members) VALUES "
        "(%s, %s, %s, %s, %s, 'A', 'seed', now(), %s, 2)",  # the seeded household: two members
        (case_id, f"seed-{month}-{fen}-{kind}", certificate_for(case_id), month, fen, kind),
    )


def certificate_for(case_id: str) -> str:
    return "6104232026" + hashlib.sha256(case_id.encode()).hexdigest()[:6]


def released_run(
    conn: psycopg.Connection[Any], run_id: str, lines: list[tuple[str, str, str, int]]
) -> None:
    """A released run with arbitrary lines (case, month, kind, fen), as an older release."""
    conn.execute(
        "INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at, "
        "households, total_fen, bank_file, bank_file_sha256, roster_html) VALUES "
        "(%s, %s, %s, 'draft', 'maker', now(), 0, 0, '', '', '')",
        (run_id, COUNTY, run_id.rsplit("-", 2)[-2] + "-" + run_id.rsplit("-", 1)[-1]),
    )
    for case_id, month, kind, fen in lines:
        conn.execute(
            "INSERT INTO payroll_lines (run_id, case_id, month, kind, amount_fen) "
            "VALUES (%s, %s, %s, %s, %s)",
            (run_id, case_id, month, kind, fen),
        )
    conn.execute(
        "UPDATE payroll_runs SET status = 'released', checker = 'checker', released_at = now() "
        "WHERE run_id = %s",
        (run_id,),
    )


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = make_engine(settings)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


def renderer(settings: Settings, maker: str = "li.na") -> Any:
    return lambda run, sha: roster_page(settings.templates_dir, run, sha, maker, BUILT)


# --- the roster SQL and the pure ledger agree ------------------------------------------------


def reference(conn: psycopg.Connection[Any], period: str) -> dict[str, list[Line]]:
    """The pure computation on the same rows, case by case."""
    cases = [
        r[0]
        for r in conn.execute(
            "SELECT case_id FROM cases WHERE county_code = %s AND status = 'receiving'", (COUNTY,)
        )
    ]
    expected: dict[str, list[Line]] = {}
    for case_id in cases:
        changes = [
            Change(month, fen, kind, id=id_)
            for id_, month, fen, kind in conn.execute(
                "SELECT id, effective_month, monthly_amount_fen, change_kind "
                "FROM entitlement_changes WHERE case_id = %s",
                (case_id,),
            )
        ]
        paid = dict(
            conn.execute(
                "SELECT l.month, sum(l.amount_fen)::bigint FROM payroll_lines l JOIN payroll_runs r "
                "USING (run_id) WHERE r.status = 'released' AND l.case_id = %s GROUP BY l.month",
                (case_id,),
            ).fetchall()
        )
        lines = household_lines(changes, paid, period)
        if lines:
            expected[case_id] = lines
    return expected


async def test_roster_sql_equals_the_pure_ledger_on_a_mixed_set(
    conn: psycopg.Connection[Any], session: AsyncSession
) -> None:
    rng = random.Random(20261101)
    months = months_from("2025-10", "2027-03")
    kinds = ["increase", "decrease", "stop", "suspend", "resume", "unchanged"]
    paid_lines: list[tuple[str, str, str, int]] = []
    for i in range(60):
        case_id = f"DB-MIX{i:04d}"
        start = rng.choice(months[:14])
        changes = [(start, rng.randrange(10_000, 90_000, 50), "start")]
        for _ in range(rng.randrange(0, 4)):
            # Later changes, some backdated before others, some in the same month.
            month = rng.choice([m for m in months if m >= start])
            fen = 0 if rng.random() < 0.25 else rng.randrange(10_000, 90_000, 50)
            changes.append((month, fen, "stop" if fen == 0 else rng.choice(kinds)))
        seed_case(conn, case_id, f"户主{i}", changes)
        # What an older payroll paid: right, short, over, or a month before the first change.
        for month in months_from("2025-12", "2026-09"):
            roll = rng.random()
            if roll < 0.5:
                paid_lines.append((case_id, month, "regular", rng.choice([30_000, 50_000])))
            elif roll < 0.55:
                paid_lines.append((case_id, month, "recovery", -5_000))
    # Two duplicate rows of the same month: the later one wins.
    seed_case(conn, "DB-SAME0001", "同月", [("2026-02", 40_000, "start")])
    add_change(conn, "DB-SAME0001", "2026-02", 45_000, "increase")
    # Not in the roster: another county, a closed case, a case not yet receiving.
    seed_case(conn, "DB-OTHER001", "外县", [("2026-01", 50_000, "start")], county="610424")
    seed_case(conn, "DB-CLOSED01", "终止", [("2026-01", 50_000, "start")], status="terminated")
    seed_case(conn, "DB-INPROG01", "审批中", [("2026-01", 50_000, "start")], status="in_progress")
    released_run(conn, "PR-610423-2026-Q3", paid_lines)
    # A draft's lines are not paid yet: the roster ignores them.
    conn.execute(
        "INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at, "
        "households, total_fen, bank_file, bank_file_sha256, roster_html) VALUES "
        "('PR-610423-2026-10', %s, '2026-10', 'draft', 'm', now(), 0, 0, '', '', '')",
        (COUNTY,),
    )
    conn.execute(
        "INSERT INTO payroll_lines (run_id, case_id, month, kind, amount_fen) "
        "VALUES ('PR-610423-2026-10', 'DB-MIX0001', '2026-10', 'regular', 99999)"
    )

    for period in ("2026-11", "2026-Q4", "2026-09", "2027-Q1", "2025-12"):
        households = await payroll_repo.roster(session, COUNTY, period)
        got = {h.case_id: list(h.lines) for h in households}
        assert got == reference(conn, period), period
        assert [h.case_id for h in households] == sorted(got)
    households = await payroll_repo.roster(session, COUNTY, "2026-11")
    kinds_seen = {line.kind for h in households for line in h.lines}
    assert kinds_seen == {LineKind.REGULAR, LineKind.ARREARS, LineKind.RECOVERY}
    by_case = {h.case_id: h for h in households}
    assert by_case["DB-MIX0003"].account_holder == "户主3"
    assert by_case["DB-MIX0003"].certificate_no == certificate_for("DB-MIX0003")
    assert by_case["DB-SAME0001"].lines[-1] == Line("2026-11", LineKind.REGULAR, 45_000)
    assert not {"DB-OTHER001", "DB-CLOSED01", "DB-INPROG01"} & set(by_case)


async def test_roster_sql_equals_the_pure_ledger_after_many_releases_over_the_same_months(
    conn: psycopg.Connection[Any], session: AsyncSession
) -> None:
    # Each release merges its lines into what the household was paid before (as month
    # ranges): runs that pay again, top up, recover or pay nothing for months already paid
    # must leave the roster owing exactly what the pure ledger says.
    rng = random.Random(20261201)
    months = months_from("2026-01", "2026-10")
    for i in range(30):
        seed_case(conn, f"DB-REL{i:04d}", f"户主{i}", [("2026-01", 50_000, "start")])
        if i % 3 == 0:
            add_change(conn, f"DB-REL{i:04d}", "2026-06", 55_000)
    for n, month in enumerate(months):
        lines = []
        for i in range(30):
            roll = rng.random()
            if roll < 0.7:
                lines.append((f"DB-REL{i:04d}", month, "regular", 50_000))
            elif roll < 0.8:
                earlier = rng.choice(months[: n + 1])
                lines.append((f"DB-REL{i:04d}", earlier, "arrears", rng.choice([5_000, 50_000])))
            elif roll < 0.9:
                earlier = rng.choice(months[: n + 1])
                lines.append((f"DB-REL{i:04d}", earlier, "recovery", -5_000))
        released_run(conn, f"PR-610423-{month}", lines)
        for period in (month, "2026-11"):
            households = await payroll_repo.roster(session, COUNTY, period)
            got = {h.case_id: list(h.lines) for h in households}
            assert got == reference(conn, period), (month, period)
    # A household fully paid up to October is one range, not a line per month.
    ranges = conn.execute(
        "SELECT count(*) FROM payroll_paid_ranges WHERE case_id LIKE 'DB-REL%%'"
    ).fetchone()
    lines_paid = conn.execute(
        "SELECT count(*) FROM payroll_lines WHERE case_id LIKE 'DB-REL%%'"
    ).fetchone()
    assert ranges is not None and lines_paid is not None and ranges[0] < lines_paid[0]


# --- building, idempotence, release ----------------------------------------------------------


ACCOUNT_A = {
    "account_holder": "王秀英",
    "bank": "示例农商银行",
    "account_no": "6228480000000000017",
}


def seed_county(conn: psycopg.Connection[Any]) -> None:
    seed_case(conn, "DB-A00000001", "王秀英", [("2026-09", 72_750, "start")], payee=ACCOUNT_A)
    seed_case(conn, "DB-B00000002", "李四", [("2026-11", 30_000, "start")])
    # 李四 gave no account when applying and registered one since; then changed it: the newest.
    for n, account in enumerate(["6217000000000000001", "6217000000000000002"]):
        conn.execute(
            "INSERT INTO payee_accounts (case_id, step_key, account_holder, bank, account_no, "
            "recorded_by, recorded_at) VALUES ('DB-B00000002', %s, '李四', '示例建设银行', %s, "
            "'zhang.wei', now())",
            (f"payee/{n}", account),
        )
    seed_case(conn, "DB-C00000003", "张三", [("2026-12", 50_000, "start")])  # not yet due


async def test_build_stores_the_draft_and_a_second_build_returns_it_unchanged(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_county(conn)
    render = renderer(settings)
    row = await payroll_repo.build_run(session, COUNTY, "2026-11", "li.na", BUILT, render)
    assert (row.run_id, row.status, row.maker, row.checker) == (
        "PR-610423-2026-11",
        "draft",
        "li.na",
        None,
    )
    assert (row.households, row.total_fen) == (2, 72_750 * 3 + 30_000)
    stored = await payroll_repo.bank_file_of(session, row.run_id)
    assert stored is not None
    content, checksum = stored
    assert verify_bank_file(content) and content.endswith(f"SHA256,{checksum}\n")
    assert content.splitlines()[1:4] == [
        "1,DB-A00000001,"
        + certificate_for("DB-A00000001")
        + ",王秀英,示例农商银行,6228480000000000017,2182.50,"
        "2026-09:arrears:727.50;2026-10:arrears:727.50;2026-11:regular:727.50",
        "2,DB-B00000002,"
        + certificate_for("DB-B00000002")
        + ",李四,示例建设银行,6217000000000000002,300.00,2026-11:regular:300.00",
        "TOTAL,2,2482.50",
    ]
    roster = await payroll_repo.roster_of(session, row.run_id)
    assert roster is not None
    for text in (
        "最低生活保障金发放花名册",
        "2026年11月",
        "王秀英",
        "6228480000000000017",
        "2182.50",
        "补发",
        "2482.50",
    ):
        assert text in roster
    for text in ("制表人", "审核人", "负责人", checksum):
        assert text in roster
    lines = conn.execute("SELECT count(*) FROM payroll_lines").fetchone()
    assert lines == (4,)

    # Again, even by someone else after a new change: the same run, the same file.
    add_change(conn, "DB-B00000002", "2026-11", 35_000)
    again = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "zhao.min", BUILT.replace(day=2), render
    )
    assert (again.run_id, again.maker, again.built_at, again.bank_file_sha256) == (
        row.run_id,
        "li.na",
        row.built_at,
        row.bank_file_sha256,
    )
    assert await payroll_repo.bank_file_of(session, row.run_id) == stored
    assert conn.execute("SELECT count(*) FROM payroll_lines").fetchone() == (4,)

    # Another period must wait for this draft's release, or its months would be paid twice.
    with pytest.raises(payroll_repo.PendingDraft) as err:
        await payroll_repo.build_run(session, COUNTY, "2026-12", "li.na", BUILT, render)
    assert err.value.run_id == row.run_id
    assert await payroll_repo.pending_draft(session, COUNTY) == row.run_id

    released = await payroll_repo.release_run(session, row.run_id, "chen.gang", BUILT)
    assert (released.status, released.checker) == ("released", "chen.gang")
    # Building the released period again returns it as released, unchanged.
    after = await payroll_repo.build_run(session, COUNTY, "2026-11", "li.na", BUILT, render)
    assert (after.status, after.checker, after.bank_file_sha256) == (
        "released",
        "chen.gang",
        row.bank_file_sha256,
    )
    # The next period pays December and the backdated November increase as arrears.
    december = await payroll_repo.build_run(session, COUNTY, "2026-12", "li.na", BUILT, render)
    assert december.total_fen == 72_750 + 5_000 + 35_000 + 50_000
    december_file = await payroll_repo.bank_file_of(session, december.run_id)
    assert december_file is not None
    assert "2026-11:arrears:50.00;2026-12:regular:350.00" in december_file[0]


async def test_release_needs_a_checker_other_than_the_maker(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_county(conn)
    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT, renderer(settings)
    )
    with pytest.raises(payroll_repo.SameMakerChecker):
        await payroll_repo.release_run(session, row.run_id, "li.na", BUILT)
    # The database refuses it too, whatever code writes the row.
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "UPDATE payroll_runs SET status = 'released', checker = maker, released_at = now()"
        )
    with pytest.raises(payroll_repo.UnknownRun):
        await payroll_repo.release_run(session, "PR-610423-2031-01", "chen.gang", BUILT)
    first = await payroll_repo.release_run(session, row.run_id, "chen.gang", BUILT)
    # A retry of the same release returns it; another checker is told it is done.
    retry = await payroll_repo.release_run(session, row.run_id, "chen.gang", BUILT)
    assert (retry.status, retry.released_at) == ("released", first.released_at)
    with pytest.raises(payroll_repo.AlreadyReleased):
        await payroll_repo.release_run(session, row.run_id, "sun.li", BUILT)


async def test_released_runs_and_their_lines_are_immutable(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_county(conn)
    render = renderer(settings)
    row = await payroll_repo.build_run(session, COUNTY, "2026-11", "li.na", BUILT, render)
    # A draft may still be corrected.
    conn.execute(
        "UPDATE payroll_lines SET amount_fen = amount_fen WHERE run_id = %s", (row.run_id,)
    )
    await payroll_repo.release_run(session, row.run_id, "chen.gang", BUILT)
    refused = [
        ("UPDATE payroll_runs SET total_fen = 1 WHERE run_id = %s", (row.run_id,)),
        ("UPDATE payroll_runs SET status = 'draft' WHERE run_id = %s", (row.run_id,)),
        ("DELETE FROM payroll_runs WHERE run_id = %s", (row.run_id,)),
        ("UPDATE payroll_lines SET amount_fen = 1 WHERE run_id = %s", (row.run_id,)),
        ("DELETE FROM payroll_lines WHERE run_id = %s", (row.run_id,)),
        (
            "INSERT INTO payroll_lines (run_id, case_id, month, kind, amount_fen) "
            "VALUES (%s, 'DB-C00000003', '2026-11', 'regular', 100)",
            (row.run_id,),
        ),
        ("TRUNCATE payroll_lines", ()),
    ]
    for statement, params in refused:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement, params)
    assert conn.execute(
        "SELECT status, total_fen FROM payroll_runs WHERE run_id = %s", (row.run_id,)
    ).fetchone() == ("released", row.total_fen)
    assert conn.execute("SELECT count(*) FROM payroll_lines").fetchone() == (4,)


async def test_an_overpaid_household_is_held_back_not_debited(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_case(conn, "DB-STOP00001", "赵六", [("2026-09", 50_000, "start")])
    seed_case(conn, "DB-PAID00002", "钱七", [("2026-10", 20_000, "start")])
    released_run(
        conn,
        "PR-610423-2026-10",
        [
            ("DB-STOP00001", "2026-09", "regular", 50_000),
            ("DB-STOP00001", "2026-10", "regular", 50_000),
            ("DB-PAID00002", "2026-10", "regular", 20_000),
        ],
    )
    add_change(conn, "DB-STOP00001", "2026-10", 0, "stop")  # backdated stop
    render = renderer(settings)
    row = await payroll_repo.build_run(session, COUNTY, "2026-11", "li.na", BUILT, render)
    assert (row.households, row.total_fen) == (1, 20_000)
    # The 追回 is listed on the roster for the office, but not booked: it stays owed.
    roster = await payroll_repo.roster_of(session, row.run_id)
    assert roster is not None and "应追回" in roster and "赵六" in roster
    assert conn.execute(
        "SELECT count(*) FROM payroll_lines WHERE case_id = 'DB-STOP00001' AND run_id = %s",
        (row.run_id,),
    ).fetchone() == (0,)
    households = await payroll_repo.roster(session, COUNTY, "2026-11")
    assert households[1].lines == (Line("2026-10", LineKind.RECOVERY, -50_000),)


async def test_a_household_without_an_account_is_held_back_then_paid_as_arrears(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_case(conn, "DB-NOACC0001", "周八", [("2026-11", 40_000, "start")], payee=None)
    seed_case(conn, "DB-ACCNT0002", "吴九", [("2026-11", 20_000, "start")])
    render = renderer(settings)
    november = await payroll_repo.build_run(session, COUNTY, "2026-11", "li.na", BUILT, render)
    assert (november.households, november.total_fen) == (1, 20_000)
    roster = await payroll_repo.roster_of(session, november.run_id)
    assert roster is not None and "未登记代发账户" in roster and "周八" in roster
    assert conn.execute(
        "SELECT count(*) FROM payroll_lines WHERE case_id = 'DB-NOACC0001'"
    ).fetchone() == (0,)
    await payroll_repo.release_run(session, november.run_id, "chen.gang", BUILT)
    # The account is recorded in November: December pays November as 补发.
    conn.execute(
        "INSERT INTO payee_accounts (case_id, step_key, account_holder, bank, account_no, "
        "recorded_by, recorded_at) VALUES ('DB-NOACC0001', 'payee/1', '周八', '示例农商银行', "
        "'6217000000000000009', 'zhang.wei', now())"
    )
    december = await payroll_repo.build_run(session, COUNTY, "2026-12", "li.na", BUILT, render)
    assert (december.households, december.total_fen) == (2, 40_000 * 2 + 20_000)
    stored = await payroll_repo.bank_file_of(session, december.run_id)
    assert stored is not None
    assert (
        "周八,示例农商银行,6217000000000000009,800.00,2026-11:arrears:400.00;2026-12:regular:400.00"
        in stored[0]
    )


def test_render_callback_type(settings: Settings) -> None:
    # The activity's renderer accepts an empty run (a county with nobody to pay).
    page = renderer(settings)(PayrollRun("610423", "2026-Q4", ()), "0" * 64)
    assert "本期无应发放户" in page and "2026年第四季度" in page


async def test_roster_names_an_agent_and_the_reason_they_collect(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    # One household gave an agent at filing; the other recorded one since (payee_accounts).
    agent_at_filing = {
        "account_holder": "刘志强",
        "bank": "示例农商银行",
        "account_no": "6228480000000000017",
        "agent": True,
        "agent_reason": "户主年老卧床，由村委会指定的代领人代领",
    }
    seed_case(conn, "DB-A00000001", "王秀英", [("2026-11", 72_750, "start")], payee=agent_at_filing)
    seed_case(conn, "DB-B00000002", "李四", [("2026-11", 30_000, "start")])
    conn.execute(
        "INSERT INTO payee_accounts (case_id, step_key, account_holder, bank, account_no, agent, "
        "agent_reason, recorded_by, recorded_at) VALUES ('DB-B00000002', 'payee/1', '赵六', "
        "'示例建设银行', '6217000000000000002', true, '监护人代领', 'zhang.wei', now())"
    )
    households = {h.case_id: h for h in await payroll_repo.roster(session, COUNTY, "2026-11")}
    assert (households["DB-A00000001"].agent, households["DB-A00000001"].agent_reason) == (
        True,
        "户主年老卧床，由村委会指定的代领人代领",
    )
    assert (households["DB-B00000002"].agent, households["DB-B00000002"].agent_reason) == (
        True,
        "监护人代领",
    )
    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT, renderer(settings)
    )
    roster = await payroll_repo.roster_of(session, row.run_id)
    assert roster is not None
    assert "刘志强<br><small>代领人（户主年老卧床，由村委会指定的代领人代领）" in roster
    assert "赵六<br><small>代领人（监护人代领）" in roster


def test_an_agent_row_without_a_reason_is_refused_by_the_database(
    conn: psycopg.Connection[Any],
) -> None:
    seed_case(conn, "DB-B00000002", "李四", [("2026-11", 30_000, "start")])
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO payee_accounts (case_id, step_key, account_holder, bank, account_no, "
            "agent, recorded_by, recorded_at) VALUES ('DB-B00000002', 'payee/1', '赵六', "
            "'示例建设银行', '6217000000000000002', true, 'zhang.wei', now())"
        )
