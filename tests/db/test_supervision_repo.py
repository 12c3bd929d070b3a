"""The stuck list over real cases: each reason (overdue, failing, incident, idle), filters and
counts per township, read from the projection the workflows write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from dibao.db import supervision_repo
from dibao.db.supervision_repo import StuckFilter
from dibao.domain.enums import Role, Stage
from dibao.domain.ops import StuckReason
from tests.conftest import Stack
from tests.workflows.helpers import another_household, complete, file_case, wait_for
from tests.workflows.test_incidents import drill


async def stuck(stack: Stack, **kwargs: Any) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    flt = StuckFilter(**{"now": datetime.now(UTC), **kwargs})
    async with stack.sessions() as session:
        items, counts = await supervision_repo.stuck_cases(session, flt)
    return {c.case_id: c for c in items}, counts


async def test_stuck_list_gives_each_reason_and_what_the_case_waits_for(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    quiet = await file_case(ts_stack, complete(sample), "DB-STUCK0000001")
    view = await wait_for(quiet, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    assert view.due_at is not None
    drill(ts_stack, "issue_notice", "DB-STUCK0000002")
    drill_retrying = "INSERT INTO ops_drills VALUES ('record_stage', 'DB-STUCK0000003', true, 'db down', 't') RETURNING 1"
    given_up = await file_case(ts_stack, another_household(complete(sample), 2), "DB-STUCK0000002")
    await wait_for(given_up, lambda v: bool(v.incidents), "an incident")
    ts_stack.sql(drill_retrying)
    await file_case(ts_stack, another_household(complete(sample), 3), "DB-STUCK0000003")
    for _ in range(200):
        if ts_stack.sql("SELECT count(*) FROM step_failures WHERE case_id = 'DB-STUCK0000003'")[0][
            0
        ]:
            break
        await asyncio.sleep(0.02)

    # Now: only the failing steps are stuck.
    items, counts = await stuck(ts_stack)
    assert set(items) == {"DB-STUCK0000002", "DB-STUCK0000003"}
    incident = items["DB-STUCK0000002"]
    assert incident.reasons == (StuckReason.INCIDENT,)
    assert "issue_notice" in incident.waiting_for and "ops" in incident.waiting_for
    assert incident.failing is not None and incident.failing.incident_id
    failing = items["DB-STUCK0000003"]
    assert failing.reasons == (StuckReason.FAILING,)
    assert "record_stage" in failing.waiting_for and "db down" in failing.waiting_for
    assert counts == [("610423100", 2)]

    # After the survey deadline: the quiet case is overdue, waiting for the village caseworker.
    items, _ = await stuck(ts_stack, now=view.due_at + timedelta(hours=1), idle_days=365)
    quiet_row = items["DB-STUCK0000001"]
    assert quiet_row.reasons == (StuckReason.OVERDUE,)
    assert quiet_row.waiting_role is Role.VILLAGE_CASEWORKER
    assert quiet_row.waiting_for.startswith("入户调查")
    assert quiet_row.since == view.stage_entered_at
    assert items["DB-STUCK0000002"].reasons == (StuckReason.OVERDUE, StuckReason.INCIDENT)

    # Idle: nothing happened for more than 0 days.
    items, _ = await stuck(ts_stack, idle_days=0, reason=StuckReason.IDLE)
    assert "DB-STUCK0000001" in items and items["DB-STUCK0000001"].reasons == (StuckReason.IDLE,)

    # Filters: reason, assignee, stage, township.
    items, _ = await stuck(ts_stack, reason=StuckReason.INCIDENT)
    assert set(items) == {"DB-STUCK0000002"}
    items, _ = await stuck(ts_stack, idle_days=0, assignee=Role.TOWNSHIP_CASEWORKER)
    assert items == {}
    items, _ = await stuck(ts_stack, idle_days=0, stage=Stage.SURVEY)
    assert "DB-STUCK0000001" in items
    items, counts = await stuck(ts_stack, township_code="610423101")
    assert items == {} and counts == []
