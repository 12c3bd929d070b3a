"""The last database outage a worker saw, as /health and the stuck list show it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import outage_repo


class OutageOut(BaseModel):
    first_seen_at: datetime
    last_seen_at: datetime
    unrecorded_failures: int = Field(
        description="failed step attempts the worker could not record meanwhile"
    )
    activity_types: list[str]
    message: str


class OutageFacts(Protocol):
    @property
    def first_seen_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def unrecorded_failures(self) -> int: ...
    @property
    def activity_types(self) -> str: ...


async def last_outage(session: AsyncSession) -> OutageOut | None:
    row = await outage_repo.last_outage(session)
    return None if row is None else outage_out(row)


def outage_out(row: OutageFacts) -> OutageOut:
    """What /health and the stuck list say of an outage a worker recorded."""
    types = [t for t in row.activity_types.split(",") if t]
    message = (
        f"a worker could not reach PostgreSQL between {row.first_seen_at:%Y-%m-%d %H:%M:%S} "
        f"and {row.last_seen_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    if row.unrecorded_failures:
        message += (
            f"; {row.unrecorded_failures} failed step attempts "
            f"({', '.join(types)}) were not recorded, so the stuck list and incidents may miss "
            "steps that failed then and have not failed since"
        )
    return OutageOut(
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        unrecorded_failures=row.unrecorded_failures,
        activity_types=types,
        message=message,
    )
