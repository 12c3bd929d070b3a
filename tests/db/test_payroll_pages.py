# ruff: noqa: F811  (the fixtures of test_payroll_repo, imported, are parameters here)
"""A roster and bank file written by PostgreSQL are the very files of the whole run: every
section of the roster (paid, netting zero, to recover, held back) in order, the bank file's
checksum over every byte, and the booked lines once each."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from activities.payroll_activities import RosterParts
from dibao.db import payroll_repo
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


async def test_a_roster_written_by_postgresql_is_the_whole_runs_page(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    for n in range(5):  # paid
        seed_case(conn, f"DB-P{n:08d}", f"户主{n}", [("2026-11", 30_000 + n * 100, "start")])
    for n in range(3):  # held back: no account
        seed_case(conn, f"DB-H{n:08d}", f"无账户{n}", [("2026-11", 20_000, "start")], payee=None)
    # Stopped from November, paid 300 for September and 100 for October against 200 each:
    # 追回 100 and 补发 100, netting zero.
    seed_case(conn, "DB-Z00000001", "相抵", [("2026-09", 20_000, "start")])
    seed_case(conn, "DB-Y00000001", "多发", [("2026-09", 20_000, "start")])
    add_change(conn, "DB-Z00000001", "2026-11", 0, "stop")
    add_change(conn, "DB-Y00000001", "2026-11", 0, "stop")
    released_run(
        conn,
        "PR-610423-2026-10",
        [
            ("DB-Z00000001", "2026-09", "regular", 30_000),
            ("DB-Z00000001", "2026-10", "regular", 10_000),
            # Overpaid 50 for each month: 100 to recover, nothing to offset it.
            ("DB-Y00000001", "2026-09", "regular", 25_000),
            ("DB-Y00000001", "2026-10", "regular", 25_000),
        ],
    )
    run = assemble_run(COUNTY, "2026-11", await payroll_repo.roster(session, COUNTY, "2026-11"))
    await session.commit()
    assert (len(run.paid), len(run.held), len(run.outstanding)) == (5, 3, 1)
    assert [h.case_id for h in run.households if h.net_fen == 0] == ["DB-Z00000001"]

    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT, renderer(settings)
    )
    stored = await payroll_repo.bank_file_of(session, row.run_id)
    page = await payroll_repo.roster_of(session, row.run_id)
    assert stored is not None and page is not None
    content, checksum = stored
    assert content == bank_file(run) and verify_bank_file(content)
    whole = RosterParts(settings.templates_dir, run, "li.na", BUILT).whole(checksum)
    assert page == whole
    for section in ("相抵", "多发", "无账户2", "户主4", "应追回户", "未登记代发账户的户"):
        assert section in page
    assert (row.households, row.total_fen) == (5, sum(h.net_fen for h in run.paid))
    lines = conn.execute(
        "SELECT case_id, month, kind, amount_fen FROM payroll_lines WHERE run_id = %s "
        "ORDER BY case_id, month",
        (row.run_id,),
    ).fetchall()
    assert lines == [
        (h.case_id, line.month, line.kind.value, line.amount_fen)
        for h in run.households
        for line in h.lines
    ]
