"""渐退 (mca-2021 Art. 33; 004 line 42): the caseworker is reminded before a gradual exit ends."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from dibao.messages.case import ReportReemployment
from tests.conftest import Stack
from tests.workflows.helpers import VILLAGE
from tests.workflows.test_recipient import approved_case
from workflows.case import CaseWorkflow


async def test_004_line42_caseworker_is_reminded_30_days_before_the_gradual_exit_ends(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-GRADREMIND01")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    view = await handle.execute_update(
        CaseWorkflow.report_reemployment,
        ReportReemployment(
            request_id="job1",
            actor=VILLAGE,
            member_id_number="61042319850101001X",
            monthly_wage_fen=30000,
            started_on=yesterday,
        ),
    )
    assert view.recipient is not None
    until = view.recipient.gradual_exit_until
    alerts = "SELECT step_key, message FROM supervisor_alerts WHERE kind = 'gradual_exit'"
    assert ts_stack.sql(alerts) == []
    # The exit ends on the first of `until`, 3 months after the month after the job started:
    # at least 60 days away, so the reminder has not fired yet; 100 days on, it has.
    await ts_stack.env.sleep(timedelta(days=100))
    for _ in range(200):
        rows = ts_stack.sql(alerts)
        if rows:
            break
        await asyncio.sleep(0.05)
    (step_key, message) = rows[0]
    assert step_key == f"gradual-exit-reminder-{until}"
    assert f"渐退期（3个月）将于 {until} 结束" in message
    assert len(rows) == 1
