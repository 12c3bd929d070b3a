"""Repeated wrong passwords lock a user for a while; the right password does not get in
meanwhile; the lock ends by itself, or when an administrator enables the user again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dibao import auth
from dibao.db import auth_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings
from tests.auth import PASSWORD, Staff

LOCKOUT = auth.Lockout(attempts=3, duration=timedelta(minutes=15))
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=12)


@pytest.fixture
async def session(database_url: str, staff: Staff) -> AsyncIterator[AsyncSession]:
    engine = make_engine(Settings(database_url=database_url))
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def attempt(
    session: AsyncSession, password: str, at: datetime, source: str = "10.0.0.1"
) -> bool:
    issued = await auth.sign_in(session, "li.na", password, DAY, at, LOCKOUT, source)
    session.expire_all()
    return issued is not None


async def test_three_wrong_passwords_lock_the_user_for_fifteen_minutes(
    session: AsyncSession,
) -> None:
    assert not await attempt(session, "wrong-1", T0)
    assert not await attempt(session, "wrong-2", T0)
    assert await attempt(session, PASSWORD, T0)  # a success starts the count again
    for i in range(3):
        assert not await attempt(session, f"wrong-{i}", T0 + timedelta(minutes=1))
    # Locked: even the right password is refused, the same way as a wrong one.
    assert not await attempt(session, PASSWORD, T0 + timedelta(minutes=2))
    assert not await attempt(session, PASSWORD, T0 + timedelta(minutes=15))
    assert await attempt(session, PASSWORD, T0 + timedelta(minutes=17))


async def test_a_lock_holds_for_its_source_only(session: AsyncSession) -> None:
    for i in range(3):
        assert not await attempt(session, f"wrong-{i}", T0, source="198.51.100.9")
    assert not await attempt(session, PASSWORD, T0, source="198.51.100.9")
    assert await attempt(session, PASSWORD, T0, source="10.0.0.1")
    # Wrong passwords from two sources count apart: two here and two there lock neither.
    for source in ("10.0.0.1", "10.0.0.2"):
        for i in range(2):
            assert not await attempt(session, f"wrong-{i}", T0, source=source)
    assert await attempt(session, PASSWORD, T0, source="10.0.0.2")


async def test_sources_silent_for_a_day_are_forgotten(
    session: AsyncSession, database_url: str
) -> None:
    for n in range(3):
        assert not await attempt(session, "wrong", T0, source=f"198.51.100.{n}")
    assert not await attempt(session, "wrong", T0 + timedelta(days=2), source="198.51.100.9")
    with psycopg.connect(database_url) as conn:
        sources = conn.execute("SELECT source FROM sign_in_failures").fetchall()
    assert sources == [("198.51.100.9",)]


async def test_enabling_the_user_lifts_the_lock(session: AsyncSession) -> None:
    for i in range(3):
        assert not await attempt(session, f"wrong-{i}", T0)
    assert not await attempt(session, PASSWORD, T0)
    assert await auth_repo.set_disabled(session, "li.na", False, T0)
    assert await attempt(session, PASSWORD, T0)


async def test_unknown_users_leave_nothing_behind(session: AsyncSession) -> None:
    issued = await auth.sign_in(session, "nobody", "x", DAY, T0, LOCKOUT)
    assert issued is None
