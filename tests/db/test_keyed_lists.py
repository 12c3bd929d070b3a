"""Lists read a page at a time by key: each page goes on after the last row of the previous
one, every row comes once, in the list's order, however the pages are cut."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import audit_repo, ops_repo, procedure_repo, supervision_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.supervision_repo import StuckFilter
from dibao.settings import Settings
from tests.db.test_stuck_one_statement import NOW, seed_overdue


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(Settings(database_url=database_url))
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def test_the_stuck_list_by_key_gives_every_case_once_with_the_whole_lists_counts(
    database_url: str, session: AsyncSession
) -> None:
    seed_overdue(database_url)
    whole, counts = await supervision_repo.stuck_cases(session, StuckFilter(now=NOW))
    seen: list[str] = []
    after = None
    while True:
        page, page_counts = await supervision_repo.stuck_cases(
            session, StuckFilter(now=NOW), limit=2, after=after
        )
        assert page_counts == counts == [("610423100", 3), ("610423101", 2)]
        if not page:
            break
        seen += [c.case_id for c in page]
        after = supervision_repo.page_key(page[-1])
    assert seen == [c.case_id for c in whole] and len(set(seen)) == 5


async def test_incidents_and_alerts_by_key(database_url: str, session: AsyncSession) -> None:
    seed_overdue(database_url)
    with psycopg.connect(database_url) as conn:
        for i in range(5):
            # Two failing at the same moment: the ID breaks the tie.
            at = NOW - timedelta(hours=i // 2)
            conn.execute(
                "INSERT INTO step_failures (workflow_id, run_id, activity_id, case_id, "
                "activity_type, status, attempts, first_failed_at, last_failed_at, last_error) "
                "VALUES (%s, 'r', %s, %s, 'issue_notice', 'retrying', 3, %s, %s, 'down')",
                (f"DB-OVERDUE{i:05d}", str(i), f"DB-OVERDUE{i:05d}", at, at),
            )
            conn.execute(
                "INSERT INTO supervisor_alerts (case_id, step_key, kind, county_code, "
                "township_code, stage, due_at, message, raised_at) VALUES "
                "(%s, 'overdue', 'overdue', '610423', '610423100', 'survey', %s, 'late', %s)",
                (f"DB-OVERDUE{i:05d}", at, at),
            )
    walked: list[int] = []
    after: tuple[datetime, int] | None = None
    while page := (await ops_repo.list_failures(session, limit=2, after=after))[0]:
        walked += [f.row.id for f in page]
        after = (page[-1].row.first_failed_at, page[-1].row.id)
    everything, total = await ops_repo.list_failures(session)
    assert walked == [f.row.id for f in everything] and total == 5 and len(set(walked)) == 5

    alerts: list[int] = []
    key: tuple[datetime, int] | None = None
    while rows := await ops_repo.list_alerts(session, county_code="610423", limit=2, after=key):
        alerts += [a.id for a in rows]
        key = (rows[-1].raised_at, rows[-1].id)
    newest_first = await ops_repo.list_alerts(session, county_code="610423")
    assert alerts == [a.id for a in newest_first] and len(set(alerts)) == 5


async def test_a_cases_audit_and_a_villages_board_by_key(
    database_url: str, session: AsyncSession
) -> None:
    seed_overdue(database_url)
    case_id, village = "DB-OVERDUE00000", "610423100201"
    with psycopg.connect(database_url) as conn:
        for i in range(5):
            conn.execute(
                "INSERT INTO audit_log (case_id, step_key, actor_id, actor_role, action, "
                "payload_sha256, at) VALUES (%s, %s, 'li.na', 'village_caseworker', 'file', "
                "'h', %s)",
                (case_id, f"step-{i}", NOW),
            )
            conn.execute(
                "INSERT INTO postings (posting_id, case_id, step_key, stage, village_code, "
                "township_code, head_name, household_size, category, monthly_amount_fen, "
                "opens_at, closes_at, outcome) VALUES (%s, %s, %s, %s, %s, '610423100', '张三', "
                "2, 'A', 30000, %s, %s, 'open')",
                (
                    f"P-{i}",
                    case_id,
                    f"posting-{i}",
                    ["posting_before_review", "posting_before_approval"][i % 2],
                    village,
                    NOW - timedelta(days=1),  # all open the same moment: the ID breaks the tie
                    NOW + timedelta(days=6),
                ),
            )
    entries: list[int] = []
    last: int | None = None
    while rows := await audit_repo.list_for_case(session, case_id, limit=2, after_id=last):
        entries += [r.id for r in rows]
        last = rows[-1].id
    assert entries == [r.id for r in await audit_repo.list_for_case(session, case_id)]
    assert len(entries) == 5

    board: list[str] = []
    key: tuple[str, datetime, str] | None = None
    while postings := await procedure_repo.open_postings_in_village(
        session, village, NOW, limit=2, after=key
    ):
        board += [p.posting_id for p in postings]
        key = (postings[-1].stage, postings[-1].opens_at, postings[-1].posting_id)
    whole = await procedure_repo.open_postings_in_village(session, village, NOW)
    assert board == [p.posting_id for p in whole] and len(set(board)) == 5
