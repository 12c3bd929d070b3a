"""A standard change pages a county's recipients, continues as new, and changes each once."""

from __future__ import annotations

from typing import Any

import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from api.schemas import ApplicationIn
from dibao.db import cases_repo
from dibao.domain.enums import CaseStatus, Role
from dibao.domain.rulepacks import MCA_2021
from dibao.messages.case import (
    Actor,
    CaseInput,
    SkippedCount,
    SkipReason,
    StandardChangeInput,
)
from tests.conftest import Stack
from tests.workflows.helpers import VILLAGE, another_household, complete, wait_for
from tests.workflows.test_recipient import approved_case, pass_change_posting
from workflows.standard_change import StandardChangeWorkflow

BATCH = "SC-610423-2027-01-paged"
APPROVER = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")


async def receiving_row_without_workflow(
    stack: Stack, sample: dict[str, Any], case_id: str
) -> None:
    """A receiving case row whose workflow Temporal does not know (lost, or never started)."""
    from datetime import UTC, datetime

    parsed = ApplicationIn.model_validate(complete(another_household(sample, 9)))
    case = CaseInput(
        case_id=case_id,
        application=parsed.to_domain(),
        rule_pack_id=MCA_2021.id,
        rule_pack_version=MCA_2021.version,
        filed_at=datetime.now(UTC),
        filed_by=VILLAGE,
        request_id="req-file",
        rule_pack=MCA_2021,
    )
    async with stack.sessions() as session:
        await cases_repo.reserve_case(session, case, parsed.model_dump(mode="json"), None, "h")
    with psycopg.connect(stack.settings.database_url or "") as conn:
        conn.execute("UPDATE cases SET status = 'receiving' WHERE case_id = %s", (case_id,))


async def runs_of(stack: Stack, handle: WorkflowHandle[Any, Any]) -> list[int]:
    """History events of every run of the batch, first run first (walked back from the last)."""
    counts: list[int] = []
    run_id: str | None = None
    while True:
        run = stack.client.get_workflow_handle(handle.id, run_id=run_id)
        events = [e async for e in run.fetch_history_events()]
        counts.append(len(events))
        started = events[0]
        assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        previous = started.workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            return counts[::-1]
        run_id = previous


async def test_a_paged_standard_change_continues_as_new_and_changes_every_household_once(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handles = [
        await approved_case(ts_stack, another_household(sample, n), f"DB-PAGED000{n}")
        for n in range(4)
    ]
    await receiving_row_without_workflow(ts_stack, sample, "DB-PAGED0009")
    ts_stack.started.append(BATCH)
    handle = await ts_stack.client.start_workflow(
        StandardChangeWorkflow.run,
        StandardChangeInput(
            batch_id=BATCH,
            county_code="610423",
            urban_standard_fen_month=56_000,
            rural_standard_fen_year=400_000,
            effective_month="2027-01",
            requested_by=APPROVER,
            # Small enough that five cases take three runs.
            page_size=2,
            concurrency=2,
            cases_per_run=2,
        ),
        id=BATCH,
        task_queue=ts_stack.settings.task_queue,
    )
    progress = await handle.result()
    assert (progress.total, progress.done, progress.applied, progress.finished) == (5, 5, 4, True)
    assert progress.skipped_by_reason == (SkippedCount(reason=SkipReason.NO_WORKFLOW, count=1),)
    assert [s.split(":")[0] for s in progress.skipped] == ["DB-PAGED0009"]
    assert progress.runs == 3
    # Each run's history holds its own cases only: it does not grow with the county.
    counts = await runs_of(ts_stack, handle)
    assert len(counts) == 3
    assert max(counts) < 50, counts
    for _ in handles:
        await pass_change_posting(ts_stack, count=1)
    for h in handles:
        await wait_for(
            h,
            lambda v: (
                v.status is CaseStatus.RECEIVING
                and v.procedure.assessment is not None
                and v.procedure.assessment.standard is not None
                and v.procedure.assessment.standard.source == BATCH
            ),
        )
    # Every household changed once: one standard audit and one non-start change each.
    assert ts_stack.sql(
        "SELECT case_id, count(*) FROM entitlement_changes WHERE change_kind <> 'start' "
        "GROUP BY case_id ORDER BY case_id"
    ) == [(h.id, 1) for h in handles]
