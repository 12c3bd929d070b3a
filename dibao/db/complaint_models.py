"""Tables of complaints and reports (举报、投诉、信访; mca-2021 Arts. 36–37).

The complainant's name and contact live only in `complaints`, never in an event, an audit row,
a workflow or a log; the API shows them only to the staff who handle complaints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base

OPEN_STATUSES = "('received', 'assigned', 'investigating')"


class ComplaintRow(Base):
    __tablename__ = "complaints"

    complaint_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    # The request that recorded it: a repeat finds this row instead of recording it twice.
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("cases.case_id"))
    county_code: Mapped[str] = mapped_column(String(6))
    township_code: Mapped[str | None] = mapped_column(String(9))
    village_code: Mapped[str | None] = mapped_column(String(12))
    summary: Mapped[str] = mapped_column(Text)
    complainant_name: Mapped[str | None] = mapped_column(String(50))
    complainant_contact: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    assigned_level: Mapped[str | None] = mapped_column(String(20))
    finding: Mapped[str | None] = mapped_column(String(20))
    investigation: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(String(20))
    answer_content: Mapped[str | None] = mapped_column(Text)
    answer_sha256: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_warning: Mapped[str | None] = mapped_column(Text)
    rule_pack_id: Mapped[str] = mapped_column(String(40))
    rule_pack_version: Mapped[int] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'assigned', 'investigating', 'answered', 'closed')",
            name="ck_complaints_status",
        ),
        CheckConstraint("kind IN ('case', 'recipient', 'general')", name="ck_complaints_kind"),
        CheckConstraint("channel IN ('real_name', 'anonymous')", name="ck_complaints_channel"),
        CheckConstraint(
            "(kind = 'general') = (case_id IS NULL)", name="ck_complaints_case_of_kind"
        ),
        # Art. 37: a real-name report can be answered; an anonymous one records no one.
        CheckConstraint(
            "(channel = 'real_name') = (complainant_name IS NOT NULL "
            "AND complainant_contact IS NOT NULL)",
            name="ck_complaints_complainant",
        ),
        CheckConstraint(
            "channel = 'anonymous' OR status <> 'closed' OR answer_sha256 IS NOT NULL",
            name="ck_complaints_real_name_answered",
        ),
        # The list's order exactly, both keys descending (migration 0045).
        Index(
            "ix_complaints_county_received_id",
            "county_code",
            text("received_at DESC"),
            text("complaint_id DESC"),
        ),
        Index("ix_complaints_received", text("received_at DESC"), "complaint_id"),
        Index("ix_complaints_case", "case_id"),
        Index(
            "ix_complaints_open_due", "due_at", postgresql_where=text(f"status IN {OPEN_STATUSES}")
        ),
    )


class ComplaintEventRow(Base):
    """One step of a complaint, once per request: a repeat finds the first."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(24), ForeignKey("complaints.complaint_id"))
    step: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(40))
    # What the step recorded, never the complainant.
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("complaint_id", "request_id", name="uq_complaint_events_request"),
        Index("ix_complaint_events_complaint", "complaint_id", "id"),
    )
