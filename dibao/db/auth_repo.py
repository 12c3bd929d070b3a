"""Users and bearer tokens: the queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.auth_models import ApiTokenRow, UserRow


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
    # Enabling also lifts a lock-out after repeated wrong passwords: the administrator's unlock.
    values: dict[str, object] = {"disabled": disabled}
    if not disabled:
        values |= {"failed_sign_ins": 0, "locked_until": None}
    result = await session.execute(
        update(UserRow).where(UserRow.user_id == user_id).values(**values)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        await session.rollback()
        return False
    if disabled:
        await session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    await session.commit()
    return True


async def record_failed_sign_in(
    session: AsyncSession, user_id: str, limit: int, locked_until: datetime
) -> None:
    """Count a wrong password; the `limit`-th in a row locks the user until `locked_until`
    and starts the count again. One statement, so concurrent attempts cannot under-count."""
    reaches = UserRow.failed_sign_ins + 1 >= limit
    await session.execute(
        update(UserRow)
        .where(UserRow.user_id == user_id)
        .values(
            failed_sign_ins=case((reaches, 0), else_=UserRow.failed_sign_ins + 1),
            locked_until=case((reaches, locked_until), else_=UserRow.locked_until),
        )
    )
    await session.commit()


async def record_sign_in(session: AsyncSession, user_id: str) -> None:
    await session.execute(
        update(UserRow)
        .where(UserRow.user_id == user_id, UserRow.failed_sign_ins > 0)
        .values(failed_sign_ins=0)
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


async def user_for_token(
    session: AsyncSession, token_sha256: str, now: datetime
) -> tuple[UserRow, ApiTokenRow] | None:
    """The user a live token belongs to: not revoked, not expired, user not disabled."""
    found = (
        await session.execute(
            select(UserRow, ApiTokenRow)
            .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.user_id)
            .where(
                ApiTokenRow.token_sha256 == token_sha256,
                ApiTokenRow.revoked_at.is_(None),
                ApiTokenRow.expires_at > now,
                UserRow.disabled.is_(False),
            )
        )
    ).one_or_none()
    if found is None:
        return None
    return found[0], found[1]


async def revoke_token(session: AsyncSession, token_sha256: str, now: datetime) -> bool:
    result = await session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.token_sha256 == token_sha256, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
