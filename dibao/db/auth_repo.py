"""Users and bearer tokens: the queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.auth_models import ApiTokenRow, SignInFailureRow, UserRow

# Wrong passwords from a source count towards a lock-out until this long after its last one.
FORGET_SOURCES_AFTER = timedelta(days=1)


class UserExists(Exception):
    pass


async def add_user(session: AsyncSession, row: UserRow) -> UserRow:
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as err:
        await session.rollback()
        if await get_user(session, row.user_id) is not None:
            raise UserExists(row.user_id) from None
        raise err
    return row


async def get_user(session: AsyncSession, user_id: str) -> UserRow | None:
    return await session.get(UserRow, user_id)


async def list_users(session: AsyncSession) -> list[UserRow]:
    rows = await session.execute(
        select(UserRow).order_by(UserRow.jurisdiction_code, UserRow.role, UserRow.user_id)
    )
    return list(rows.scalars())


async def set_disabled(session: AsyncSession, user_id: str, disabled: bool, now: datetime) -> bool:
    """False when there is no such user. Disabling also revokes the user's live tokens, so a
    later re-enable does not bring old sessions back."""
    result = await session.execute(
        update(UserRow).where(UserRow.user_id == user_id).values(disabled=disabled)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        await session.rollback()
        return False
    if not disabled:
        # Enabling also lifts lock-outs after wrong passwords, from every source: the
        # administrator's unlock.
        await session.execute(delete(SignInFailureRow).where(SignInFailureRow.user_id == user_id))
    if disabled:
        await session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    await session.commit()
    return True


async def locked_until(session: AsyncSession, user_id: str, source: str) -> datetime | None:
    """Until when the user is locked out from this source (None: not locked, or never was)."""
    return await session.scalar(
        select(SignInFailureRow.locked_until).where(
            SignInFailureRow.user_id == user_id, SignInFailureRow.source == source
        )
    )


async def record_failed_sign_in(
    session: AsyncSession,
    user_id: str,
    source: str,
    limit: int,
    now: datetime,
    locked_until: datetime,
) -> None:
    """Count a wrong password from the source; the `limit`-th in a row locks the user out from
    that source until `locked_until` and starts the count again. One statement, so concurrent
    attempts cannot under-count."""
    row = SignInFailureRow.__table__
    stmt = insert(SignInFailureRow).values(
        user_id=user_id,
        source=source,
        failed_sign_ins=1 if limit > 1 else 0,
        locked_until=None if limit > 1 else locked_until,
        last_failed_at=now,
    )
    reaches = row.c.failed_sign_ins + 1 >= limit
    # Sources that stopped trying a day ago are forgotten, so guesses spread over many
    # addresses do not leave a row each for ever.
    await session.execute(
        delete(SignInFailureRow).where(
            SignInFailureRow.user_id == user_id,
            SignInFailureRow.last_failed_at < now - FORGET_SOURCES_AFTER,
            (SignInFailureRow.locked_until.is_(None)) | (SignInFailureRow.locked_until < now),
        )
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[row.c.user_id, row.c.source],
            set_={
                "failed_sign_ins": case((reaches, 0), else_=row.c.failed_sign_ins + 1),
                "locked_until": case((reaches, locked_until), else_=row.c.locked_until),
                "last_failed_at": now,
            },
        )
    )
    await session.commit()


async def record_sign_in(session: AsyncSession, user_id: str, source: str) -> None:
    """The right password from the source: its count starts again."""
    await session.execute(
        delete(SignInFailureRow).where(
            SignInFailureRow.user_id == user_id, SignInFailureRow.source == source
        )
    )
    await session.commit()


async def set_password_hash(session: AsyncSession, user_id: str, password_hash: str) -> None:
    await session.execute(
        update(UserRow).where(UserRow.user_id == user_id).values(password_hash=password_hash)
    )
    await session.commit()


async def add_token(session: AsyncSession, row: ApiTokenRow) -> None:
    session.add(row)
    await session.commit()


@dataclass(frozen=True)
class TokenUser:
    """What a request needs of the user its token belongs to (no password hash)."""

    user_id: str
    display_name: str
    role: str
    jurisdiction_code: str
    expires_at: datetime


# Built once: a request's own work is its bind values (constructing the expression cost about
# as much as the statement's round trip).
_USER_FOR_TOKEN = (
    select(
        UserRow.user_id,
        UserRow.display_name,
        UserRow.role,
        UserRow.jurisdiction_code,
        ApiTokenRow.expires_at,
    )
    .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.user_id)
    .where(
        ApiTokenRow.token_sha256 == bindparam("token_sha256"),
        ApiTokenRow.revoked_at.is_(None),
        ApiTokenRow.expires_at > bindparam("now"),
        UserRow.disabled.is_(False),
    )
)


async def user_for_token(
    session: AsyncSession, token_sha256: str, now: datetime
) -> TokenUser | None:
    """The user a live token belongs to: not revoked, not expired, user not disabled. Read
    on every request: the columns it needs, not the two rows."""
    found = (
        await session.execute(_USER_FOR_TOKEN, {"token_sha256": token_sha256, "now": now})
    ).one_or_none()
    return None if found is None else TokenUser(*found)


async def revoke_token(session: AsyncSession, token_sha256: str, now: datetime) -> bool:
    result = await session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.token_sha256 == token_sha256, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
