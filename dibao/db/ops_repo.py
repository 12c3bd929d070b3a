"""Queries of operations: failing steps and incidents, supervisor alerts, failure drills.

A step's failures are one row per activity call (workflow, run, activity ID): the worker's
interceptor upserts it on every failed attempt, the workflow's incident activities move it to
`incident` and then to `retried` or `skipped`. Upserts keyed by the call make every write
repeatable, so a retried activity or a replayed workflow never adds a second row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, literal, or_, select, true, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dibao.db.models import CaseRow
from dibao.db.ops_models import OpsDrillRow, StepFailureRow, SupervisorAlertRow
from dibao.domain.measures import RecordReminder
from dibao.domain.ops import CloseIncident, FailureStatus, OpenIncident, RecordOverdue
from dibao.messages.case import RecordProcedureOverdue

OPEN_STATUSES = tuple(s.value for s in FailureStatus if s.is_open)


@dataclass(frozen=True)
class FailedAttempt:
    workflow_id: str
    run_id: str
    activity_id: str
    case_id: str | None
    activity_type: str
    attempt: int
    error: str
    at: datetime


async def record_failed_attempt(session: AsyncSession, failed: FailedAttempt) -> None:
    stmt = insert(StepFailureRow).values(
        workflow_id=failed.workflow_id,
        run_id=failed.run_id,
        activity_id=failed.activity_id,
        case_id=failed.case_id,
        activity_type=failed.activity_type,
        status=FailureStatus.RETRYING.value,
        attempts=failed.attempt,
        first_failed_at=failed.at,
        last_failed_at=failed.at,
        last_error=failed.error[:4000],
    )
    excluded = stmt.excluded
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_step_failures_call",
            set_={
                "attempts": func.greatest(StepFailureRow.attempts, excluded.attempts),
                "last_failed_at": func.greatest(
                    StepFailureRow.last_failed_at, excluded.last_failed_at
                ),
                "last_error": excluded.last_error,
            },
        )
    )
    await session.commit()


async def supersede_other_runs(
    session: AsyncSession, workflow_id: str, run_id: str, at: datetime, *, commit: bool = True
) -> None:
    """Steps still open in other runs of the workflow are over: a reset replaced those runs
    (continue-as-new never leaves one open). Called as each run moves to a new stage."""
    await session.execute(
        update(StepFailureRow)
        .where(
            StepFailureRow.case_id == workflow_id,
            StepFailureRow.run_id != run_id,
            StepFailureRow.status.in_(OPEN_STATUSES),
        )
        .values(
            status=FailureStatus.SUPERSEDED.value,
            resolved_at=at,
            resolved_by="system",
            resolution=f"superseded by run {run_id} (workflow reset)",
        )
    )
    if commit:
        await session.commit()


async def record_recovered(
    session: AsyncSession, workflow_id: str, run_id: str, activity_id: str
) -> None:
    """A later attempt succeeded: the call is no longer failing."""
    await session.execute(
        update(StepFailureRow)
        .where(
            StepFailureRow.workflow_id == workflow_id,
            StepFailureRow.run_id == run_id,
            StepFailureRow.activity_id == activity_id,
            StepFailureRow.status == FailureStatus.RETRYING.value,
        )
        .values(status=FailureStatus.RECOVERED.value)
    )
    await session.commit()


async def open_incident(session: AsyncSession, request: OpenIncident) -> tuple[str, int]:
    """Mark the call's row an incident (creating it if no attempt was recorded, e.g. when the
    worker died mid-attempt); returns the incident's ID and the attempts counted.

    The ID first given to the call is kept: a workflow reset copies this activity's result
    into the new run, which then goes on with the same incident. An incident of the same step
    left open by a run that a reset replaced is marked superseded.
    """
    stmt = insert(StepFailureRow).values(
        workflow_id=request.workflow_id,
        run_id=request.run_id,
        activity_id=request.activity_id,
        case_id=request.case_id,
        activity_type=request.activity_type,
        status=FailureStatus.INCIDENT.value,
        attempts=1,
        first_failed_at=request.opened_at,
        last_failed_at=request.opened_at,
        last_error=request.error[:4000],
        incident_id=request.incident_id,
        step=request.step,
        correctable_fields=",".join(request.correctable_fields),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_step_failures_call",
            set_={
                "status": FailureStatus.INCIDENT.value,
                "incident_id": func.coalesce(StepFailureRow.incident_id, stmt.excluded.incident_id),
                "step": request.step,
                "case_id": request.case_id,
                "correctable_fields": ",".join(request.correctable_fields),
            },
            # Once resolved, a replayed open does not reopen it.
            where=StepFailureRow.resolved_at.is_(None),
        )
    )
    await session.execute(
        update(StepFailureRow)
        .where(
            StepFailureRow.workflow_id == request.workflow_id,
            StepFailureRow.run_id != request.run_id,
            StepFailureRow.step == request.step,
            StepFailureRow.status.in_(OPEN_STATUSES),
        )
        .values(
            status=FailureStatus.SUPERSEDED.value,
            resolved_at=request.opened_at,
            resolved_by="system",
            resolution=f"superseded by run {request.run_id} (workflow reset)",
        )
    )
    await session.commit()
    incident_id, attempts = (
        await session.execute(
            select(StepFailureRow.incident_id, StepFailureRow.attempts).where(
                StepFailureRow.workflow_id == request.workflow_id,
                StepFailureRow.run_id == request.run_id,
                StepFailureRow.activity_id == request.activity_id,
            )
        )
    ).one()
    return incident_id or request.incident_id, attempts


async def close_incident(session: AsyncSession, request: CloseIncident) -> None:
    await session.execute(
        update(StepFailureRow)
        .where(
            StepFailureRow.incident_id == request.incident_id,
            StepFailureRow.resolved_at.is_(None),
        )
        .values(
            status=request.status.value,
            resolved_at=request.resolved_at,
            resolved_by=request.resolved_by,
            resolution=request.resolution,
        )
    )
    await session.commit()


@dataclass(frozen=True)
class FailureListing:
    row: StepFailureRow
    county_code: str | None
    township_code: str | None
    stage: str | None


# Lists count their rows up to this many (beyond, "more than 1,000" is all a reader needs).
TOTAL_CAP = 1000


async def list_failures(
    session: AsyncSession,
    *,
    statuses: tuple[str, ...] = OPEN_STATUSES,
    case_id: str | None = None,
    county_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
    activity_type: str | None = None,
    failed_before: datetime | None = None,
    after: tuple[datetime, int] | None = None,
) -> tuple[list[FailureListing], int]:
    """Failing steps, oldest first, by key after (first_failed_at, id) of the last one read
    (`offset` is the API's older way), and how many match, counted up to TOTAL_CAP + 1.
    Each page is one range of ix_step_failures_open_first (ix_step_failures_first for closed
    steps); the page and its count are one statement (one snapshot, one round trip)."""
    conditions: list[ColumnElement[bool]] = [StepFailureRow.status.in_(statuses)]
    if case_id:
        conditions.append(StepFailureRow.case_id == case_id)
    if county_code:
        # Cases of the county, and its county-wide workflows (payroll-{county}-…, SC-{county}-…).
        conditions.append(
            or_(
                CaseRow.county_code == county_code,
                StepFailureRow.case_id.is_(None)
                & StepFailureRow.workflow_id.contains(f"-{county_code}-"),
            )
        )
    if activity_type:
        conditions.append(StepFailureRow.activity_type == activity_type)
    if failed_before is not None:
        conditions.append(StepFailureRow.first_failed_at < failed_before)
    joined = StepFailureRow.__table__.outerjoin(
        CaseRow.__table__, CaseRow.case_id == StepFailureRow.case_id
    )
    capped = (
        select(literal(1)).select_from(joined).where(*conditions).limit(TOTAL_CAP + 1).subquery()
    )
    counted = select(func.count().label("counted")).select_from(capped).subquery()
    keyed = list(conditions)
    if after is not None:
        keyed.append(tuple_(StepFailureRow.first_failed_at, StepFailureRow.id) > tuple_(*after))
    page = (
        select(
            StepFailureRow,
            CaseRow.county_code.label("case_county_code"),
            CaseRow.township_code.label("case_township_code"),
            CaseRow.stage.label("case_stage"),
        )
        .select_from(joined)
        .where(*keyed)
        .order_by(StepFailureRow.first_failed_at, StepFailureRow.id)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    failure = aliased(StepFailureRow, page)
    # The count's one row joined to the page's: an empty page still brings its count.
    found = (
        await session.execute(
            select(
                counted.c.counted,
                failure,
                page.c.case_county_code,
                page.c.case_township_code,
                page.c.case_stage,
            )
            .select_from(counted.outerjoin(page, true()))
            .order_by(page.c.first_failed_at, page.c.id)
        )
    ).all()
    listings = [FailureListing(r[1], r[2], r[3], r[4]) for r in found if r[1] is not None]
    return listings, int(found[0].counted)


async def failing_activity_types(
    session: AsyncSession, statuses: tuple[str, ...] = OPEN_STATUSES
) -> list[tuple[str, int]]:
    """The steps failing now and how many calls of each: the choices of the console's filter."""
    rows = await session.execute(
        select(StepFailureRow.activity_type, func.count())
        .where(StepFailureRow.status.in_(statuses))
        .group_by(StepFailureRow.activity_type)
        .order_by(StepFailureRow.activity_type)
    )
    return [(str(a), int(n)) for a, n in rows.all()]


async def incident_by_id(session: AsyncSession, incident_id: str) -> StepFailureRow | None:
    row: StepFailureRow | None = (
        await session.execute(
            select(StepFailureRow)
            .where(StepFailureRow.incident_id == incident_id)
            .order_by(StepFailureRow.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return row


async def later_failures(session: AsyncSession, failure: StepFailureRow) -> list[StepFailureRow]:
    """Calls of the same step in the same run that failed after this one (a retry's own
    attempts: each retry is a new call, a new row), newest first."""
    rows = await session.execute(
        select(StepFailureRow)
        .where(
            StepFailureRow.workflow_id == failure.workflow_id,
            StepFailureRow.run_id == failure.run_id,
            StepFailureRow.activity_type == failure.activity_type,
            StepFailureRow.id > failure.id,
        )
        .order_by(StepFailureRow.id.desc())
    )
    return list(rows.scalars())


async def _case_of(session: AsyncSession, case_id: str) -> CaseRow:
    case = await session.get(CaseRow, case_id)
    if case is None:
        raise LookupError(f"case {case_id} has no projection row")
    return case


async def _insert_alert(
    session: AsyncSession,
    case: CaseRow,
    *,
    step_key: str,
    kind: str,
    stage: str,
    due_at: datetime,
    message: str,
    raised_at: datetime,
) -> None:
    """The alert of this (case, step), once: a retried activity finds the first (committed by
    the caller, with whatever the alert marks on the case in the same transaction)."""
    await session.execute(
        insert(SupervisorAlertRow)
        .values(
            case_id=case.case_id,
            step_key=step_key,
            kind=kind,
            county_code=case.county_code,
            township_code=case.township_code,
            stage=stage,
            due_at=due_at,
            message=message,
            raised_at=raised_at,
        )
        .on_conflict_do_nothing(constraint="uq_supervisor_alerts_case_step")
    )


async def _alert_id(session: AsyncSession, case_id: str, step_key: str) -> int:
    alert_id: int = (
        await session.execute(
            select(SupervisorAlertRow.id).where(
                SupervisorAlertRow.case_id == case_id, SupervisorAlertRow.step_key == step_key
            )
        )
    ).scalar_one()
    return alert_id


async def record_overdue(session: AsyncSession, request: RecordOverdue) -> int:
    case = await _case_of(session, request.case_id)
    await _insert_alert(
        session,
        case,
        step_key=request.step_key,
        kind="overdue",
        stage=request.stage.value,
        due_at=request.due_at,
        message=f"阶段 {request.stage.value} 已超过办理时限（{request.due_at.date()}）",
        raised_at=request.raised_at,
    )
    # Only while the case is still in that stage: a late retry must not mark a later stage.
    seq = int(request.step_key.rsplit("-", 1)[-1])
    await session.execute(
        update(CaseRow)
        .where(CaseRow.case_id == request.case_id, CaseRow.stage_seq == seq)
        .values(overdue_since=request.raised_at)
    )
    await session.commit()
    return await _alert_id(session, request.case_id, request.step_key)


async def record_procedure_overdue(session: AsyncSession, request: RecordProcedureOverdue) -> int:
    case = await _case_of(session, request.case_id)
    await _insert_alert(
        session,
        case,
        step_key=request.step_key,
        kind="procedure_overdue",
        stage=request.stage.value,
        due_at=request.due_at,
        message=(
            f"审核确认总时限 {request.working_days} 个工作日已超过（{request.due_at.date()}），"
            "尚未作出决定"
        ),
        raised_at=request.raised_at,
    )
    # Only against the deadline it was raised for: an extension since moved it.
    await session.execute(
        update(CaseRow)
        .where(CaseRow.case_id == request.case_id, CaseRow.procedure_due_at == request.due_at)
        .values(procedure_overdue_since=request.raised_at)
    )
    await session.commit()
    return await _alert_id(session, request.case_id, request.step_key)


async def record_reminder(session: AsyncSession, request: RecordReminder) -> int:
    """A reminder to the caseworkers (e.g. a gradual exit ending), listed with the alerts."""
    case = await _case_of(session, request.case_id)
    await _insert_alert(
        session,
        case,
        step_key=request.step_key,
        kind=request.kind,
        stage=case.stage,
        due_at=request.due_at,
        message=request.message,
        raised_at=request.raised_at,
    )
    await session.commit()
    return await _alert_id(session, request.case_id, request.step_key)


async def list_alerts(
    session: AsyncSession,
    *,
    county_code: str | None = None,
    township_code: str | None = None,
    limit: int = 100,
    after: tuple[datetime, int] | None = None,
) -> list[SupervisorAlertRow]:
    """Alerts newest first, by key before (raised_at, id) of the last one read."""
    query = select(SupervisorAlertRow)
    if county_code:
        query = query.where(SupervisorAlertRow.county_code == county_code)
    if township_code:
        query = query.where(SupervisorAlertRow.township_code == township_code)
    if after is not None:
        query = query.where(
            tuple_(SupervisorAlertRow.raised_at, SupervisorAlertRow.id) < tuple_(*after)
        )
    rows = await session.execute(
        query.order_by(SupervisorAlertRow.raised_at.desc(), SupervisorAlertRow.id.desc()).limit(
            limit
        )
    )
    return list(rows.scalars())


# --- drills ----------------------------------------------------------------------------------


async def start_drill(session: AsyncSession, drill: OpsDrillRow) -> None:
    values = {c.name: getattr(drill, c.name) for c in OpsDrillRow.__table__.columns}
    values.pop("started_at")
    stmt = insert(OpsDrillRow).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[OpsDrillRow.activity_type],
            set_={k: stmt.excluded[k] for k in values if k != "activity_type"},
        )
    )
    await session.commit()


async def stop_drills(session: AsyncSession, activity_type: str | None = None) -> int:
    query = delete(OpsDrillRow)
    if activity_type:
        query = query.where(OpsDrillRow.activity_type == activity_type)
    result = await session.execute(query)
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def list_drills(session: AsyncSession) -> list[OpsDrillRow]:
    rows = await session.execute(select(OpsDrillRow).order_by(OpsDrillRow.activity_type))
    return list(rows.scalars())
