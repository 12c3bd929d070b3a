"""A county's change of standard (低保标准调整), applied to every recipient by a batch workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api import errors, policy_service
from api.deps import (
    AUTHENTICATED,
    ClientDep,
    IdempotencyKey,
    SessionDep,
    SettingsDep,
    check_county,
    require,
)
from api.fields import BatchId, Line
from api.responses import documented
from api.schemas import Yuan, to_fen
from dibao.domain.access import Action
from dibao.messages.case import Actor, SkipReason, StandardChangeProgress
from workflows.standard_change import StandardChangeWorkflow

router = APIRouter(
    tags=["standard changes"],
    dependencies=AUTHENTICATED,
    responses=documented(401, 403, 413, 422),
)


class StandardChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urban_standard: Yuan = Field(gt=0, description="yuan per person per month", examples=["560.00"])
    rural_standard: Yuan = Field(gt=0, description="yuan per person per year", examples=["4000.00"])
    effective_month: Line = Field(
        max_length=7, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2027-01"]
    )


class SkippedOut(BaseModel):
    reason: SkipReason
    count: int


class ProgressOut(BaseModel):
    batch_id: str
    county_code: str
    effective_month: str
    total: int = Field(description="receiving cases of the county when the change began")
    done: int = Field(description="cases reached so far: applied + skipped_count")
    applied: int
    skipped_count: int
    skipped_by_reason: list[SkippedOut]
    skipped: list[str] = Field(description="the first skipped cases as 'case_id: reason'")
    in_flight: int
    runs: int = Field(description="workflow runs so far (it continues as new every few thousand)")
    finished: bool


def _out(progress: StandardChangeProgress) -> ProgressOut:
    return ProgressOut(
        batch_id=progress.batch_id,
        county_code=progress.county_code,
        effective_month=progress.effective_month,
        total=progress.total,
        done=progress.done,
        applied=progress.applied,
        skipped_count=progress.skipped_count,
        skipped_by_reason=[
            SkippedOut(reason=s.reason, count=s.count) for s in progress.skipped_by_reason
        ],
        skipped=list(progress.skipped),
        in_flight=progress.in_flight,
        runs=progress.runs,
        finished=progress.finished,
    )


@router.post(
    "/counties/{county_code}/standard-changes",
    response_model=ProgressOut,
    status_code=202,
    summary="Apply a new standard to every recipient of the county from a month",
)
async def start_standard_change(
    county_code: Annotated[str, Path(pattern=r"^\d{6}$")],
    body: StandardChangeIn,
    client: ClientDep,
    settings: SettingsDep,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Action.CHANGE_STANDARD))],
    idempotency_key: IdempotencyKey = None,
) -> ProgressOut:
    progress = await policy_service.start_standard_change(
        session,
        client,
        settings,
        actor,
        county_code,
        urban_fen=to_fen(body.urban_standard),
        rural_fen=to_fen(body.rural_standard),
        effective_month=body.effective_month,
        idempotency_key=idempotency_key,
    )
    return _out(progress)


@router.get(
    "/standard-changes/{batch_id}",
    response_model=ProgressOut,
    responses={404: {"description": "no standard change of that batch ID"}},
    summary="Progress of a standard change: how many recipients have had it applied",
)
async def standard_change_progress(
    batch_id: BatchId,
    client: ClientDep,
    actor: Annotated[Actor, Depends(require(Action.READ_STANDARD_CHANGE))],
) -> ProgressOut:
    # Only standard-change batches are asked: any other workflow ID (a case, a payroll) is no
    # standard change, whatever Temporal would answer for it.
    if not batch_id.startswith("SC-"):
        raise errors.not_found(f"standard change {batch_id}")
    try:
        progress = await client.get_workflow_handle(batch_id).query(StandardChangeWorkflow.progress)
    except WorkflowQueryFailedError as err:
        raise errors.not_found(f"standard change {batch_id}") from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise errors.not_found(f"standard change {batch_id}") from err
        raise
    check_county(actor, Action.READ_STANDARD_CHANGE, progress.county_code)
    return _out(progress)
