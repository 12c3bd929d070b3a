"""A stage deadline that passes is recorded by the case's own timer, not by a poll: the case
shows since when it is overdue and the supervisors of its township get an alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dibao.domain.enums import Stage
from tests.conftest import Stack
from tests.workflows.helpers import complete, file_case, survey, survey_of, wait_for


async def test_passed_survey_deadline_is_escalated_once(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-OVERDUE00001")
    view = await wait_for(handle, lambda v: v.stage is Stage.SURVEY and v.due_at is not None)
    assert view.overdue_since is None
    due_at = view.due_at
    assert due_at is not None

    await ts_stack.env.sleep(due_at - view.stage_entered_at + timedelta(hours=1))
    view = await wait_for(handle, lambda v: v.overdue_since is not None, "overdue")
    assert view.overdue_since is not None and view.overdue_since >= due_at
    alerts = ts_stack.sql(
        "SELECT kind, stage, township_code, county_code FROM supervisor_alerts "
        "WHERE case_id = 'DB-OVERDUE00001'"
    )
    assert alerts == [("overdue", "survey", "610423100", "610423")]
    projected = ts_stack.sql(
        "SELECT overdue_since IS NOT NULL, waiting_role FROM cases WHERE case_id = 'DB-OVERDUE00001'"
    )
    assert projected == [(True, "village_caseworker")]

    # The survey arrives late: the case moves on and is no longer overdue.
    await survey(handle, survey_of(view.application))
    view = await wait_for(handle, lambda v: v.stage is not Stage.SURVEY)
    assert view.overdue_since is None
    assert ts_stack.sql("SELECT overdue_since FROM cases WHERE case_id = 'DB-OVERDUE00001'") == [
        (None,)
    ]
    assert len(ts_stack.sql("SELECT id FROM supervisor_alerts")) == 1
    await record_history(handle, "survey_overdue_then_submitted")


async def test_no_alert_when_the_stage_ends_in_time(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-OVERDUE00002")
    view = await wait_for(handle, lambda v: v.stage is Stage.SURVEY and v.due_at is not None)
    await survey(handle, survey_of(view.application))
    view = await wait_for(handle, lambda v: v.stage is Stage.EVALUATION)
    await ts_stack.env.sleep(timedelta(days=60))
    view = await wait_for(handle, lambda v: v.stage is Stage.EVALUATION)
    assert view.overdue_since is None
    assert ts_stack.sql("SELECT count(*) FROM supervisor_alerts") == [(0,)]
