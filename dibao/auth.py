"""Passwords and bearer tokens: signing in, resolving a token to its user, signing out.

Shared by the API and by the commands that write PostgreSQL directly, so both know the acting
user the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import auth_repo
from dibao.db.auth_models import ApiTokenRow, UserRow
from dibao.domain.enums import Role
from dibao.messages.case import Actor

# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes).
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# The hash of a random password nobody knows, checked when the user does not exist, so that
# an unknown user ID costs as long as a wrong password and the timing does not tell them apart.
# Fixed rather than made at start-up, which would cost every process a tenth of a second.
_DECOY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$KvdHWUxSGGVXpqfucQPc7Q$bJCeI8O6RTGS1tfhaONLwCuA+Oc0zd1DRS6s6kBJkNI"


@cache
def _decoy_hash() -> str:
    if _HASHER.check_needs_rehash(_DECOY_HASH):
        # The hasher's parameters changed: the decoy must cost what a real check costs.
        return hash_password(secrets.token_urlsafe(24))
    return _DECOY_HASH


# The source of an attempt whose client address is not known (a command run on the server).
UNKNOWN_SOURCE = "local"


def new_token() -> str:
    """256 random bits; the token means nothing but the row its digest finds."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuthenticatedUser:
    user_id: str
    display_name: str
    role: Role
    jurisdiction: str
    token_expires_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(id=self.user_id, role=self.role, jurisdiction=self.jurisdiction)

    @classmethod
    def of(cls, user: UserRow, token: ApiTokenRow) -> AuthenticatedUser:
        return cls(
            user_id=user.user_id,
            display_name=user.display_name,
            role=Role(user.role),
            jurisdiction=user.jurisdiction_code,
            token_expires_at=token.expires_at,
        )


@dataclass(frozen=True)
class Issued:
    token: str
    user: AuthenticatedUser


class PasswordChangeRequired(Exception):
    """The right password, but a one-time one (issued by a user administrator): no token
    until the user has chosen their own in the console."""


@dataclass(frozen=True)
class Lockout:
    """Wrong passwords in a row that lock a user out from one source, and for how long."""

    attempts: int = 5
    duration: timedelta = timedelta(minutes=15)


async def sign_in(
    session: AsyncSession,
    user_id: str,
    password: str,
    lifetime: timedelta,
    now: datetime,
    lockout: Lockout = Lockout(),
    source: str = UNKNOWN_SOURCE,
) -> Issued | None:
    """A new token for the user, or None for an unknown user, a wrong password, a disabled or
    a locked user alike: the caller answers all of them the same way.

    `source` is where the attempt comes from (the client's address). Wrong passwords lock the
    user out from that source only: whoever knows a user ID and guesses from elsewhere slows
    their own guessing down to `attempts` per `duration`, but cannot keep the user out of their
    own office."""
    user = await check_credentials(session, user_id, password, now, lockout, source)
    if user is None:
        return None
    if user.must_change_password:
        # A one-time password opens no session of the API: the user sets their own first.
        raise PasswordChangeRequired(user.user_id)
    token = new_token()
    row = ApiTokenRow(
        token_sha256=token_digest(token),
        user_id=user.user_id,
        issued_at=now,
        expires_at=now + lifetime,
    )
    await auth_repo.add_token(session, row)
    return Issued(token=token, user=AuthenticatedUser.of(user, row))


async def check_credentials(
    session: AsyncSession,
    user_id: str,
    password: str,
    now: datetime,
    lockout: Lockout = Lockout(),
    source: str = UNKNOWN_SOURCE,
) -> UserRow | None:
    """The user when the password is right and the user neither disabled nor locked out from
    `source`; None otherwise, each case alike. Shared by the API's tokens and the console's
    browser sessions, so both lock out the same way."""
    user = await auth_repo.get_user(session, user_id)
    stored = user.password_hash if user is not None else _decoy_hash()
    # argon2 takes a tenth of a second of CPU on purpose; off the event loop. Checked even for
    # a locked user, so the answer's timing does not tell that it is locked.
    matches = await asyncio.to_thread(verify_password, stored, password)
    if user is None:
        return None
    locked_until = await auth_repo.locked_until(session, user.user_id, source)
    if locked_until is not None and locked_until > now:
        return None
    if not matches:
        # Guessing is slowed to `attempts` tries per `duration` per user and source.
        await auth_repo.record_failed_sign_in(
            session, user.user_id, source, lockout.attempts, now, now + lockout.duration
        )
        return None
    if user.disabled:
        return None
    await auth_repo.record_sign_in(session, user.user_id, source)
    if _HASHER.check_needs_rehash(user.password_hash):
        # Parameters have been raised since this password was set: upgrade while we know it.
        new_hash = await asyncio.to_thread(hash_password, password)
        await auth_repo.set_password_hash(session, user.user_id, new_hash)
    return user


async def resolve(session: AsyncSession, token: str, now: datetime) -> AuthenticatedUser | None:
    found = await auth_repo.user_for_token(session, token_digest(token), now)
    if found is None:
        return None
    return AuthenticatedUser(
        user_id=found.user_id,
        display_name=found.display_name,
        role=Role(found.role),
        jurisdiction=found.jurisdiction_code,
        token_expires_at=found.expires_at,
    )


async def sign_out(session: AsyncSession, token: str, now: datetime) -> bool:
    return await auth_repo.revoke_token(session, token_digest(token), now)
