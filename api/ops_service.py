"""What ops read and how a retried step turned out, for the API's /ops routes and the console's
运维 page alike: a failing step as shown, and what Temporal says of a case (its pending
activities with the last failure decrypted by the payload codec)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import PendingActivityState, WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from api.ops_schemas import DescribeOut, IncidentOut, PendingActivityOut
from dibao.db import ops_repo
from dibao.domain.ops import FailureStatus, incident_options


def incident_out(listing: ops_repo.FailureListing) -> IncidentOut:
    row = listing.row
    correctable = tuple(f for f in (row.correctable_fields or "").split(",") if f)
    return IncidentOut(
        case_id=row.case_id,
        workflow_id=row.workflow_id,
        run_id=row.run_id,
        incident_id=row.incident_id,
        status=row.status,
        activity_type=row.activity_type,
        step=row.step,
        attempts=row.attempts,
        first_failed_at=row.first_failed_at,
        last_failed_at=row.last_failed_at,
        last_error=row.last_error,
        county_code=listing.county_code,
        township_code=listing.township_code,
        stage=listing.stage,
        correctable_fields=list(correctable),
        options=list(incident_options(row.activity_type, correctable))
        if row.status == FailureStatus.INCIDENT.value
        else [],
    )


def _time(ts: Any) -> datetime | None:
    return ts.ToDatetime().astimezone() if ts is not None and ts.seconds else None


async def describe(session: AsyncSession, client: Client, case_id: str) -> DescribeOut:
    """404 for a case Temporal does not know, 503 when Temporal does not answer."""
    try:
        raw = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=case_id)
            )
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise errors.not_found(f"case {case_id}") from err
        raise errors.unavailable("Temporal did not answer", case_id=case_id) from err
    pending = []
    for p in raw.pending_activities:
        failure = None
        if p.HasField("last_failure"):
            # Failure messages are encrypted by the payload codec: decode them for ops.
            decoded = await client.data_converter.decode_failure(p.last_failure)
            failure = f"{type(decoded).__name__}: {decoded}"
        pending.append(
            PendingActivityOut(
                activity_id=p.activity_id,
                activity_type=p.activity_type.name,
                state=PendingActivityState.Name(p.state).removeprefix("PENDING_ACTIVITY_STATE_"),
                attempt=p.attempt,
                maximum_attempts=p.maximum_attempts,
                scheduled_at=_time(p.scheduled_time),
                last_started_at=_time(p.last_started_time),
                next_attempt_at=_time(p.next_attempt_schedule_time),
                last_failure=failure,
                last_worker=p.last_worker_identity or None,
            )
        )
    rows, _ = await ops_repo.list_failures(
        session, statuses=tuple(s.value for s in FailureStatus), case_id=case_id, limit=50
    )
    info = raw.workflow_execution_info
    return DescribeOut(
        case_id=case_id,
        workflow_status=WorkflowExecutionStatus.Name(info.status).removeprefix(
            "WORKFLOW_EXECUTION_STATUS_"
        ),
        run_id=info.execution.run_id,
        history_length=info.history_length,
        pending_activities=pending,
        incidents=[incident_out(r) for r in rows],
    )


class RetryOutcome(StrEnum):
    """How an incident sent back to be retried has turned out since."""

    WAITING = "waiting"  # the retry has not reached the workflow yet: still an open incident
    SUCCEEDED = "succeeded"  # retried, and the step has run through: nothing pending, no failure
    RETRYING = "retrying"  # retried, and the step is running or failing while Temporal retries
    FAILED_AGAIN = "failed_again"  # retried, and the step gave up again: a new incident
    OTHER = "other"  # skipped, closed or superseded meanwhile (see its status)


async def retry_outcome(
    session: AsyncSession, client: Client, incident_id: str
) -> tuple[RetryOutcome, ops_repo.FailureListing | None, str | None]:
    """The outcome of retrying `incident_id`, its row, and the new incident's ID if it failed
    again. "Succeeded" only once the step has actually run through: the retried call left no
    failure and Temporal holds no pending call of that step for the case."""
    row = await ops_repo.incident_by_id(session, incident_id)
    if row is None:
        return RetryOutcome.OTHER, None, None
    listing = ops_repo.FailureListing(row, None, None, None)
    if row.status == FailureStatus.INCIDENT.value:
        return RetryOutcome.WAITING, listing, None
    if row.status != FailureStatus.RETRIED.value:
        return RetryOutcome.OTHER, listing, None
    later = await ops_repo.later_failures(session, row)
    for failure in later:
        if failure.status == FailureStatus.INCIDENT.value:
            return RetryOutcome.FAILED_AGAIN, listing, failure.incident_id
        if failure.status == FailureStatus.RETRYING.value:
            return RetryOutcome.RETRYING, listing, None
    if row.case_id is not None:
        described = await describe(session, client, row.case_id)
        if any(p.activity_type == row.activity_type for p in described.pending_activities):
            return RetryOutcome.RETRYING, listing, None
    return RetryOutcome.SUCCEEDED, listing, None
