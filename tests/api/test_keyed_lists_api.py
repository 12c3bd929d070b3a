"""The stuck list, incidents and alerts page by `after=` cursors over HTTP; the old `offset=`
still works, and a cursor that is not one is refused with the field named."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg

from tests.auth import COUNTY, OPS, SUPERVISOR, TOWNSHIP
from tests.conftest import Stack
from tests.db.test_stuck_one_statement import NOW, seed_overdue


async def test_the_stuck_list_incidents_and_alerts_walked_by_cursor(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    url = dev_stack.settings.database_url
    assert url is not None
    seed_overdue(url)
    with psycopg.connect(url) as conn:
        for i in range(5):
            at = NOW - timedelta(hours=i)
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

    async def walk(path: str, headers: dict[str, str]) -> list[str]:
        seen: list[str] = []
        params: dict[str, str | int] = {"limit": 2}
        while True:
            response = await api.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            items = body if isinstance(body, list) else body["items"]
            seen += [str(item["case_id"]) for item in items]
            cursor = (
                response.headers.get("X-Next-After") if isinstance(body, list) else body["next"]
            )
            if cursor is None:
                return seen
            params = {"limit": 2, "after": cursor}

    whole = (await api.get("/supervision/stuck", headers=SUPERVISOR)).json()
    assert whole["next"] is None and whole["total"] == 5
    assert await walk("/supervision/stuck", SUPERVISOR) == [c["case_id"] for c in whole["items"]]
    # The old offset pages as before.
    second = (
        await api.get("/supervision/stuck", params={"limit": 2, "offset": 2}, headers=SUPERVISOR)
    ).json()
    assert [c["case_id"] for c in second["items"]] == [c["case_id"] for c in whole["items"][2:4]]

    incidents = (await api.get("/ops/incidents", headers=OPS)).json()
    assert (incidents["total"], incidents["total_capped"], incidents["next"]) == (5, False, None)
    assert await walk("/ops/incidents", OPS) == [i["case_id"] for i in incidents["items"]]

    alerts = await api.get("/supervision/alerts", headers=SUPERVISOR)
    assert "X-Next-After" not in alerts.headers
    assert await walk("/supervision/alerts", SUPERVISOR) == [a["case_id"] for a in alerts.json()]

    refused = await api.get("/ops/incidents", params={"after": "bm90LWEta2V5"}, headers=OPS)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "after"]


async def _walk(
    api: httpx.AsyncClient, path: str, headers: dict[str, str], field: str, limit: int, **query: str
) -> list[str]:
    """Every page of a list by its `next`, each item's `field`."""
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": limit, **query}
    while True:
        response = await api.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [str(item[field]) for item in body["items"]]
        if body["next"] is None:
            return seen
        params = {**params, "after": body["next"]}


