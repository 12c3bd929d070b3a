"""A county's user accounts as its user administrator manages them, each change with its row
of the user audit log (user_audit) in the same transaction.

A change is keyed by (actor, action and request ID) under uq_user_audit_request: the same form sent twice
(a double click, a reload) finds its audit row and changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.auth_models import ApiTokenRow, SignInFailureRow, UserAuditRow, UserRow
from dibao.db.console_models import ConsoleSessionRow
from dibao.domain.enums import UserAuditAction

PAGE = 50


class UserExists(Exception):
    pass


async def county_users(
    session: AsyncSession, county: str, after: str = "", limit: int = PAGE
) -> list[UserRow]:
    """The county's accounts in user ID order, `limit` after `after` (over ix_users_county_user)."""
    rows = await session.execute(
        select(UserRow)
        .where(func.left(UserRow.jurisdiction_code, 6) == county, UserRow.user_id > after)
        .order_by(UserRow.user_id)
        .limit(limit)
    )
    return list(rows.scalars())


def _key(action: UserAuditAction, request_id: str) -> str:
    # The forms of one page share its request ID: the action tells them apart.
    return f"{action.value}:{request_id}"[:64]


async def recorded(
    session: AsyncSession, actor_id: str, action: UserAuditAction, request_id: str
) -> UserAuditRow | None:
    """The audit row of a request already carried out, if it was."""
    return (
        await session.execute(
            select(UserAuditRow).where(
                UserAuditRow.actor_id == actor_id,
                UserAuditRow.request_id == _key(action, request_id),
            )
        )
    ).scalar_one_or_none()


def _audit(
    actor_id: str,
    actor_role: str,
    action: UserAuditAction,
    subject_id: str,
    detail: Mapping[str, Any],
    request_id: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "actor_id": actor_id,
        "actor_role": actor_role,
        "action": action.value,
        "subject_id": subject_id,
        "detail": dict(detail),
        "request_id": _key(action, request_id),
        "at": at,
    }


async def _record(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the audit row; False (nothing written) when the request was carried out before."""
    inserted = await session.execute(
        insert(UserAuditRow)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_user_audit_request")
        .returning(UserAuditRow.id)
    )
    return inserted.scalar_one_or_none() is not None


async def add_user(
    session: AsyncSession,
    row: UserRow,
    *,
    actor_id: str,
    actor_role: str,
    request_id: str,
    at: datetime,
) -> bool:
    """Create the account and its audit row; False for a repeat of the same request."""
    if await recorded(session, actor_id, UserAuditAction.ADD_USER, request_id) is not None:
        return False
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        if await session.get(UserRow, row.user_id) is not None:
            raise UserExists(row.user_id) from None
        raise
    detail = {"role": row.role, "jurisdiction": row.jurisdiction_code, "name": row.display_name}
    await _record(
        session,
        _audit(
            actor_id,
            actor_role,
            UserAuditAction.ADD_USER,
            row.user_id,
            detail,
            request_id,
            at,
        ),
    )
    await session.commit()
    return True


async def change_user(
    session: AsyncSession,
    user_id: str,
    values: Mapping[str, Any],
    action: UserAuditAction,
    detail: Mapping[str, Any],
    *,
    actor_id: str,
    actor_role: str,
    request_id: str,
    at: datetime,
    end_sessions: bool = False,
) -> bool:
    """Change the account's columns `values` and record it; False for a repeat. With
    `end_sessions` its API tokens and console sessions end at once (disabled, new role or
    place, a password issued by someone else)."""
    written = await _record(
        session, _audit(actor_id, actor_role, action, user_id, detail, request_id, at)
    )
    if not written:
        await session.rollback()
        return False
    if values:
        await session.execute(update(UserRow).where(UserRow.user_id == user_id).values(**values))
    if values.get("disabled") is False:
        # Enabling also lifts lock-outs after wrong passwords: the administrator's unlock.
        await session.execute(delete(SignInFailureRow).where(SignInFailureRow.user_id == user_id))
    if end_sessions:
        await session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        await session.execute(
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.user_id == user_id, ConsoleSessionRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
    await session.commit()
    return True


async def audit_of_county(
    session: AsyncSession, county: str, limit: int = PAGE
) -> list[UserAuditRow]:
    """The newest audit rows about the county's accounts."""
    rows = await session.execute(
        select(UserAuditRow)
        .join(UserRow, UserRow.user_id == UserAuditRow.subject_id)
        .where(func.left(UserRow.jurisdiction_code, 6) == county)
        .order_by(UserAuditRow.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def audit_of_user(session: AsyncSession, user_id: str) -> list[UserAuditRow]:
    rows = await session.execute(
        select(UserAuditRow)
        .where(UserAuditRow.subject_id == user_id)
        .order_by(UserAuditRow.id.desc())
        .limit(PAGE)
    )
    return list(rows.scalars())
