"""Tables of supervision and operations: failing steps and incidents, alerts, drills."""

from __future__ import annotations

from datetime import datetime

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
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class StepFailureRow(Base):
    """One activity call that failed at least once: `retrying` while Temporal retries it,
    `incident` once retries are exhausted (the case waits for ops), then `retried`, `skipped`,
    `closed` (ops closed the case at it) or `recovered` (succeeded on a later attempt). Written by the worker's interceptor and the
    incident activities, keyed by the call so a retry updates the same row."""

    __tablename__ = "step_failures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(String(32))
    activity_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    step: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    # Of an incident: the input fields ops may correct, comma-separated (dibao.domain.ops).
    correctable_fields: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (
        UniqueConstraint("workflow_id", "run_id", "activity_id", name="uq_step_failures_call"),
        CheckConstraint(
            "status IN ('retrying', 'incident', 'retried', 'skipped', 'closed', 'recovered', "
            "'superseded')",
            name="ck_step_failures_status",
        ),
        Index(
            "ix_step_failures_open",
            "case_id",
            "first_failed_at",
            postgresql_where=text("status IN ('retrying', 'incident')"),
        ),
        # The incidents list's order (migration 0033).
        Index(
            "ix_step_failures_open_first",
            "first_failed_at",
            "id",
            postgresql_where=text("status IN ('retrying', 'incident')"),
        ),
        # The same order over every step, for a list of closed ones (migration 0045).
        Index("ix_step_failures_first", "first_failed_at", "id"),
    )


class SupervisorAlertRow(Base):
    """An alert to the supervisors of a township and county, e.g. a stage past its deadline."""

    __tablename__ = "supervisor_alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    step_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    county_code: Mapped[str] = mapped_column(String(6))
    township_code: Mapped[str] = mapped_column(String(9))
    stage: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("case_id", "step_key", name="uq_supervisor_alerts_case_step"),
        Index("ix_supervisor_alerts_area", "county_code", "township_code"),
        # The alerts list's order, newest first, in all and per county or township (0033).
        Index("ix_supervisor_alerts_raised", text("raised_at DESC"), text("id DESC")),
        Index(
            "ix_supervisor_alerts_county_raised",
            "county_code",
            text("raised_at DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_supervisor_alerts_township_raised",
            "township_code",
            text("raised_at DESC"),
            text("id DESC"),
        ),
    )


class OpsDrillRow(Base):
    """A failure drill: while the row exists the worker fails that activity (for one case or
    all), so ops can rehearse the incident runbook on `make dev` without breaking anything."""

    __tablename__ = "ops_drills"

    activity_type: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(32))
    retryable: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
