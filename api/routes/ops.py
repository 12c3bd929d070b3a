"""Operations: failing steps and incidents, and what Temporal says a case is doing.

Retrying or skipping a step, or closing its case, is a case action (POST
/cases/{id}/retry-step, /skip-step, /close-case in api/routes/actions.py): an update of the case workflow, validated and audited like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import PendingActivityState, WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from api.deps import ClientDep, SessionDep, case_actor, require
from api.fields import CaseId, CaseIdQuery, Offset
from api.ops_schemas import DescribeOut, IncidentListOut, IncidentOut, PendingActivityOut
from api.paging import After, decode_time_key, encode_key
from api.responses import documented
from dibao.db import ops_repo
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.case import Actor
from dibao.domain.ops import FailureStatus, incident_options

router = APIRouter(tags=["ops"], responses=documented(401, 403, 422))


def _incident_out(listing: ops_repo.FailureListing) -> IncidentOut:
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


@router.get(
    "/ops/incidents",
    response_model=IncidentListOut,
    summary="Steps that gave up (incident) or keep failing (retrying), oldest first",
)
async def incidents(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Action.OPERATE))],
    status: Annotated[
        list[FailureStatus] | None,
        Query(max_length=10, description="default: the open ones, incident and retrying"),
    ] = None,
    case_id: CaseIdQuery = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    after: After = None,
) -> IncidentListOut:
    scope = access.list_scope(actor.jurisdiction, county, None, None)
    if isinstance(scope, str):
        raise errors.forbidden(scope)
    statuses = tuple(s.value for s in status) if status else ops_repo.OPEN_STATUSES
    rows, total = await ops_repo.list_failures(
        session,
        statuses=statuses,
        case_id=case_id,
        county_code=scope.county,
        # One row past the page: whether there is a next one.
        limit=limit + 1,
        offset=offset,
        after=decode_time_key(after, int) if after else None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].row if rows else None
    return IncidentListOut(
        total=min(total, ops_repo.TOTAL_CAP),
        total_capped=total > ops_repo.TOTAL_CAP,
        items=[_incident_out(r) for r in rows],
        next=encode_key(last.first_failed_at, last.id) if more and last is not None else None,
    )


def _time(ts: Any) -> datetime | None:
    return ts.ToDatetime().astimezone() if ts is not None and ts.seconds else None


@router.get(
    "/ops/cases/{case_id}/describe",
    response_model=DescribeOut,
    responses=documented(404, r404="no case of that ID"),
    summary="What Temporal says of a case: pending activities with attempts, last failure "
    "and next retry time; and its incidents",
)
async def describe(
    case_id: CaseId,
    session: SessionDep,
    client: ClientDep,
    actor: Annotated[Actor, Depends(case_actor(Action.OPERATE))],
) -> DescribeOut:
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
        incidents=[_incident_out(r) for r in rows],
    )
