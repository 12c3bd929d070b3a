"""The console's browser sessions: the queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.auth_models import UserRow
from dibao.db.console_models import ConsoleSessionRow

# last_seen_at is written at most this often, so reading pages does not write a row each time.
TOUCH_EVERY = timedelta(minutes=1)


async def add_session(session: AsyncSession, row: ConsoleSessionRow) -> None:
    session.add(row)
    await session.commit()


async def live_session(
    session: AsyncSession, token_sha256: str, now: datetime, idle: timedelta
) -> UserRow | None:
    """The user of a session that is neither signed out, idle longer than `idle`, past its
    absolute expiry, nor of a disabled user; the session's idle clock starts again."""
    found = (
        await session.execute(
            select(UserRow, ConsoleSessionRow)
            .join(ConsoleSessionRow, ConsoleSessionRow.user_id == UserRow.user_id)
            .where(
                ConsoleSessionRow.token_sha256 == token_sha256,
                ConsoleSessionRow.revoked_at.is_(None),
                ConsoleSessionRow.expires_at > now,
                ConsoleSessionRow.last_seen_at > now - idle,
                UserRow.disabled.is_(False),
            )
        )
    ).one_or_none()
    if found is None:
        return None
    user, row = found
    if now - row.last_seen_at >= TOUCH_EVERY:
        await session.execute(
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.token_sha256 == token_sha256)
            .values(last_seen_at=now)
        )
        await session.commit()
    return user


async def end_session(session: AsyncSession, token_sha256: str, now: datetime) -> None:
    await session.execute(
        update(ConsoleSessionRow)
        .where(
            ConsoleSessionRow.token_sha256 == token_sha256, ConsoleSessionRow.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    await session.commit()
