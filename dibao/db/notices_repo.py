"""Stored notices. One per (case, step): a retried activity finds the first copy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.models import NoticeRow
from dibao.db.once import write_once


async def store_once(
    session: AsyncSession,
    *,
    notice_id: str,
    case_id: str,
    step_key: str,
    kind: str,
    content: str,
    content_sha256: str,
    issued_at: datetime,
    commit: bool = True,
) -> NoticeRow:
    row = NoticeRow(
        notice_id=notice_id,
        case_id=case_id,
        step_key=step_key,
        kind=kind,
        content=content,
        content_sha256=content_sha256,
        issued_at=issued_at,
    )
    return await write_once(session, row, "uq_notices_case_step", commit=commit)


async def get_notice(session: AsyncSession, notice_id: str) -> NoticeRow | None:
    return await session.get(NoticeRow, notice_id)


async def list_for_case(session: AsyncSession, case_id: str) -> list[NoticeRow]:
    """Every notice of the case, across all its workflow runs, in the order issued."""
    rows = await session.execute(
        select(NoticeRow)
        .where(NoticeRow.case_id == case_id)
        .order_by(NoticeRow.issued_at, NoticeRow.notice_id)
    )
    return list(rows.scalars())
