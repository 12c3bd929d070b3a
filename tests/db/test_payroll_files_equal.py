# ruff: noqa: F811  (the fixtures of test_payroll_repo, imported, are parameters here)
"""The files a build stores are byte for byte the reference ones: the bank file is
`dibao.domain.payroll.bank_file` of the run, the roster page the template rendered by Jinja
(`RosterParts.whole`), whatever the households' names, banks and agents hold (commas, quotes,
line breaks, spreadsheet formulas, markup), in every section of the roster."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from activities.payroll_activities import RosterParts
from dibao.db import payroll_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.payroll import assemble_run, bank_file, verify_bank_file
from dibao.settings import Settings
from tests.db.test_payroll_repo import (  # noqa: F401  (fixtures)
    BUILT,
    COUNTY,
    add_change,
    conn,
    released_run,
    renderer,
    seed_case,
    session,
    settings,
)

# Names and banks as people type them, and as an attacker would.
AWKWARD = [
    "阿依古丽,买买提",
    '王"小"明',
    "换行\n之后",
    "回车\r之后",
    '=HYPERLINK("http://evil.example/","点击")',
    "+86 138",
    "-1",
    "@SUM(1+1)",
    "\t制表符",
    "\r回车开头",
    "<script>alert('x')</script> & 李",
    "  前后空格  ",
    "'单引号",
    "",
]


def seed_awkward_county(conn: psycopg.Connection[Any]) -> None:
    for n, name in enumerate(AWKWARD):
        payee: dict[str, Any] = {
            "account_holder": name,
            "bank": AWKWARD[(n + 3) % len(AWKWARD)] or "示例农商银行",
            "account_no": f"62284800000000{n:05d}",
        }
        if n % 4 == 1:  # an agent named at filing, the reason with markup in it
            payee |= {"agent": True, "agent_reason": f"户主<卧床>&{name}"}
        seed_case(
            conn,
            f"DB-W{n:08d}",
            name or "无名",
            [("2026-09", 30_000 + n * 7, "start")],
            payee=payee,
        )
        if n % 3 == 0:  # a backdated increase: arrears for September and October
            add_change(conn, f"DB-W{n:08d}", "2026-09", 31_005 + n)
    # An account recorded since filing, by an agent, overrides the application's.
    conn.execute(
        "INSERT INTO payee_accounts (case_id, step_key, account_holder, bank, account_no, agent, "
        "agent_reason, recorded_by, recorded_at) VALUES ('DB-W00000002', 'payee/1', %s, %s, "
        "'6217000000000000002', true, %s, 'zhang.wei', now())",
        ('赵"六",代领', "=建设银行", "监护人\n代领 <b>"),
    )
    for n, name in enumerate(AWKWARD[:4]):  # held back: no account
        seed_case(
            conn, f"DB-H{n:08d}", name or "无名", [("2026-11", 20_000 + n, "start")], payee=None
        )
    # Netting zero, and overpaid (to recover outside the bank file).
    seed_case(conn, "DB-Z00000001", "相抵,<零>", [("2026-09", 20_000, "start")])
    seed_case(conn, "DB-Y00000001", '多发"户"', [("2026-09", 20_000, "start")])
    add_change(conn, "DB-Z00000001", "2026-11", 0, "stop")
    add_change(conn, "DB-Y00000001", "2026-11", 0, "stop")
    released_run(
        conn,
        "PR-610423-2026-10",
        [
            ("DB-Z00000001", "2026-09", "regular", 30_000),
            ("DB-Z00000001", "2026-10", "regular", 10_000),
            ("DB-Y00000001", "2026-09", "regular", 25_050),
            ("DB-Y00000001", "2026-10", "regular", 25_001),
        ]
        + [(f"DB-W{n:08d}", "2026-10", "regular", 30_000 + n * 7) for n in range(len(AWKWARD))],
    )


async def assert_build_is_the_reference(
    conn: psycopg.Connection[Any],
    session: AsyncSession,
    settings: Settings,
    period: str,
    sections: tuple[int, int, int, int] | None = None,
) -> None:
    run = assemble_run(COUNTY, period, await payroll_repo.roster(session, COUNTY, period))
    await session.commit()
    if sections is not None:
        offset = sum(1 for h in run.households if h.net_fen == 0)
        assert (len(run.paid), offset, len(run.outstanding), len(run.held)) == sections
    row = await payroll_repo.build_run(session, COUNTY, period, "li.na", BUILT, renderer(settings))
    stored = await payroll_repo.bank_file_of(session, row.run_id)
    page = await payroll_repo.roster_of(session, row.run_id)
    assert stored is not None and page is not None
    content, checksum = stored
    reference = bank_file(run)
    assert content == reference and verify_bank_file(content)
    assert content.encode("utf-8") == reference.encode("utf-8")
    assert page == RosterParts(settings.templates_dir, run, "li.na", BUILT).whole(checksum)
    assert (row.households, row.total_fen, row.bank_file_sha256) == (
        len(run.paid),
        run.total_fen,
        checksum,
    )
    lines = conn.execute(
        "SELECT case_id, month, kind, amount_fen FROM payroll_lines WHERE run_id = %s",
        (row.run_id,),
    ).fetchall()
    assert sorted(lines) == sorted(
        (h.case_id, line.month, line.kind.value, line.amount_fen)
        for h in run.households
        for line in h.lines
    )
    await payroll_repo.release_run(session, row.run_id, "chen.gang", BUILT)


async def test_the_stored_files_of_awkward_households_are_the_reference_files(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_awkward_county(conn)
    await assert_build_is_the_reference(conn, session, settings, "2026-11", (len(AWKWARD), 1, 1, 4))
    # Then a quarter: more backdated changes, arrears and recoveries over several months.
    for n in range(0, len(AWKWARD), 2):
        add_change(conn, f"DB-W{n:08d}", "2026-10", 29_000 - n * 3, "decrease")
    add_change(conn, "DB-H00000001", "2026-12", 25_000)
    await assert_build_is_the_reference(conn, session, settings, "2026-Q4")


async def test_a_county_with_nobody_to_pay_stores_the_empty_files(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_case(conn, "DB-C00000003", "张三", [("2027-03", 50_000, "start")])  # not yet due
    await assert_build_is_the_reference(conn, session, settings, "2026-11", (0, 0, 0, 0))


async def test_a_stored_file_is_sent_as_stored_a_few_lines_at_a_time(
    conn: psycopg.Connection[Any],
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three lines a fetch: names with line feeds in them straddle fetches.
    monkeypatch.setattr(payroll_repo, "_FILE_LINES", 3)
    seed_awkward_county(conn)
    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT, renderer(settings)
    )
    stored = await payroll_repo.bank_file_of(session, row.run_id)
    page = await payroll_repo.roster_of(session, row.run_id)
    await session.commit()
    assert stored is not None and page is not None
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    try:
        for file, content in (
            (payroll_repo.RunFile.BANK, stored[0]),
            (payroll_repo.RunFile.ROSTER, page),
        ):
            opened = await payroll_repo.open_file(sessions, row.run_id, file)
            assert opened is not None
            assert (opened.size, opened.bank_file_sha256) == (len(content.encode()), stored[1])
            chunks = [chunk async for chunk in opened.chunks()]
            assert len(chunks) > 3 and b"".join(chunks) == content.encode("utf-8")
        assert await payroll_repo.open_file(sessions, "PR-610423-2031-01", file) is None
        # Discarded and built again while being sent: the download breaks, never mixes.
        opened = await payroll_repo.open_file(sessions, row.run_id, payroll_repo.RunFile.BANK)
        assert opened is not None
        await payroll_repo.discard_run(session, row.run_id, "li.na", "改正", BUILT)
        await payroll_repo.build_run(
            session, COUNTY, "2026-11", "li.na", BUILT.replace(day=2), renderer(settings)
        )
        with pytest.raises(payroll_repo.FileChanged):
            _ = [chunk async for chunk in opened.chunks()]
    finally:
        await engine.dispose()


async def test_an_empty_file_is_sent_empty(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_case(conn, "DB-C00000003", "张三", [("2026-11", 50_000, "start")])
    # A renderer of no page: the roster stored is empty.
    row = await payroll_repo.build_run(session, COUNTY, "2026-11", "li.na", BUILT, lambda r, s: "")
    await session.commit()
    engine = make_engine(settings)
    try:
        opened = await payroll_repo.open_file(
            make_sessionmaker(engine), row.run_id, payroll_repo.RunFile.ROSTER
        )
        assert opened is not None and opened.size == 0
        assert [chunk async for chunk in opened.chunks()] == []
    finally:
        await engine.dispose()
