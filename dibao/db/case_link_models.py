"""Family changes: the household after each change, and the 停旧建新 link from a case closed
after its head left to the case that continues it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class CaseLinkRow(Base):
    __tablename__ = "case_links"

    old_case_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("cases.case_id"), primary_key=True
    )
    new_case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    from_month: Mapped[str] = mapped_column(String(7))  # the new case is paid from this month
    linked_by: Mapped[str] = mapped_column(String(100))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("old_case_id <> new_case_id", name="ck_case_links_distinct"),)


class HouseholdChangeRow(Base):
    __tablename__ = "household_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(20))
    event_on: Mapped[date] = mapped_column(Date)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # as an application's
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("case_id", "step_key", name="uq_household_changes_case_step"),
    )
