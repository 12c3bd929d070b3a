"""User accounts managed by a county's user administrator, and everyone's own password.

The service layer of the console's 用户 page : each function checks
who may do it (dibao.domain.access), writes the change with its row of the user audit log
(dibao.db.users_repo) and raises the API's HTTPExceptions (403 with the reason, 404, 409, 422
with the field), changing nothing when it refuses.

A user administrator gives accounts a one-time password, shown once; the account must choose
its own at its first sign-in (`must_change_password`): the console sends it to the password
page before anything else, and POST /auth/token refuses it a token (403) until then.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import errors
from dibao import auth
from dibao.db import users_repo
from dibao.db.auth_models import UserRow
from dibao.domain import access
from dibao.domain.application import FieldError
from dibao.domain.enums import UserAuditAction
from dibao.messages.case import Actor

# Easily read aloud or copied from a screen: no 0/O, 1/l/I.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ONE_TIME_LENGTH = 14


def one_time_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(ONE_TIME_LENGTH))


@dataclass(frozen=True)
class Issued:
    """What an administrator's action gave: the one-time password to hand over (shown once),
    or None for a repeat of the same request (nothing changed the second time)."""

    user_id: str
    password: str | None


def _refuse(reason: str | None) -> None:
    if reason:
        raise errors.forbidden(reason)


async def _managed(session: AsyncSession, actor: Actor, user_id: str) -> UserRow:
    _refuse(access.role_denial(access.Action.MANAGE_USERS, actor.role))
    row = await session.get(UserRow, user_id)
    if row is None or not access.inside(row.jurisdiction_code, actor.jurisdiction[:6]):
        # Another county's account is not found rather than refused: its name is not ours to know.
        raise errors.not_found(f"user {user_id}")
    _refuse(access.managed_user_denial(actor, row.user_id, row.role, row.jurisdiction_code))
    return row


def _check_new(user_id: str, role: str, jurisdiction: str, display_name: str) -> None:
    problems = [
        FieldError((f,), why) for f, why in access.user_problems(user_id, role, jurisdiction)
    ]
    if not display_name or len(display_name) > 100:
        problems.append(FieldError(("display_name",), "1 to 100 characters"))
    if problems:
        raise errors.unprocessable(problems)


async def add_user(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    *,
    user_id: str,
    display_name: str,
    role: str,
    jurisdiction: str,
    request_id: str,
) -> Issued:
    """A new account of the administrator's county, with a one-time password."""
    _refuse(access.role_denial(access.Action.MANAGE_USERS, actor.role))
    display_name = display_name.strip()
    _check_new(user_id, role, jurisdiction, display_name)
    _refuse(access.user_admin_denial(actor, role, jurisdiction))
    password = one_time_password()
    row = UserRow(
        user_id=user_id,
        display_name=display_name,
        role=role,
        jurisdiction_code=jurisdiction,
        password_hash=await asyncio.to_thread(auth.hash_password, password),
        disabled=False,
        must_change_password=True,
    )
    async with sessions() as session:
        try:
            added = await users_repo.add_user(
                session,
                row,
                actor_id=actor.id,
                actor_role=actor.role.value,
                request_id=request_id,
                at=datetime.now(UTC),
            )
        except users_repo.UserExists:
            raise errors.unprocessable(
                [FieldError(("user_id",), f"user {user_id} exists already")]
            ) from None
    return Issued(user_id, password if added else None)


async def _change(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    user_id: str,
    action: UserAuditAction,
    request_id: str,
    values: dict[str, Any],
    detail: dict[str, Any],
    *,
    end_sessions: bool,
) -> bool:
    async with sessions() as session:
        await _managed(session, actor, user_id)
        return await users_repo.change_user(
            session,
            user_id,
            values,
            action,
            detail,
            actor_id=actor.id,
            actor_role=actor.role.value,
            request_id=request_id,
            at=datetime.now(UTC),
            end_sessions=end_sessions,
        )


async def change_user(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    user_id: str,
    *,
    role: str,
    jurisdiction: str,
    display_name: str,
    request_id: str,
) -> bool:
    """A new role, jurisdiction or name; a new role or place ends the account's sessions."""
    display_name = display_name.strip()
    _check_new(user_id, role, jurisdiction, display_name)
    async with sessions() as session:
        row = await _managed(session, actor, user_id)
        before = (row.role, row.jurisdiction_code, row.display_name)
    _refuse(access.user_admin_denial(actor, role, jurisdiction))
    detail = {
        "role": [before[0], role],
        "jurisdiction": [before[1], jurisdiction],
        "name": [before[2], display_name],
    }
    return await _change(
        sessions,
        actor,
        user_id,
        UserAuditAction.CHANGE_USER,
        request_id,
        {"role": role, "jurisdiction_code": jurisdiction, "display_name": display_name},
        detail,
        end_sessions=(role, jurisdiction) != before[:2],
    )


async def set_disabled(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    user_id: str,
    disabled: bool,
    request_id: str,
) -> bool:
    """Disable (its tokens and sessions end at once) or enable (lock-outs lifted)."""
    return await _change(
        sessions,
        actor,
        user_id,
        UserAuditAction.DISABLE_USER if disabled else UserAuditAction.ENABLE_USER,
        request_id,
        {"disabled": disabled},
        {},
        end_sessions=disabled,
    )


async def issue_one_time_password(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, user_id: str, request_id: str
) -> Issued:
    """A new one-time password (the old one stops working, its sessions end)."""
    password = one_time_password()
    digest = await asyncio.to_thread(auth.hash_password, password)
    changed = await _change(
        sessions,
        actor,
        user_id,
        UserAuditAction.ISSUE_ONE_TIME_PASSWORD,
        request_id,
        {"password_hash": digest, "must_change_password": True},
        {},
        end_sessions=True,
    )
    return Issued(user_id, password if changed else None)


def new_password_problems(user_id: str, old: str, new: str, again: str) -> list[FieldError]:
    problems: list[FieldError] = []
    problem = access.password_problem(new)
    if problem:
        problems.append(FieldError(("new_password",), problem))
    elif new == old:
        problems.append(FieldError(("new_password",), "must differ from the current password"))
    elif new == user_id:
        problems.append(FieldError(("new_password",), "must not be the user ID"))
    if new != again:
        problems.append(FieldError(("new_password_again",), "the two new passwords differ"))
    return problems


async def change_own_password(
    session: AsyncSession,
    user_id: str,
    old: str,
    new: str,
    again: str,
    *,
    request_id: str,
    lockout: auth.Lockout,
    source: str,
) -> None:
    """The user's own password: the current one (checked like a sign-in: wrong ones count
    towards the lock-out), the new one twice, by the policy of dibao.domain.access."""
    row = await auth.check_credentials(session, user_id, old, datetime.now(UTC), lockout, source)
    if row is None:
        raise errors.unprocessable(
            [FieldError(("old_password",), "the current password is wrong (or the user is locked)")]
        )
    problems = new_password_problems(user_id, old, new, again)
    if problems:
        raise errors.unprocessable(problems)
    digest = await asyncio.to_thread(auth.hash_password, new)
    await users_repo.change_user(
        session,
        user_id,
        {"password_hash": digest, "must_change_password": False},
        UserAuditAction.CHANGE_OWN_PASSWORD,
        {},
        actor_id=user_id,
        actor_role=row.role,
        request_id=request_id,
        at=datetime.now(UTC),
    )
