"""The 发放 page's reads at a county of 100,000 receiving households: a page of the roster
preview (50 households by case ID) and of the households held back, beside a floor.

    .venv/bin/python bench/console_payroll.py            # embedded PostgreSQL
    BENCH_HOUSEHOLDS=10000 .venv/bin/python bench/console_payroll.py

Seeds as bench/payroll_100k.py does (1% of the households without an account, none with
BENCH_NO_HELD=1), builds the
November run, then times pages at the start, the middle and the end of the roster and the
first page of the held-back list: p50 and p95 over repeated reads. The floor is a plain read
of the same page's payroll lines by the run's key, with the ratio.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_db import seeded_database
from bench.payroll_100k import COUNTY, HOUSEHOLDS, SEED
from dibao.db import payroll_repo, payroll_view_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings

REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
# BENCH_NO_HELD=1: every household has an account, so the held-back list reads the whole county.
NO_ACCOUNT = (
    "SELECT 1"
    if os.environ.get("BENCH_NO_HELD")
    else """
    UPDATE applications SET payload = jsonb_set(payload, '{payee,account_no}', '""')
    WHERE right(case_id, 2) = '05'
"""
)
FLOOR = text(
    "SELECT case_id, month, kind, amount_fen FROM payroll_lines "
    "WHERE run_id = :run AND case_id > :after ORDER BY case_id LIMIT :limit"
)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered) * 1e3:6.1f} ms  p95 {p95 * 1e3:6.1f} ms"


async def measure(url: str) -> None:
    engine = make_engine(Settings(database_url=url))
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            row = await payroll_repo.build_run(
                session, COUNTY, "2026-11", "bench", datetime.now(UTC), lambda r, sha: ""
            )
            await session.execute(text("ANALYZE"))
        print(f"built {row.run_id}: {row.households} households in the bank file")
        keys = {
            "start": "",
            "middle": f"DB-B{HOUSEHOLDS // 2:010d}",
            "end": f"DB-B{HOUSEHOLDS - 60:010d}",
        }
        for where, after in keys.items():
            page, floor = [], []
            for _ in range(REPEAT):
                async with sessions() as session:
                    started = time.perf_counter()
                    rows = await payroll_view_repo.roster_page(session, row.run_id, after)
                    page.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    await session.execute(FLOOR, {"run": row.run_id, "after": after, "limit": 75})
                    floor.append(time.perf_counter() - started)
            ratio = statistics.median(page) / statistics.median(floor)
            print(
                f"roster page ({where:6}, {len(rows)} households)  {_ms(page)}   "
                f"floor {_ms(floor)}   ratio {ratio:.1f}×"
            )
        held = []
        for _ in range(REPEAT):
            async with sessions() as session:
                started = time.perf_counter()
                found = await payroll_view_repo.held_back(session, COUNTY)
                held.append(time.perf_counter() - started)
        print(f"held back, first page ({len(found)} households)  {_ms(held)}")
    finally:
        await engine.dispose()


def main() -> None:
    with seeded_database(
        [*SEED[:-1], NO_ACCOUNT, SEED[-1]], {"n": HOUSEHOLDS}, f"{HOUSEHOLDS} households"
    ) as url:
        asyncio.run(measure(url))


if __name__ == "__main__":
    main()
