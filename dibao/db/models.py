"""Typed SQLAlchemy models. Constraints live in the database, not only in code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# The columns a stuck-list candidate carries (dibao/db/supervision_repo.py), so that its
# open cases are index-only scans of the partial indexes below.
STUCK_CARRIED = (
    "case_id",
    "county_code",
    "township_code",
    "village_code",
    "stage",
    "waiting_role",
    "due_at",
    "stage_entered_at",
    "failure_status",
    "failure_since",
)


class CaseRow(Base):
    """Projection of each case for listing and supervision; the workflow is the source of truth."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Kept to enforce one open case per household; never returned by listing endpoints.
    head_id_number: Mapped[str] = mapped_column(String(18))
    stage: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    stage_seq: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rule_pack_id: Mapped[str] = mapped_column(String(40))
    rule_pack_version: Mapped[int] = mapped_column(Integer)
    area_type: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(String(2))
    county_code: Mapped[str] = mapped_column(String(6))
    township_code: Mapped[str] = mapped_column(String(9))
    village_code: Mapped[str] = mapped_column(String(12))
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_warning: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Comma-separated staff IDs registered as near relatives (recusal); flagged cases list them.
    recused_staff: Mapped[str | None] = mapped_column(Text)
    # Who the case waits for (a Role value), and since when its stage deadline has passed;
    # both read by the supervisors' stuck list.
    waiting_role: Mapped[str | None] = mapped_column(String(40))
    overdue_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The whole procedure's limit (mca-2021 Art. 22) and since when it has passed undecided.
    procedure_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    procedure_overdue_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The payee as the payroll reads it cannot be paid (no account number, or an agent without
    # a reason): kept by triggers on payee_accounts and applications (migration 0039).
    payee_held: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The case's worst open step failure (an incident before a retrying step, then the
    # earliest) and since when: kept by triggers on step_failures (migration 0046) for the
    # stuck list, which finds the failing cases by ix_cases_open_failing.
    failure_status: Mapped[str | None] = mapped_column(String(10))
    failure_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index(
            "uq_cases_open_household",
            "head_id_number",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_cases_township_stage", "township_code", "stage"),
        Index("ix_cases_stage_due", "stage", "due_at"),
        Index("ix_cases_county", "county_code"),
        Index("ix_cases_county_status_case", "county_code", "status", "case_id"),
        Index("ix_cases_filed", text("filed_at DESC"), "case_id"),
        Index("ix_cases_county_filed", "county_code", text("filed_at DESC"), "case_id"),
        # The stuck list's open candidates, read from these alone (0043): past the deadline,
        # idle while waiting for a person (below), by ID for a failing step or a complaint.
        Index(
            "ix_cases_open_due",
            "due_at",
            postgresql_include=[c for c in STUCK_CARRIED if c != "due_at"],
            postgresql_where=text("closed_at IS NULL AND due_at IS NOT NULL"),
        ),
        Index(
            "ix_cases_open_key",
            "case_id",
            postgresql_include=[c for c in STUCK_CARRIED if c != "case_id"],
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_cases_county_closed",
            "county_code",
            "closed_at",
            postgresql_where=text("closed_at IS NOT NULL"),
        ),
        # The stuck list's idle cases: open, waiting for a person, entered long ago (0033).
        Index(
            "ix_cases_open_waiting_entered",
            "stage_entered_at",
            postgresql_include=[c for c in STUCK_CARRIED if c != "stage_entered_at"],
            postgresql_where=text("closed_at IS NULL AND waiting_role IS NOT NULL"),
        ),
        # The stuck list's cases with a failing or given-up step (0046).
        Index(
            "ix_cases_open_failing",
            "failure_since",
            postgresql_include=[c for c in STUCK_CARRIED if c != "failure_since"],
            postgresql_where=text("closed_at IS NULL AND failure_status IS NOT NULL"),
        ),
        CheckConstraint(
            "(failure_status IS NULL AND failure_since IS NULL) OR "
            "(failure_status IN ('retrying', 'incident') AND failure_since IS NOT NULL)",
            name="ck_cases_failure_state",
        ),
    )


class ApplicationRow(Base):
    """The application exactly as submitted (一户一档), and the idempotency key that filed it."""

    __tablename__ = "applications"

    case_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("cases.case_id", ondelete="RESTRICT"), primary_key=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_role: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StageEventRow(Base):
    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    seq: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_stage_events_case_seq"),)


class NoticeRow(Base):
    __tablename__ = "notices"

    notice_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("case_id", "step_key", name="uq_notices_case_step"),)


class AuditRow(Base):
    """Append-only: a trigger in the migration refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("case_id", "step_key", name="uq_audit_case_step"),
        # A case's log in the order written, by key (migration 0033).
        Index("ix_audit_case_id", "case_id", "id"),
    )
