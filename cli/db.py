"""Running one piece of work on PostgreSQL from a CLI command (office and ops commands that
write the database directly, not through the API)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import get_settings

T = TypeVar("T")


def with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    settings = get_settings()
    if not settings.database_url:
        typer.echo("error: DATABASE_URL is not set; is `make dev` running?", err=True)
        raise typer.Exit(1)

    async def run() -> T:
        engine = make_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
