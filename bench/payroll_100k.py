"""Payroll of a county with 100,000 receiving households: how long the roster takes.

    .venv/bin/python bench/payroll_100k.py            # embedded PostgreSQL
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/payroll_100k.py

Creates a fresh database on that server (dropped at the end), seeds 100,000 receiving cases
with their applications and entitlement changes (10% with a backdated increase, 2% with a
backdated stop) and a released run that paid January to October, then times the roster SQL
of November, the bank file, and the whole build as the activity does it (roster page and
lines stored).

Beside the build: its peak memory (resident set, sampled every 5 ms, above the process before
the build), and the floor, a plain COPY of the same rows (the run's lines out of PostgreSQL and
into a scratch table), with the ratio (goals: peak within 50 MB between BENCH_HOUSEHOLDS=10000
and 100000; build at most 10× the COPY). Beside it, the same COPY into payroll_lines itself
(rolled back): what booking the lines costs, however they are computed (the build pays it;
the plain COPY does not).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.payroll_activities import roster_page
from bench.bench_db import seeded_database
from dibao.db import payroll_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.payroll import assemble_run, bank_file
from dibao.settings import Settings

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
COUNTY = "610423"

SEED = [
    """
    INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, rule_pack_version,
        area_type, province_code, county_code, township_code, village_code, stage_entered_at,
        filed_at)
    SELECT 'DB-B' || lpad(i::text, 10, '0'), left(md5(i::text), 18), 'recipient', 'receiving',
        'seed-default', 1, 'rural', '61', '610423', '610423100',
        '610423100' || lpad((201 + i %% 30)::text, 3, '0'), now(), now()
    FROM generate_series(1, %(n)s) AS i
    """,
    """
    INSERT INTO applications (case_id, payload, request_sha256, filed_by, filed_role)
    SELECT 'DB-B' || lpad(i::text, 10, '0'),
        jsonb_build_object(
            'payee', jsonb_build_object('account_holder', '户主' || i, 'bank', '示例农商银行',
                                        'account_no', '6228' || lpad(i::text, 15, '0')),
            'members', jsonb_build_array(
            jsonb_build_object('name', '户主' || i, 'id_number', left(md5(i::text), 18),
                               'relation', 'head'),
            jsonb_build_object('name', '配偶' || i, 'id_number', left(md5('s' || i), 18),
                               'relation', 'spouse'))),
        'h', 'bench', 'village_caseworker'
    FROM generate_series(1, %(n)s) AS i
    """,
    # Started in one of January..October 2026, 200.00 to 699.00 a month.
    """
    INSERT INTO entitlement_changes (case_id, step_key, certificate_no, effective_month,
        monthly_amount_fen, category, reason, recorded_at, change_kind)
    SELECT 'DB-B' || lpad(i::text, 10, '0'), 'approval', '6104232026' || lpad(i::text, 6, '0'),
        '2026-' || lpad((1 + i %% 10)::text, 2, '0'), 20000 + (i %% 500) * 100, 'A', '县级审批同意',
        now(), 'start'
    FROM generate_series(1, %(n)s) AS i
    """,
    # What the October payroll paid: every month from the start to October.
    """
    INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at, households,
        total_fen, bank_file, bank_file_sha256, roster_html)
    VALUES ('PR-610423-2026-10', '610423', '2026-10', 'draft', 'bench', now(), 0, 0, '', '', '')
    """,
    """
    INSERT INTO payroll_lines (run_id, case_id, month, kind, amount_fen)
    SELECT 'PR-610423-2026-10', 'DB-B' || lpad(i::text, 10, '0'), '2026-' || lpad(m::text, 2, '0'),
        CASE WHEN m = 10 THEN 'regular' ELSE 'arrears' END, 20000 + (i %% 500) * 100
    FROM generate_series(1, %(n)s) AS i, generate_series(1, 10) AS m
    WHERE m >= 1 + i %% 10
    """,
    """
    UPDATE payroll_runs SET status = 'released', checker = 'bench-checker', released_at = now()
    WHERE run_id = 'PR-610423-2026-10'
    """,
    # Recorded in November: 10% get a backdated increase from August, 2% a stop from September.
    """
    INSERT INTO entitlement_changes (case_id, step_key, certificate_no, effective_month,
        monthly_amount_fen, category, reason, recorded_at, change_kind)
    SELECT 'DB-B' || lpad(i::text, 10, '0'), 'rereview-1', '6104232026' || lpad(i::text, 6, '0'),
        '2026-08', 25000 + (i %% 500) * 100, 'A', '复核增发', now(), 'increase'
    FROM generate_series(1, %(n)s) AS i WHERE i %% 10 = 3
    """,
    """
    INSERT INTO entitlement_changes (case_id, step_key, certificate_no, effective_month,
        monthly_amount_fen, category, reason, recorded_at, change_kind)
    SELECT 'DB-B' || lpad(i::text, 10, '0'), 'stop-1', '6104232026' || lpad(i::text, 6, '0'),
        '2026-09', 0, 'A', '迁出停发', now(), 'stop'
    FROM generate_series(1, %(n)s) AS i WHERE i %% 50 = 7
    """,
    "ANALYZE",
]


async def measure(url: str) -> None:
    settings = Settings(database_url=url)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    try:
        process = psutil.Process()
        baseline = process.memory_info().rss
        peak = baseline

        async def sample() -> None:
            nonlocal peak
            while True:
                peak = max(peak, process.memory_info().rss)
                await asyncio.sleep(0.005)

        sampler = asyncio.create_task(sample())
        async with sessions() as session:
            backend = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            cpu = cpu_seconds(os.getpid(), backend)
            started = time.perf_counter()
            row = await payroll_repo.build_run(
                session,
                COUNTY,
                "2026-11",
                "bench",
                datetime.now(UTC),
                lambda r, sha: roster_page(
                    settings.templates_dir, r, sha, "bench", datetime.now(UTC)
                ),
            )
            build_s = time.perf_counter() - started
            build_cpu = cpu_seconds(os.getpid(), backend) - cpu
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        async with sessions() as session:
            started = time.perf_counter()
            households = await payroll_repo.roster(session, COUNTY, "2026-11")
            roster_s = time.perf_counter() - started
            run = assemble_run(COUNTY, "2026-11", households)
            content = bank_file(run)
            total_s = time.perf_counter() - started
        lines = sum(len(h.lines) for h in households)
        print(
            f"roster SQL            {roster_s:7.2f} s  ({len(households)} households, {lines} lines)"
        )
        print(f"roster SQL + bank file {total_s:6.2f} s  ({len(content.encode()) / 1e6:.1f} MB)")
        print(
            f"  bank file: {len(run.paid)} rows, total {run.total_fen / 100:.2f} 元, "
            f"{len(run.outstanding)} households held back for recovery"
        )
        del households, run, content
        copy_s, copied, copy_cpu = plain_copy(url, row.run_id)
        booked_s, _, booked_cpu = plain_copy(url, row.run_id, constrained=True)
        print(f"whole build (activity) {build_s:6.2f} s  (roster page, lines stored; {row.run_id})")
        print(
            f"  peak memory of the build +{(peak - baseline) / 1e6:.0f} MB over "
            f"{baseline / 1e6:.0f} MB for {HOUSEHOLDS} households (goal: within 50 MB of the "
            "10,000-household run)"
        )
        print(
            f"plain COPY of the {copied} lines out and in {copy_s:6.2f} s; build / COPY "
            f"{build_s / copy_s:.1f}× (goal ≤ 10×)"
        )
        print(
            f"the same COPY into payroll_lines itself (its key, index and reference checks) "
            f"{booked_s:6.2f} s ({booked_s / copy_s:.1f}× the plain COPY); build / it "
            f"{build_s / booked_s:.1f}×"
        )
        # On a shared machine the wall clock counts other work too; CPU seconds of this
        # process and its PostgreSQL backends count only these.
        if build_cpu and copy_cpu:
            print(
                f"CPU seconds (this process and its PostgreSQL backends): build {build_cpu:.2f}, "
                f"plain COPY {copy_cpu:.2f} ({build_cpu / copy_cpu:.1f}×), constrained COPY "
                f"{booked_cpu:.2f} (build / it {build_cpu / booked_cpu:.1f}×)"
            )
    finally:
        await engine.dispose()


def cpu_seconds(*pids: int) -> float:
    """User and system CPU time of these processes (0 when one cannot be read: PostgreSQL on
    another machine or as another user)."""
    try:
        return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return 0.0


def plain_copy(url: str, run_id: str, constrained: bool = False) -> tuple[float, int, float]:
    """The floor: the run's rows copied out of PostgreSQL and into a scratch table (two
    connections: one COPY at a time on each). `constrained`: into payroll_lines itself, as the
    lines of another draft run (its primary key, index and the statement trigger checking
    what they refer to), rolled back: what booking the lines costs whatever computes them."""
    with psycopg.connect(url, autocommit=True) as reader, psycopg.connect(url) as writer:
        target = "scratch"
        copied_run = run_id
        if constrained:
            target, copied_run = "payroll_lines", "PR-999999-2026-11"
            writer.execute(
                "INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at, "
                "households, total_fen, bank_file, bank_file_sha256, roster_html) "
                "VALUES (%s, '999999', '2026-11', 'draft', 'bench', now(), 0, 0, '', '', '')",
                (copied_run,),
            )
        else:
            writer.execute("DROP TABLE IF EXISTS scratch")
            writer.execute("CREATE UNLOGGED TABLE scratch (LIKE payroll_lines INCLUDING DEFAULTS)")
        pids = (os.getpid(), reader.info.backend_pid, writer.info.backend_pid)
        cpu = cpu_seconds(*pids)
        started = time.perf_counter()
        with (
            reader.cursor().copy(
                "COPY (SELECT %s::text, case_id, month, kind, amount_fen FROM payroll_lines "
                "WHERE run_id = %s ORDER BY case_id, month) TO STDOUT",
                (copied_run, run_id),
            ) as source,
            writer.cursor().copy(
                f"COPY {target} (run_id, case_id, month, kind, amount_fen) FROM STDIN"
            ) as sink,
        ):
            for chunk in source:
                sink.write(chunk)
        # The statement trigger runs at the end of the COPY, before this point.
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(*pids) - cpu
        rows = writer.execute(
            f"SELECT count(*) FROM {target} WHERE run_id = %s", (copied_run,)
        ).fetchone()
        if constrained:
            writer.rollback()
        else:
            writer.commit()
        return seconds, int(rows[0]) if rows else 0, cpu


def main() -> None:
    with seeded_database(SEED, {"n": HOUSEHOLDS}, f"{HOUSEHOLDS} households") as url:
        asyncio.run(measure(url))


if __name__ == "__main__":
    main()
