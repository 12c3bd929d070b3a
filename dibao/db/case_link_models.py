"""停旧建新: the link from a case closed after its head left to the case that continues it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
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
