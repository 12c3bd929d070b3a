"""The append-only audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.models import AuditRow
from dibao.db.once import write_once
from dibao.messages.case import AuditEntry


async def append_once(session: AsyncSession, entry: AuditEntry, *, commit: bool = True) -> int:
    row = AuditRow(
        case_id=entry.case_id,
        step_key=entry.step_key,
        actor_id=entry.actor.id,
        actor_role=entry.actor.role.value,
        action=entry.action.value,
        payload_sha256=entry.payload_sha256,
        at=entry.at,
    )
    return (await write_once(session, row, "uq_audit_case_step", commit=commit)).id


async def list_for_case(
    session: AsyncSession, case_id: str, limit: int | None = None, after_id: int | None = None
) -> list[AuditRow]:
    """The case's entries in the order written, by key after the entry `after_id`."""
    query = select(AuditRow).where(AuditRow.case_id == case_id)
    if after_id is not None:
        query = query.where(AuditRow.id > after_id)
    rows = await session.execute(query.order_by(AuditRow.id).limit(limit))
    return list(rows.scalars())
