"""Updates that reach the case workflow in one workflow task: each validator runs before any
handler, so all may pass; the handler checks again before it acts, and the first wins."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from dibao.domain.enums import CaseStatus, Stage
from dibao.messages.case import Terminate, Withdraw
from tests.conftest import Stack, make_settings
from tests.workflows.helpers import (
    TOWNSHIP,
    VILLAGE,
    at_stage,
    complete,
    evaluate,
    file_case,
    state,
    survey,
    survey_of,
    wait_for,
)
from workflows.case import CaseWorkflow


async def held_back(stack: Stack, sends: list[Any]) -> list[Any]:
    """Send the updates while no worker runs, then start one: it gets them all in one task."""
    pending = [asyncio.create_task(send) for send in sends]
    await asyncio.sleep(1.0)
    async with stack.worker():
        return list(await asyncio.gather(*pending, return_exceptions=True))


def refusals(results: list[Any]) -> list[ApplicationError]:
    causes = []
    for result in results:
        if isinstance(result, BaseException):
            assert isinstance(result, WorkflowUpdateFailedError), result
            assert isinstance(result.cause, ApplicationError), result.cause
            causes.append(result.cause)
    return causes


def audit_actions(stack: Stack, case_id: str) -> list[str]:
    return [r[0] for r in stack.sql("SELECT action FROM audit_log WHERE case_id = %s", case_id)]


async def test_ten_evaluations_in_one_workflow_task_record_one(
    dev_env: Any, database_url: str, sample: dict[str, Any]
) -> None:
    stack = Stack(dev_env, make_settings(database_url, dev_env.client))
    async with stack.worker():
        handle = await file_case(stack, complete(sample), "DB-RACEEVAL0001")
        view = await at_stage(handle, Stage.SURVEY)
        await survey(handle, survey_of(view.application))
        await at_stage(handle, Stage.EVALUATION)
    try:
        results = await held_back(
            stack, [evaluate(handle, rid=f"e{i}", votes_for=11 + i) for i in range(10)]
        )
        causes = refusals(results)
        assert len(causes) == 9
        assert {c.type for c in causes} == {"WrongStage"}
        assert audit_actions(stack, handle.id).count("evaluation") == 1
        async with stack.worker():
            view = await state(handle)
        winner = next(r for r in results if not isinstance(r, BaseException))
        assert view.procedure.evaluation == winner.procedure.evaluation
    finally:
        await stack.settle()
        await stack.engine.dispose()


async def test_a_withdrawal_and_a_termination_at_once_close_the_case_once(
    dev_env: Any, database_url: str, sample: dict[str, Any]
) -> None:
    stack = Stack(dev_env, make_settings(database_url, dev_env.client))
    async with stack.worker():
        handle = await file_case(stack, complete(sample), "DB-RACECLOSE001")
        await at_stage(handle, Stage.SURVEY)
    try:
        results = await held_back(
            stack,
            [
                handle.execute_update(
                    CaseWorkflow.withdraw,
                    Withdraw(request_id="w1", actor=VILLAGE, reason="自愿撤回"),
                ),
                handle.execute_update(
                    CaseWorkflow.terminate,
                    Terminate(request_id="t1", actor=TOWNSHIP, reason="拒不配合入户调查"),
                ),
            ],
        )
        assert len(refusals(results)) == 1
        actions = audit_actions(stack, handle.id)
        assert actions.count("withdraw") + actions.count("terminate") == 1
        async with stack.worker():
            view = await wait_for(handle, lambda v: not v.status.is_open, "closed")
        assert view.status in (CaseStatus.WITHDRAWN, CaseStatus.TERMINATED)
    finally:
        await stack.settle()
        await stack.engine.dispose()
