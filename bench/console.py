"""Server time of the console's inbox and case page with 100,000 open cases in one county.

    .venv/bin/python bench/console.py            # embedded PostgreSQL, Temporal dev server
    BENCH_CASES=20000 .venv/bin/python bench/console.py

Seeds 100,000 open cases (and their applications) in county 610423 over 20 townships and 600
villages, plus one real case filed through the API with a running worker, so the case page
queries a live workflow as in production. Then times, through the app in process (no network),
the county approver's and a township caseworker's inbox (first page, a later page by key,
one stage) and the real case's page. Target: p95 ≤ 100 ms each.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_db import seeded_database
from dibao import auth
from dibao.binaries import find_binary
from dibao.codec import data_converter
from dibao.settings import PROJECT_ROOT, Settings

OPEN = int(os.environ.get("BENCH_CASES", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "100"))
TARGET_MS = 100.0

SEED = [
    """
    INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, rule_pack_version,
        area_type, province_code, county_code, township_code, village_code, stage_entered_at,
        due_at, filed_at, waiting_role, overdue_since)
    SELECT 'DB-B' || lpad(i::text, 11, '0'), left(md5(i::text), 18),
        (ARRAY['survey','evaluation','township_review','county_approval',
               'posting_before_review','recipient'])[1 + i %% 6],
        CASE WHEN i %% 6 = 5 THEN 'receiving' ELSE 'in_progress' END,
        'seed-default', 1, 'rural', '61', '610423',
        '6104231' || lpad((i %% 20)::text, 2, '0'),
        '6104231' || lpad((i %% 20)::text, 2, '0') || lpad((i %% 30)::text, 3, '0'),
        now() - (i %% 60) * interval '1 day',
        CASE WHEN i %% 6 IN (0, 1, 2, 3) THEN now() + ((i %% 97) - 10) * interval '1 day' END,
        now() - interval '30 days',
        (ARRAY['village_caseworker','village_caseworker','township_caseworker',
               'county_approver', NULL, NULL])[1 + i %% 6],
        CASE WHEN i %% 97 < 10 THEN now() END
    FROM generate_series(1, %(open)s) AS i
    """,
    """
    INSERT INTO applications (case_id, payload, request_sha256, filed_by, filed_role)
    SELECT 'DB-B' || lpad(i::text, 11, '0'),
        jsonb_build_object('members', jsonb_build_array(
            jsonb_build_object('name', '户主' || i, 'relation', 'head',
                               'id_number', left(md5(i::text), 18)),
            jsonb_build_object('name', '成员' || i, 'relation', 'child',
                               'id_number', left(md5('m' || i), 18)))),
        md5(i::text) || md5(i::text), 'zhang.wei', 'village_caseworker'
    FROM generate_series(1, %(open)s) AS i
    """,
    # As autovacuum leaves a settled table: statistics, and the visibility map that lets the
    # inbox's counts read the index alone.
    "VACUUM ANALYZE cases",
    "VACUUM ANALYZE applications",
]

USERS = [
    ("zhang.wei", "village_caseworker", "610423100201", "张伟"),
    ("li.na", "township_caseworker", "610423100", "李娜"),
    ("chen.gang", "county_approver", "610423", "陈刚"),
    ("wang.jian", "supervisor", "610423", "王健"),
]


def _seed_users(url: str) -> dict[str, str]:
    """Users with a console session each (cookie token) and an API token for zhang.wei."""
    import psycopg

    now = datetime.now(UTC)
    password_hash = auth.hash_password(secrets.token_urlsafe(16))
    cookies: dict[str, str] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for user_id, role, place, name in USERS:
            conn.execute(
                "INSERT INTO users (user_id, display_name, role, jurisdiction_code, "
                "password_hash) VALUES (%s, %s, %s, %s, %s)",
                (user_id, name, role, place, password_hash),
            )
            token = auth.new_token()
            conn.execute(
                "INSERT INTO console_sessions (token_sha256, user_id, issued_at, last_seen_at, "
                "expires_at) VALUES (%s, %s, %s, %s, %s)",
                (auth.token_digest(token), user_id, now, now, now + timedelta(hours=10)),
            )
            cookies[user_id] = token
        conn.execute(
            "INSERT INTO api_tokens (token_sha256, user_id, issued_at, expires_at) "
            "VALUES (%s, 'zhang.wei', %s, %s)",
            (auth.token_digest("bench-api-token"), now, now + timedelta(hours=1)),
        )
    return cookies


# The floor of each page: its bare indexed query (the page's case IDs, by key over the
# matching index) through psycopg, no ORM, no rendering.
_DUE = "coalesce(due_at, 'infinity'::timestamptz)"
_PAGE_OF = (
    "SELECT case_id FROM cases WHERE closed_at IS NULL AND {where} "
    f"ORDER BY {_DUE}, case_id LIMIT 51"
)
BARE_COUNTY_APPROVER = _PAGE_OF.format(
    where="waiting_role = 'county_approver' AND county_code = '610423'"
)
BARE_TOWNSHIP = _PAGE_OF.format(
    where="waiting_role = 'township_caseworker' AND township_code = '610423100'"
)
BARE_TOWNSHIP_STAGE = _PAGE_OF.format(
    where="waiting_role = 'township_caseworker' AND township_code = '610423100' "
    "AND stage = 'township_review'"
)
BARE_VILLAGE = _PAGE_OF.format(
    where="waiting_role = 'village_caseworker' AND village_code = '610423100201'"
)
BARE_SUPERVISOR = _PAGE_OF.format(where="county_code = '610423'")
BARE_CASE = "SELECT * FROM cases WHERE case_id = %(case_id)s"


def bare_times(url: str, sql: str, case_id: str) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(url) as conn:
        for i in range(RUNS + 5):
            started = time.perf_counter()
            conn.execute(sql, {"case_id": case_id} if "%(" in sql else None).fetchall()
            if i >= 5:
                times.append((time.perf_counter() - started) * 1000)
    return times


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def measure(url: str) -> bool:
    from temporalio.testing import WorkflowEnvironment

    from api.app import create_app
    from dibao.db.engine import make_engine, make_sessionmaker
    from dibao.temporal_client import register_search_attributes
    from worker import build_activities, build_worker
    from workflows import search_attributes as sa

    cookies = _seed_users(url)
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    codec_keys = f"bench:{key}"
    converter = data_converter(Settings(_env_file=None, codec_keys=codec_keys))
    env = await WorkflowEnvironment.start_local(
        data_converter=converter,
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        ui=False,
    )
    await register_search_attributes(env.client, env.client.namespace, sa.ALL_KEYS)
    settings = Settings(
        _env_file=None,
        database_url=url,
        temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace,
        task_queue=f"bench-console-{secrets.token_hex(4)}",
        codec_keys=codec_keys,
    )
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    ok = True
    try:
        async with build_worker(
            env.client, settings, build_activities(sessions, settings, env.client), sessions
        ):
            app = create_app(settings)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://dibao.bench"
                ) as client,
            ):
                sample = json.loads((PROJECT_ROOT / "examples/household.json").read_text())
                filed = await client.post(
                    "/cases",
                    json=sample,
                    headers={"Authorization": "Bearer bench-api-token"},
                    timeout=30,
                )
                assert filed.status_code == 201, filed.text
                case_id = filed.json()["case_id"]

                async def page_two(user: str) -> str:
                    first = await client.get("/console", cookies={"dibao_console": cookies[user]})
                    marker = "after="
                    at = first.text.find(marker)
                    assert at > 0, "the inbox has no second page"
                    end = first.text.find('"', at)
                    return "/console?" + first.text[at:end].replace("&amp;", "&")

                targets = [
                    ("inbox, county approver", "chen.gang", "/console", BARE_COUNTY_APPROVER),
                    (
                        "inbox, county, page 2",
                        "chen.gang",
                        await page_two("chen.gang"),
                        BARE_COUNTY_APPROVER,
                    ),
                    ("inbox, township", "li.na", "/console", BARE_TOWNSHIP),
                    (
                        "inbox, township, stage",
                        "li.na",
                        "/console?stage=township_review",
                        BARE_TOWNSHIP_STAGE,
                    ),
                    ("inbox, village", "zhang.wei", "/console", BARE_VILLAGE),
                    ("inbox, county supervisor", "wang.jian", "/console", BARE_SUPERVISOR),
                    (
                        "case page (live workflow)",
                        "chen.gang",
                        f"/console/cases/{case_id}",
                        BARE_CASE,
                    ),
                ]
                print(
                    f"{'page':<28} {'p50':>8} {'p95':>8} {'max':>8} {'bare p95':>9} "
                    f"{'ratio':>7}   (ms, {RUNS} runs)"
                )
                for label, user, path, bare_sql in targets:
                    client.cookies.set("dibao_console", cookies[user])
                    for _ in range(5):  # warm caches and connections
                        warm = await client.get(path)
                        assert warm.status_code == 200, (path, warm.status_code, warm.text[:300])
                    times = []
                    for _ in range(RUNS):
                        started = time.perf_counter()
                        response = await client.get(path)
                        times.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200
                    p95 = _p(times, 0.95)
                    bare_p95 = _p(bare_times(url, bare_sql, case_id), 0.95)
                    ok = ok and p95 <= TARGET_MS
                    print(
                        f"{label:<28} {statistics.median(times):8.1f} {p95:8.1f} "
                        f"{max(times):8.1f} {bare_p95:9.2f} {p95 / bare_p95:6.0f}x"
                        f"{'' if p95 <= TARGET_MS else '   over target'}"
                    )
    finally:
        await engine.dispose()
        await env.shutdown()
    return ok


def main() -> None:
    with seeded_database(SEED, {"open": OPEN}, f"{OPEN} open cases in county 610423") as url:
        ok = asyncio.run(measure(url))
    print(f"p95 target {TARGET_MS:g} ms: {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
