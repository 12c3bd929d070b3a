# ruff: noqa: F811  (the fixtures of test_payroll_repo, imported, are parameters here)
"""The roster read through a cursor a few rows at a time, and the lines written by COPY."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import payroll_repo
from dibao.settings import Settings
from tests.db.test_payroll_repo import (  # noqa: F401  (fixtures)
    BUILT,
    COUNTY,
    conn,
    reference,
    renderer,
    seed_case,
    session,
    settings,
)


async def test_a_roster_longer_than_one_cursor_fetch_is_read_whole_and_its_lines_copied(
    conn: psycopg.Connection[Any],
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fetches of two rows: every household's lines (three months each) straddle a fetch.
    monkeypatch.setattr(payroll_repo, "_CURSOR_ROWS", 2)
    for n in range(7):
        seed_case(conn, f"DB-S{n:08d}", f"户主{n}", [("2026-09", 30_000 + n * 100, "start")])
    expected = reference(conn, "2026-11")
    households = await payroll_repo.roster(session, COUNTY, "2026-11")
    await session.commit()
    assert {h.case_id: list(h.lines) for h in households} == expected
    assert [h.case_id for h in households] == sorted(expected)
    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT, renderer(settings)
    )
    stored = conn.execute(
        "SELECT case_id, month, kind, amount_fen FROM payroll_lines WHERE run_id = %s "
        "ORDER BY case_id, month",
        (row.run_id,),
    ).fetchall()
    assert stored == [
        (case_id, line.month, line.kind.value, line.amount_fen)
        for case_id, lines in sorted(expected.items())
        for line in lines
    ]
    assert row.households == 7
