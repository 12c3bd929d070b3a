"""The numbers behind the supervisors' charts: overdue cases by stage, cases filed, closed and
gone overdue per week (every week present, China's Monday), and alerts with their state now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from dibao.db import supervision_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.supervision_repo import AlertState
from dibao.domain.enums import Stage
from dibao.settings import Settings

CASE = """
INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, rule_pack_version,
    area_type, province_code, county_code, township_code, village_code, stage_entered_at,
    due_at, filed_at, closed_at, overdue_since)
VALUES (%s, %s, %s, %s, 'seed-default', 1, 'rural', '61', %s, %s, %s, %s, %s, %s, %s, %s)
"""
ALERT = """
INSERT INTO supervisor_alerts (case_id, step_key, kind, county_code, township_code, stage,
    due_at, message, raised_at) VALUES (%s, %s, %s, '610423', '610423100', %s, %s, 'x', %s)
"""


async def test_overdue_by_stage_weeks_and_alert_states(database_url: str) -> None:
    now = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # a Wednesday, 12:00 in China
    week = timedelta(days=7)
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = [
            # overdue survey, filed this week, its alert still open
            ("DB-W00000000001", "survey", "in_progress", now - timedelta(days=1), now, None, now),
            # moved on to evaluation: its survey alert is cleared; filed 3 weeks ago
            (
                "DB-W00000000002",
                "evaluation",
                "in_progress",
                now + week,
                now - 3 * week,
                None,
                None,
            ),
            # closed last week, filed 20 weeks ago (before the chart's weeks)
            ("DB-W00000000003", "closed", "refused", None, now - 20 * week, now - week, None),
            # overdue in another county: not counted for 610423
            ("DB-W00000000004", "survey", "in_progress", now - timedelta(days=2), now, None, now),
        ]
        for n, (case_id, stage, status, due, filed, closed, overdue) in enumerate(rows):
            county = "610424" if case_id.endswith("4") else "610423"
            conn.execute(
                CASE,
                (case_id, f"61042319800101{n:03d}X", stage, status, county, county + "100",
                 county + "100201", now - timedelta(days=3), due, filed, closed, overdue),
            )  # fmt: skip
        conn.execute(ALERT, ("DB-W00000000001", "s-1", "overdue", "survey", now, now))
        conn.execute(ALERT, ("DB-W00000000002", "s-1", "overdue", "survey", now, now - week))
        conn.execute(ALERT, ("DB-W00000000003", "s-1", "overdue", "survey", now, now - 2 * week))
    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    try:
        async with make_sessionmaker(engine)() as session:
            by_stage = await supervision_repo.overdue_by_stage(session, now, county_code="610423")
            weeks = await supervision_repo.weekly_counts(session, now, county_code="610423")
            alerts = await supervision_repo.alerts_with_state(session, county_code="610423")
    finally:
        await engine.dispose()

    assert by_stage == [(Stage.SURVEY, 1)]
    assert len(weeks) == 12
    assert weeks[-1].week_start == datetime(2026, 11, 30, tzinfo=UTC) - timedelta(hours=8)
    assert [(w.filed, w.closed, w.overdue) for w in weeks[-4:]] == [
        (1, 0, 0),  # three weeks ago: case 2 filed
        (0, 0, 1),  # two weeks ago: case 3's alert
        (0, 1, 1),  # last week: case 3 closed, case 2's alert
        (1, 0, 1),  # this week: case 1 filed and its alert
    ]
    assert sum(w.filed for w in weeks) == 2  # nothing from before the twelve weeks
    assert [(a.case_id, a.state) for a in alerts] == [
        ("DB-W00000000001", AlertState.OPEN),
        ("DB-W00000000002", AlertState.CLEARED),
        ("DB-W00000000003", AlertState.CASE_CLOSED),
    ]
