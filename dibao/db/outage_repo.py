"""Database outages a worker saw: the step failures it could not record while PostgreSQL was
unreachable, written once the database is back, so /health and the stuck list can say the
list may miss steps that failed then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class DbOutageRow(Base):
    __tablename__ = "db_outages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    worker: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unrecorded_failures: Mapped[int] = mapped_column(Integer)
    # Comma-separated activity types whose failures went unrecorded (no row values).
    activity_types: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("last_seen_at >= first_seen_at", name="ck_db_outages_span"),
        CheckConstraint("unrecorded_failures >= 0", name="ck_db_outages_count"),
    )


@dataclass(frozen=True)
class Outage:
    worker: str
    first_seen_at: datetime
    last_seen_at: datetime
    unrecorded_failures: int
    activity_types: tuple[str, ...]


async def record_outage(session: AsyncSession, outage: Outage, now: datetime) -> None:
    session.add(
        DbOutageRow(
            worker=outage.worker[:200],
            first_seen_at=outage.first_seen_at,
            last_seen_at=outage.last_seen_at,
            recorded_at=now,
            unrecorded_failures=outage.unrecorded_failures,
            activity_types=",".join(outage.activity_types),
        )
    )
    await session.commit()


async def last_outage(session: AsyncSession) -> DbOutageRow | None:
    found: DbOutageRow | None = await session.scalar(
        select(DbOutageRow).order_by(DbOutageRow.last_seen_at.desc()).limit(1)
    )
    return found
