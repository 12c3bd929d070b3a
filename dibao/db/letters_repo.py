"""低保证明 letters: each one issued, with who printed it and why, and its audit entry."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.golive_models import CertificateLetterRow
from dibao.db.models import AuditRow
from dibao.domain.actor import Actor
from dibao.domain.enums import AuditAction


async def record(
    session: AsyncSession, case_id: str, actor: Actor, purpose: str, printed_at: datetime
) -> CertificateLetterRow:
    """A letter issued: its row and its audit entry, in one commit."""
    row = CertificateLetterRow(
        case_id=case_id, printed_by=actor.id, purpose=purpose, printed_at=printed_at
    )
    session.add(row)
    await session.flush()
    session.add(
        AuditRow(
            case_id=case_id,
            step_key=f"letter-{row.id}",
            actor_id=actor.id,
            actor_role=actor.role.value,
            action=AuditAction.PRINT_CERTIFICATE_LETTER.value,
            payload_sha256=hashlib.sha256(purpose.encode()).hexdigest(),
            at=printed_at,
        )
    )
    await session.commit()
    return row


async def one(session: AsyncSession, case_id: str, letter_id: int) -> CertificateLetterRow | None:
    row = await session.get(CertificateLetterRow, letter_id)
    return row if row is not None and row.case_id == case_id else None
