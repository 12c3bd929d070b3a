"""Users for the tests: a standard staff of every role, in the sample household's village, its
township and county, and a few elsewhere; each signed in with a fixed bearer token.

The `staff` fixture (tests/conftest.py) writes them into the test's own database through the
repository; `bearer(user_id)` is the header a request sends as that user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from dibao import auth
from dibao.db import auth_repo
from dibao.db.auth_models import ApiTokenRow, UserRow
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import Role
from dibao.settings import Settings

PASSWORD = "correct horse battery staple"

SAMPLE_VILLAGE = "610423100201"  # examples/household.json
SAMPLE_TOWNSHIP = "610423100"
SAMPLE_COUNTY = "610423"


@dataclass(frozen=True)
class TestUser:
    user_id: str
    role: Role
    jurisdiction: str
    name: str


STAFF = {
    u.user_id: u
    for u in (
        TestUser("zhang.wei", Role.VILLAGE_CASEWORKER, SAMPLE_VILLAGE, "张伟"),
        TestUser("zhao.min", Role.VILLAGE_CASEWORKER, SAMPLE_VILLAGE, "赵敏"),
        TestUser("li.na", Role.TOWNSHIP_CASEWORKER, SAMPLE_TOWNSHIP, "李娜"),
        TestUser("chen.gang", Role.COUNTY_APPROVER, SAMPLE_COUNTY, "陈刚"),
        TestUser("sun.li", Role.COUNTY_APPROVER, SAMPLE_COUNTY, "孙丽"),
        TestUser("wang.jian", Role.SUPERVISOR, SAMPLE_COUNTY, "王健"),
        TestUser("liu.yang", Role.AUDITOR, SAMPLE_COUNTY, "刘洋"),
        TestUser("ma.chao", Role.OPS, SAMPLE_COUNTY, "马超"),
        # elsewhere: another village of the township, another township, another county
        TestUser("qian.hua", Role.VILLAGE_CASEWORKER, "610423100202", "钱华"),
        TestUser("wu.fang", Role.TOWNSHIP_CASEWORKER, "610423101", "吴芳"),
        TestUser("he.jun", Role.COUNTY_APPROVER, "610424", "何军"),
        TestUser("zheng.yu", Role.AUDITOR, "610424", "郑雨"),
    )
}


def token_of(user_id: str) -> str:
    return f"test-token-{user_id}"


def bearer(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(user_id)}"}


VILLAGE = bearer("zhang.wei")
TOWNSHIP = bearer("li.na")
COUNTY = bearer("chen.gang")
SUPERVISOR = bearer("wang.jian")
AUDITOR = bearer("liu.yang")
OPS = bearer("ma.chao")


@cache
def password_hash() -> str:
    # argon2 is slow on purpose; one hash serves every test user of the session.
    return auth.hash_password(PASSWORD)


@dataclass
class Staff:
    """The test's users (STAFF, signed in); `add` creates another one."""

    database_url: str

    async def add(
        self,
        user_id: str,
        role: Role,
        jurisdiction: str,
        *,
        name: str = "",
        disabled: bool = False,
        token_expires_in: timedelta = timedelta(days=30),
    ) -> dict[str, str]:
        """Create a user with PASSWORD and a live token; returns the header for that token."""
        engine = make_engine(Settings(database_url=self.database_url))
        try:
            async with make_sessionmaker(engine)() as session:
                await auth_repo.add_user(
                    session,
                    UserRow(
                        user_id=user_id,
                        display_name=name or user_id,
                        role=role.value,
                        jurisdiction_code=jurisdiction,
                        password_hash=password_hash(),
                        disabled=disabled,
                    ),
                )
                await self.issue(session, user_id, token_expires_in)
        finally:
            await engine.dispose()
        return bearer(user_id)

    @staticmethod
    async def issue(session: AsyncSession, user_id: str, expires_in: timedelta) -> None:
        now = datetime.now(UTC)
        await auth_repo.add_token(
            session,
            ApiTokenRow(
                token_sha256=auth.token_digest(token_of(user_id)),
                user_id=user_id,
                issued_at=now - timedelta(hours=1),
                expires_at=now + expires_in,
            ),
        )


async def seed_staff(database_url: str) -> Staff:
    engine = make_engine(Settings(database_url=database_url))
    try:
        async with make_sessionmaker(engine)() as session:
            for user in STAFF.values():
                session.add(
                    UserRow(
                        user_id=user.user_id,
                        display_name=user.name,
                        role=user.role.value,
                        jurisdiction_code=user.jurisdiction,
                        password_hash=password_hash(),
                        disabled=False,
                    )
                )
            await session.commit()
            for user in STAFF.values():
                await Staff.issue(session, user.user_id, timedelta(days=30))
    finally:
        await engine.dispose()
    return Staff(database_url)