async def test_complaints_newest_first_by_key_ties_broken_by_id(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    url = dev_stack.settings.database_url
    assert url is not None
    with psycopg.connect(url) as conn:
        for i in range(7):
            # Pairs received at the same moment: the page boundary falls inside a tie.
            conn.execute(
                "INSERT INTO complaints (complaint_id, request_id, kind, channel, source, "
                "county_code, township_code, summary, status, received_by, received_at, due_at, "
                "rule_pack_id, rule_pack_version) VALUES (%s, %s, 'general', 'anonymous', "
                "'hotline', '610423', '610423100', '路灯', 'received', 'li.na', %s, %s, 'p', 1)",
                (f"TS-{i:04d}", f"req-{i}", NOW - timedelta(hours=i // 2), NOW),
            )
        # Another county's: never in this county's list.
        conn.execute(
            "INSERT INTO complaints (complaint_id, request_id, kind, channel, source, "
            "county_code, summary, status, received_by, received_at, due_at, rule_pack_id, "
            "rule_pack_version) VALUES ('TS-9999', 'req-x', 'general', 'anonymous', 'hotline', "
            "'610424', '路灯', 'received', 'u', %s, %s, 'p', 1)",
            (NOW, NOW),
        )
    expected = ["TS-0001", "TS-0000", "TS-0003", "TS-0002", "TS-0005", "TS-0004", "TS-0006"]
    for who in (COUNTY, TOWNSHIP):
        whole = (await api.get("/complaints", params={"limit": 50}, headers=who)).json()
        assert [c["complaint_id"] for c in whole["items"]] == expected and whole["next"] is None
        for limit in (1, 2, 3):
            assert await _walk(api, "/complaints", who, "complaint_id", limit) == expected


async def test_incidents_total_capped_and_closed_steps_by_key(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    url = dev_stack.settings.database_url
    assert url is not None
    seed_overdue(url)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO step_failures (workflow_id, run_id, activity_id, case_id, activity_type, "
            "status, attempts, first_failed_at, last_failed_at, last_error) "
            "SELECT 'DB-OVERDUE00000', 'r', g::text, 'DB-OVERDUE00000', 'issue_notice', "
            "'incident', 5, %s - g * interval '1 second', %s, 'down' "
            "FROM generate_series(1, 1003) g",
            (NOW, NOW),
        )
        for i in range(5):
            # Closed steps, two at each moment: the ID breaks the tie.
            conn.execute(
                "INSERT INTO step_failures (workflow_id, run_id, activity_id, case_id, "
                "activity_type, status, attempts, first_failed_at, last_failed_at, last_error) "
                "VALUES (%s, 'r', 'closed', %s, 'issue_notice', 'recovered', 2, %s, %s, 'down')",
                (f"DB-OVERDUE{i:05d}", f"DB-OVERDUE{i:05d}", NOW - timedelta(hours=i // 2), NOW),
            )
    first = (await api.get("/ops/incidents", params={"limit": 3}, headers=OPS)).json()
    assert (first["total"], first["total_capped"]) == (1000, True)
    second = (
        await api.get("/ops/incidents", params={"limit": 3, "after": first["next"]}, headers=OPS)
    ).json()
    assert (second["total"], second["total_capped"]) == (1000, True)
    # Oldest first: the second page starts right after the first's last.
    assert [i["first_failed_at"] for i in first["items"] + second["items"]] == sorted(
        i["first_failed_at"] for i in first["items"] + second["items"]
    )
    # Each of those failed at its own second.
    ids = [i["first_failed_at"] for i in first["items"] + second["items"]]
    by_offset = (await api.get("/ops/incidents", params={"limit": 6}, headers=OPS)).json()["items"]
    assert ids == [i["first_failed_at"] for i in by_offset] and len(set(ids)) == 6

    closed = (
        await api.get("/ops/incidents", params={"status": "recovered", "limit": 50}, headers=OPS)
    ).json()
    assert (closed["total"], closed["total_capped"], closed["next"]) == (5, False, None)
    whole = [i["workflow_id"] for i in closed["items"]]
    for limit in (1, 2):
        assert (
            await _walk(api, "/ops/incidents", OPS, "workflow_id", limit, status="recovered")
            == whole
        )
    # An empty page still says how many match.
    none = (await api.get("/ops/incidents", params={"status": "skipped"}, headers=OPS)).json()
    assert (none["total"], none["items"], none["next"]) == (0, [], None)


async def test_payroll_runs_newest_first_by_key(api: httpx.AsyncClient, dev_stack: Stack) -> None:
    url = dev_stack.settings.database_url
    assert url is not None
    with psycopg.connect(url) as conn:
        for i, county in enumerate(["610423"] * 5 + ["610424"]):
            conn.execute(
                "INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at, "
                "households, total_fen, bank_file, bank_file_sha256, roster_html) VALUES "
                "(%s, %s, %s, 'draft', 'chen.gang', %s, 0, 0, '', '', '')",
                (f"PR-{county}-2026-0{i + 1}", county, f"2026-0{i + 1}", NOW + timedelta(days=i)),
            )
    whole = (await api.get("/payroll/runs", headers=COUNTY)).json()
    expected = [f"PR-610423-2026-0{m}" for m in (5, 4, 3, 2, 1)]
    assert [r["run_id"] for r in whole["items"]] == expected and whole["next"] is None
    for limit in (1, 2, 4):
        assert await _walk(api, "/payroll/runs", COUNTY, "run_id", limit) == expected
    refused = await api.get("/payroll/runs", params={"after": "bm90LWEta2V5"}, headers=COUNTY)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "after"]
