"""Complaints and their steps: each step once per (complaint, request ID), in one transaction
with its event and, for a complaint about a case, the case's audit row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.complaint_models import ComplaintEventRow, ComplaintRow
from dibao.db.models import AuditRow
from dibao.domain.complaints import OPEN, Step
from dibao.domain.enums import AuditAction
from dibao.messages.case import Actor

AUDIT_OF_STEP = {
    Step.RECEIVE: AuditAction.COMPLAINT_RECEIVE,
    Step.ASSIGN: AuditAction.COMPLAINT_ASSIGN,
    Step.INVESTIGATE: AuditAction.COMPLAINT_INVESTIGATE,
    Step.ANSWER: AuditAction.COMPLAINT_ANSWER,
    Step.CLOSE: AuditAction.COMPLAINT_CLOSE,
}


@dataclass(frozen=True)
class Applied:
    row: ComplaintRow
    created: bool  # False: the request had been applied already; nothing changed now


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass(frozen=True)
class KeyReused:
    """The request ID was used for another step of this complaint."""

    step: str


def audit_key(complaint_id: str, step: Step, request_id: str) -> str:
    # audit_log.step_key is String(100): "complaint/" + 24 + "/" + 11 + "/" + 64 at most.
    return f"complaint/{complaint_id}/{step.value}/{request_id}"[:100]


async def _event_and_audit(
    session: AsyncSession,
    row: ComplaintRow,
    step: Step,
    request_id: str,
    actor: Actor,
    at: datetime,
    detail: dict[str, Any],
    payload_sha256: str,
) -> None:
    session.add(
        ComplaintEventRow(
            complaint_id=row.complaint_id,
            step=step.value,
            request_id=request_id,
            actor_id=actor.id,
            actor_role=actor.role.value,
            detail=detail,
            at=at,
        )
    )
    if row.case_id is not None:
        # A complaint about a case is part of the case's record (一户一档): its audit trail.
        await session.execute(
            insert(AuditRow)
            .values(
                case_id=row.case_id,
                step_key=audit_key(row.complaint_id, step, request_id),
                actor_id=actor.id,
                actor_role=actor.role.value,
                action=AUDIT_OF_STEP[step].value,
                payload_sha256=payload_sha256,
                at=at,
            )
            .on_conflict_do_nothing(constraint="uq_audit_case_step")
        )


async def record(
    session: AsyncSession,
    row: ComplaintRow,
    actor: Actor,
    detail: dict[str, Any],
    payload_sha256: str,
) -> Applied:
    """Store a new complaint once per request ID; a repeat answers the stored one."""
    values = {c.name: getattr(row, c.name) for c in ComplaintRow.__table__.columns}
    values.pop("updated_at")
    inserted = (
        await session.execute(
            insert(ComplaintRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["request_id"])
            .returning(ComplaintRow.complaint_id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        await session.rollback()
        stored = (
            await session.execute(
                select(ComplaintRow).where(ComplaintRow.request_id == row.request_id)
            )
        ).scalar_one()
        return Applied(stored, created=False)
    new = await session.get(ComplaintRow, inserted)
    assert new is not None
    await _event_and_audit(
        session,
        new,
        Step.RECEIVE,
        row.request_id,
        actor,
        row.received_at,
        detail,
        payload_sha256,
    )
    await session.commit()
    await session.refresh(new)
    return Applied(new, created=True)


async def apply_step(
    session: AsyncSession,
    complaint_id: str,
    step: Step,
    request_id: str,
    actor: Actor,
    at: datetime,
    change: Callable[[ComplaintRow], str | None],
    detail: dict[str, Any],
    payload_sha256: str,
) -> Applied | Refused | KeyReused | None:
    """Take a step under the complaint's row lock: `change` checks the row and changes it, or
    answers why not. None: no such complaint."""
    row = (
        await session.execute(
            select(ComplaintRow).where(ComplaintRow.complaint_id == complaint_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        await session.rollback()
        return None
    earlier = (
        await session.execute(
            select(ComplaintEventRow.step).where(
                ComplaintEventRow.complaint_id == complaint_id,
                ComplaintEventRow.request_id == request_id,
            )
        )
    ).scalar_one_or_none()
    if earlier is not None:
        await session.rollback()
        if earlier != step.value:
            return KeyReused(earlier)
        fresh = await session.get(ComplaintRow, complaint_id)
        assert fresh is not None
        return Applied(fresh, created=False)
    reason = change(row)
    if reason is not None:
        await session.rollback()
        return Refused(reason)
    await _event_and_audit(session, row, step, request_id, actor, at, detail, payload_sha256)
    await session.commit()
    await session.refresh(row)
    return Applied(row, created=True)


async def get(session: AsyncSession, complaint_id: str) -> ComplaintRow | None:
    return await session.get(ComplaintRow, complaint_id)


async def events(session: AsyncSession, complaint_id: str) -> list[ComplaintEventRow]:
    rows = await session.execute(
        select(ComplaintEventRow)
        .where(ComplaintEventRow.complaint_id == complaint_id)
        .order_by(ComplaintEventRow.id)
    )
    return list(rows.scalars())


@dataclass(frozen=True)
class ComplaintFilter:
    jurisdiction: str  # a county, township or village code: complaints placed inside it
    status: str | None = None
    overdue_at: datetime | None = None  # only open complaints due before this moment
    case_id: str | None = None


_PLACE = func.coalesce(
    ComplaintRow.village_code, ComplaintRow.township_code, ComplaintRow.county_code
)


async def list_page(
    session: AsyncSession,
    flt: ComplaintFilter,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ComplaintRow]:
    """Newest first, paged by key (received_at, complaint_id) < the last: each page one range
    of ix_complaints_county_received_id, whose order it is."""
    query = select(ComplaintRow).where(ComplaintRow.county_code == flt.jurisdiction[:6])
    if len(flt.jurisdiction) > 6:
        # Only below a county: the planner takes the prefix test for a rare one and would sort
        # the whole county rather than walk the index.
        query = query.where(_PLACE.startswith(flt.jurisdiction, autoescape=True))
    if flt.status is not None:
        query = query.where(ComplaintRow.status == flt.status)
    if flt.case_id is not None:
        query = query.where(ComplaintRow.case_id == flt.case_id)
    if flt.overdue_at is not None:
        query = query.where(
            ComplaintRow.status.in_([s.value for s in OPEN]), ComplaintRow.due_at < flt.overdue_at
        )
    if after is not None:
        query = query.where(
            tuple_(ComplaintRow.received_at, ComplaintRow.complaint_id) < tuple_(after[0], after[1])
        )
    query = query.order_by(ComplaintRow.received_at.desc(), ComplaintRow.complaint_id.desc())
    return list((await session.execute(query.limit(limit))).scalars())


async def count_for_case(session: AsyncSession, case_id: str) -> tuple[int, int]:
    """(all, open) complaints about a case: the case page's 举报/投诉 link."""
    row = (
        await session.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE status IN "
                "('received', 'assigned', 'investigating')) FROM complaints WHERE case_id = :c"
            ),
            {"c": case_id},
        )
    ).one()
    return int(row[0]), int(row[1])
