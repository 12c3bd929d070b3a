"""The supervisors' stuck list over 100,000 open cases: how long one page and the township
counts take.

    .venv/bin/python bench/stuck_100k.py            # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/stuck_100k.py

Creates a fresh database (dropped at the end) and seeds 100,000 open cases spread over 20
townships and the procedure's stages, entered 0..60 days ago; about 3% past their deadline, 0.5%
with a failing or given-up step, plus 400,000 closed cases; then times the list unfiltered,
filtered by township, and by reason.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_db import seeded_database
from dibao.db import supervision_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.ops import StuckReason
from dibao.settings import Settings

OPEN = int(os.environ.get("BENCH_CASES", "100000"))
CLOSED = 4 * OPEN

SEED = [
    # Open cases: stage and waiting role by i % 6; due dates 10 days after entry for the
    # stages with a clock, so entries older than 10 days are overdue... made rare (3%) below.
    """
    INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, rule_pack_version,
        area_type, province_code, county_code, township_code, village_code, stage_entered_at,
        due_at, filed_at, waiting_role)
    SELECT 'DB-S' || lpad(i::text, 10, '0'), left(md5(i::text), 18),
        (ARRAY['survey','evaluation','township_review','county_approval',
               'posting_before_review','recipient'])[1 + i %% 6],
        CASE WHEN i %% 6 = 5 THEN 'receiving' ELSE 'in_progress' END,
        'seed-default', 1, 'rural', '61', '610423',
        '6104231' || lpad((i %% 20)::text, 2, '0'),
        '6104231' || lpad((i %% 20)::text, 2, '0') || lpad((i %% 30)::text, 3, '0'),
        now() - (i %% 60) * interval '1 day' * (CASE WHEN i %% 37 = 0 THEN 1 ELSE 0.1 END),
        CASE WHEN i %% 6 IN (0, 2, 3) THEN
            now() - (i %% 60) * interval '1 day' * (CASE WHEN i %% 37 = 0 THEN 1 ELSE 0.1 END)
                  + interval '10 days'
        END,
        now() - interval '30 days',
        (ARRAY['village_caseworker','village_caseworker','township_caseworker',
               'county_approver', NULL, NULL])[1 + i %% 6]
    FROM generate_series(1, %(open)s) AS i
    """,
    """
    INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, rule_pack_version,
        area_type, province_code, county_code, township_code, village_code, stage_entered_at,
        filed_at, closed_at)
    SELECT 'DB-C' || lpad(i::text, 10, '0'), left(md5('c' || i), 18), 'closed', 'refused',
        'seed-default', 1, 'rural', '61', '610423', '610423100', '610423100201',
        now() - interval '400 days', now() - interval '420 days', now() - interval '390 days'
    FROM generate_series(1, %(closed)s) AS i
    """,
    """
    INSERT INTO step_failures (workflow_id, run_id, activity_id, case_id, activity_type, status,
        attempts, first_failed_at, last_failed_at, last_error)
    SELECT 'DB-S' || lpad(i::text, 10, '0'), 'run', '1', 'DB-S' || lpad(i::text, 10, '0'),
        'issue_notice', CASE WHEN (i / 199) %% 2 = 0 THEN 'incident' ELSE 'retrying' END, 3,
        now() - interval '1 hour', now(), 'bench'
    FROM generate_series(1, %(open)s, 199) AS i
    """,
    # What autovacuum does soon after a bulk load: statistics, and the visibility map that
    # lets the stuck list's covering indexes answer without visiting the table (0043).
    "VACUUM ANALYZE",
]


async def measure(url: str) -> None:
    engine = make_engine(Settings(database_url=url))
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    try:
        for label, flt in [
            ("all stuck, first page", supervision_repo.StuckFilter(now=now)),
            ("one township", supervision_repo.StuckFilter(now=now, township_code="610423107")),
            ("incidents only", supervision_repo.StuckFilter(now=now, reason=StuckReason.INCIDENT)),
            ("idle > 30 days", supervision_repo.StuckFilter(now=now, idle_days=30)),
        ]:
            async with sessions() as session:
                await supervision_repo.stuck_cases(session, flt)  # warm
                started = time.perf_counter()
                items, counts = await supervision_repo.stuck_cases(session, flt)
                took = time.perf_counter() - started
            print(
                f"{label:<24} {took * 1000:7.1f} ms  "
                f"({sum(n for _, n in counts)} stuck, page of {len(items)})"
            )
    finally:
        await engine.dispose()


def main() -> None:
    with seeded_database(
        SEED, {"open": OPEN, "closed": CLOSED}, f"{OPEN} open + {CLOSED} closed cases"
    ) as url:
        asyncio.run(measure(url))


if __name__ == "__main__":
    main()
