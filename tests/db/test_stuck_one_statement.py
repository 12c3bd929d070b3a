"""The stuck list's page and its counts per township come from one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import event, text

from dibao.db import supervision_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.supervision_repo import StuckFilter
from dibao.settings import Settings

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def seed_overdue(url: str) -> None:
    """Five open cases past their stage deadline: three in one township, two in another."""
    with psycopg.connect(url) as conn:
        for i, township in enumerate(["610423100"] * 3 + ["610423101"] * 2):
            due = NOW - timedelta(days=10 - i)
            conn.execute(
                "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
                "rule_pack_version, area_type, province_code, county_code, township_code, "
                "village_code, stage_entered_at, filed_at, due_at, waiting_role) VALUES "
                "(%s, %s, 'survey', 'in_review', 'seed-default', 1, 'rural', '61', '610423', "
                "%s, %s, %s, %s, %s, 'village_caseworker')",
                (
                    f"DB-OVERDUE{i:05d}",
                    f"O{i:017d}",
                    township,
                    township + "201",
                    due - timedelta(days=20),
                    due - timedelta(days=20),
                    due,
                ),
            )


async def test_a_page_and_every_townships_count_in_one_statement(database_url: str) -> None:
    seed_overdue(database_url)
    engine = make_engine(Settings(database_url=database_url))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("SET", "BEGIN", "SELECT PG_", "SHOW")):
            statements.append(statement)

    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
            event.listen(engine.sync_engine, "before_cursor_execute", seen)
            items, counts = await supervision_repo.stuck_cases(
                session, StuckFilter(now=NOW), limit=2, offset=1
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
        await engine.dispose()
    assert len(statements) == 1, statements
    # Longest waiting first; the counts cover every stuck case, not only the page.
    assert [c.case_id for c in items] == ["DB-OVERDUE00001", "DB-OVERDUE00002"]
    assert counts == [("610423100", 3), ("610423101", 2)]
