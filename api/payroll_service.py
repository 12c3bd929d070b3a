"""The payroll's service layer: build a county's run, follow its build, release and discard it.

Used by the API's /payroll routes and by the console's 发放 page alike (never over HTTP). Each
function checks the role and the county (403 with the reason), raises the API's HTTPExceptions
(404, 409, 422 with the field, 503 when Temporal does not answer) and changes nothing when it
refuses. A run is built and released by PayrollWorkflow (`payroll-{county}-{period}`); the
workflow's validator refuses a release by the run's maker, with its reason, whoever asks.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import PendingActivityState, TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from api.case_service import QUEUED_REASON, Queued, send_update
from api.deps import check_county, check_role
from dibao.db import payroll_repo, rulepacks_repo
from dibao.db.payroll_models import PayrollDiscardRow, PayrollRunRow
from dibao.domain.access import Action
from dibao.domain.calendar import china_date
from dibao.domain.enums import Role
from dibao.domain.payroll import (
    DiscardRun,
    PayrollInput,
    PayrollView,
    ReleaseRun,
    RunStatus,
    build_status,
    period_months,
    run_id_for,
    validate_county,
    validate_period,
    workflow_id_for,
)
from dibao.domain.standards import month_problem
from dibao.messages.case import Actor
from dibao.settings import Settings
from workflows import payroll_policies
from workflows.payroll import PayrollWorkflow

QUERY_TIMEOUT = timedelta(seconds=5)
UPDATE_TIMEOUT = timedelta(seconds=60)
# How long POST /payroll/runs waits for the roster to be built before answering 202; a county
# of 100,000 households builds in seconds.
BUILD_WAIT = 30.0

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class QueuedAction:
    """No worker took a release or discard up in time: Temporal keeps it and applies it once
    when a worker is back; sending it again with the same request ID is safe."""

    request_id: str
    reason: str


@dataclass(frozen=True)
class Build:
    """What a build request found: the stored run (None while it is still being built),
    whether it was stored before this request, and how the build goes meanwhile."""

    run_id: str
    county_code: str
    period: str
    row: PayrollRunRow | None
    existed: bool
    status_detail: str | None = None


async def run_or_404(sessions: Sessions, run_id: str) -> PayrollRunRow:
    async with sessions() as session:
        row = await payroll_repo.get_run(session, run_id)
    if row is None:
        raise errors.not_found(f"payroll run {run_id}")
    return row


async def readable_run(sessions: Sessions, actor: Actor, run_id: str) -> PayrollRunRow:
    """The run, if the role reads payrolls and it is of the user's county (403 otherwise)."""
    check_role(actor, Action.READ_PAYROLL)
    row = await run_or_404(sessions, run_id)
    check_county(actor, Action.READ_PAYROLL, row.county_code)
    return row


