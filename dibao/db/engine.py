"""Engine and session factory. One engine per process, built from `Settings`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dibao.settings import Settings

CONNECT_TIMEOUT_SECONDS = 5


def make_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_pre_ping=True,
        pool_size=10,
        # A database host that drops packets fails a request in seconds (503, api/errors.py)
        # instead of holding it until the client gives up.
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
