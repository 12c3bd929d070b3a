"""The stuck list, incidents and alerts page by `after=` cursors over HTTP; the old `offset=`
still works, and a cursor that is not one is refused with the field named."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg

from tests.auth import OPS, SUPERVISOR
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