async def start_workflow(
    client: Client, settings: Settings, county_code: str, period: str, maker: Actor
) -> WorkflowHandle[Any, Any]:
    try:
        return await client.start_workflow(
            PayrollWorkflow.run,
            PayrollInput(county_code=county_code, period=period, requested_by=maker),
            id=workflow_id_for(county_code, period),
            task_queue=settings.task_queue,
            # The running workflow of the period, if any, is the one to use; a closed one
            # (released run) may be started again and finds the run as released.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError as err:
        raise errors.unavailable(
            "the payroll workflow could not be started; repeat the request", reason=err.message
        ) from err


async def workflow_build_status(handle: WorkflowHandle[Any, Any]) -> str | None:
    """How the build of a run not stored yet is going, from its workflow's pending activity;
    None when no workflow of it runs."""
    try:
        described = await handle.describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if described.status != WorkflowExecutionStatus.RUNNING:
        return None  # discarded, or stopped: nothing is being built
    now = datetime.now(UTC)
    for pending in described.raw_description.pending_activities:
        if pending.activity_type.name != "build_payroll":
            continue
        started = pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        last_sign = (
            pending.last_heartbeat_time
            if pending.HasField("last_heartbeat_time")
            else pending.last_started_time
        )
        silent = (
            (now - last_sign.ToDatetime(tzinfo=UTC)).total_seconds()
            if started and last_sign.seconds
            else None
        )
        return build_status(
            attempt=pending.attempt,
            waiting_for_worker=not started,
            last_error_kind=_failure_kind(pending.last_failure)
            if pending.HasField("last_failure")
            else "",
            silent_seconds=silent,
            heartbeat_timeout_seconds=payroll_policies.BUILD_HEARTBEAT_TIMEOUT.total_seconds(),
        )
    return "building"


def _failure_kind(failure: Failure) -> str:
    """The kind of a failure, never its message (which may quote row values)."""
    if failure.HasField("timeout_failure_info"):
        kind = TimeoutType.Name(failure.timeout_failure_info.timeout_type)
        return kind.removeprefix("TIMEOUT_TYPE_").lower().replace("_", "-") + " timeout"
    if failure.HasField("application_failure_info"):
        return failure.application_failure_info.type or "error"
    return "error"


async def wait_built(handle: WorkflowHandle[Any, Any], seconds: float) -> PayrollView | None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            view: PayrollView = await handle.query(PayrollWorkflow.state, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            return None
        if view.run is not None:
            return view
        await asyncio.sleep(0.1)
    return None


async def build(
    sessions: Sessions,
    client: Client,
    settings: Settings,
    actor: Actor,
    county_code: str,
    period: str,
    wait: float = BUILD_WAIT,
) -> Build:
    """Build (or find) the county's run of the period, waiting up to `wait` seconds for it."""
    check_role(actor, Action.BUILD_PAYROLL)
    check_county(actor, Action.BUILD_PAYROLL, county_code)
    problem = validate_period(period)
    if problem is not None:
        raise errors.unprocessable_header_or_body("period", problem)
    async with sessions() as session:
        pack = await rulepacks_repo.pack_for_county(
            session, county_code, settings.default_rule_pack
        )
    today = china_date(datetime.now(UTC))
    for month in period_months(period):
        problem = month_problem(month, pack, today)
        if problem is not None:
            raise errors.unprocessable_header_or_body("period", problem)
    run_id = run_id_for(county_code, period)
    async with sessions() as session:
        existing = await payroll_repo.get_run(session, run_id)
        other = await payroll_repo.pending_draft(session, county_code, period)
    if existing is not None and existing.status == RunStatus.RELEASED.value:
        return Build(run_id, county_code, period, existing, existed=True)
    if existing is None and other is not None:
        raise errors.conflict(
            f"payroll run {other} of county {county_code} is still a draft; release it "
            "before building another period",
            pending_run_id=other,
        )
    # A draft's workflow is started again if it stopped; its build returns the stored run, and
    # its maker stays the stored one whoever asks now.
    handle = await start_workflow(client, settings, county_code, period, actor)
    await wait_built(handle, wait)
    async with sessions() as session:
        row = await payroll_repo.get_run(session, run_id)
    if row is None:
        return Build(
            run_id,
            county_code,
            period,
            None,
            existed=False,
            status_detail=await workflow_build_status(handle),
        )
    return Build(run_id, county_code, period, row, existed=existing is not None)


def parse_run_id(run_id: str) -> tuple[str, str] | None:
    """(county, period) of a well-formed run ID."""
    county, _, period = run_id.removeprefix("PR-").partition("-")
    if (
        validate_county(county) is not None
        or validate_period(period) is not None
        or run_id_for(county, period) != run_id
    ):
        return None
    return county, period


async def building(client: Client, actor: Actor, run_id: str) -> Build:
    """A run not stored yet: how its build goes (404 when no workflow builds it)."""
    parsed = parse_run_id(run_id)
    if parsed is None:
        raise errors.not_found(f"payroll run {run_id}")
    county, period = parsed
    check_role(actor, Action.READ_PAYROLL)
    check_county(actor, Action.READ_PAYROLL, county)
    detail = await workflow_build_status(
        client.get_workflow_handle(workflow_id_for(county, period))
    )
    if detail is None:
        raise errors.not_found(f"payroll run {run_id}")
    return Build(run_id, county, period, None, existed=False, status_detail=detail)


async def _send(
    handle: WorkflowHandle[Any, Any],
    update: Any,
    request: Any,
    update_id: str,
    settings: Settings,
) -> QueuedAction | None:
    """Send an update of the payroll workflow; map the validator's rejection to 409 / 422 /
    403; QueuedAction when no worker takes it up in time."""
    try:
        result = await send_update(
            handle, update, request, update_id, settings.update_accept_seconds, UPDATE_TIMEOUT
        )
    except WorkflowUpdateFailedError as err:
        http = errors.from_rejection(err)
        if http is None:
            raise
        raise http from err
    if isinstance(result, Queued):
        reason = QUEUED_REASON.format(
            seconds=settings.update_accept_seconds, request_id=request.request_id
        )
        return QueuedAction(request.request_id, reason)
    return None


async def release(
    sessions: Sessions,
    client: Client,
    settings: Settings,
    actor: Actor,
    run_id: str,
    request_id: str | None = None,
) -> PayrollRunRow | QueuedAction:
    """Check and release a run (审核); refused (403) to its maker by the workflow's validator."""
    check_role(actor, Action.RELEASE_PAYROLL)
    row = await run_or_404(sessions, run_id)
    check_county(actor, Action.RELEASE_PAYROLL, row.county_code)
    if row.status == RunStatus.RELEASED.value:
        if row.checker == actor.id:
            return row  # a repeat of the release: no second effect
        raise errors.conflict(f"payroll run {run_id} is already released by {row.checker}")
    request = ReleaseRun(request_id=request_id or str(uuid.uuid4()), checker=actor)
    update_id = f"release-{request.request_id}"
    handle = client.get_workflow_handle(workflow_id_for(row.county_code, row.period))
    try:
        queued = await _send(handle, PayrollWorkflow.release, request, update_id, settings)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise errors.unavailable(
                "the payroll workflow did not answer; the run was not released", run_id=run_id
            ) from err
        # The draft's workflow stopped (e.g. terminated by ops): start it again. Its build
        # returns the stored run, with the stored maker, and waits for this release.
        maker = Actor(id=row.maker, role=Role.SYSTEM)
        handle = await start_workflow(client, settings, row.county_code, row.period, maker)
        await wait_built(handle, BUILD_WAIT)
        try:
            queued = await _send(handle, PayrollWorkflow.release, request, update_id, settings)
        except RPCError as again:
            raise errors.unavailable(
                "the payroll workflow did not answer; the run was not released", run_id=run_id
            ) from again
    if queued is not None:
        return queued
    return await run_or_404(sessions, run_id)


async def discard(
    sessions: Sessions,
    client: Client,
    settings: Settings,
    actor: Actor,
    run_id: str,
    reason: str,
    request_id: str | None = None,
) -> list[PayrollDiscardRow] | QueuedAction:
    """Discard a draft before release (作废), with a reason; every discard of the run ID."""
    check_role(actor, Action.RELEASE_PAYROLL)
    row = await run_or_404(sessions, run_id)
    check_county(actor, Action.RELEASE_PAYROLL, row.county_code)
    if row.status == RunStatus.RELEASED.value:
        raise errors.conflict(
            f"payroll run {run_id} is released: it was paid; a correction is a payment "
            "change, paid or recovered in the next period"
        )
    request = DiscardRun(request_id=request_id or str(uuid.uuid4()), actor=actor, reason=reason)
    handle = client.get_workflow_handle(workflow_id_for(row.county_code, row.period))
    try:
        queued = await _send(
            handle, PayrollWorkflow.discard, request, f"discard-{request.request_id}", settings
        )
    except RPCError as err:
        raise errors.unavailable(
            "the payroll workflow did not answer; the run was not discarded", run_id=run_id
        ) from err
    if queued is not None:
        return queued
    async with sessions() as session:
        return await payroll_repo.discards(session, run_id)
