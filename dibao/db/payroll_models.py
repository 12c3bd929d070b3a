"""Tables of the payroll (发放): one run per county and period, and the lines it books.

A released run is immutable: triggers in migration 0007 refuse any change to it or its lines,
so what was paid (the sum of released lines per case and month) can only grow by new runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class PayrollRunRow(Base):
    __tablename__ = "payroll_runs"

    run_id: Mapped[str] = mapped_column(Text, primary_key=True)  # PR-{county}-{period}
    county_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(7))  # 2026-11 or 2026-Q4
    status: Mapped[str] = mapped_column(String(10))  # draft, released
    maker: Mapped[str] = mapped_column(String(100))  # 制表人
    checker: Mapped[str | None] = mapped_column(String(100))  # 审核人
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    households: Mapped[int] = mapped_column(Integer)  # rows of the bank file
    total_fen: Mapped[int] = mapped_column(BigInteger)
    bank_file: Mapped[str] = mapped_column(Text)
    bank_file_sha256: Mapped[str] = mapped_column(String(64))  # as the file's SHA256 row states
    roster_html: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("county_code", "period", name="uq_payroll_runs_county_period"),
        # GET /payroll/runs: the county's runs newest first, by key (migration 0045).
        Index(
            "ix_payroll_runs_county_built",
            "county_code",
            text("built_at DESC"),
            text("run_id DESC"),
        ),
        CheckConstraint("status IN ('draft', 'released')", name="ck_payroll_runs_status"),
        CheckConstraint(
            "status = 'draft' OR (checker IS NOT NULL AND released_at IS NOT NULL)",
            name="ck_payroll_runs_released",
        ),
        CheckConstraint("checker IS NULL OR checker <> maker", name="ck_payroll_runs_four_eyes"),
    )


class PayrollLineRow(Base):
    """A booked line. Its run and case are references without foreign keys (migration 0044):
    a build books 100,000+ lines at once, so triggers check them once per statement
    (payroll_lines_insert_released) and cases_payroll_lines and payroll_runs_with_lines
    refuse to delete, or change the key of, a case or run that lines hold."""

    __tablename__ = "payroll_lines"

    run_id: Mapped[str] = mapped_column(Text, primary_key=True)  # payroll_runs.run_id
    case_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # cases.case_id
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # regular, arrears, recovery
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        PrimaryKeyConstraint("run_id", "case_id", "month", "kind", name="pk_payroll_lines"),
        CheckConstraint("kind IN ('regular', 'arrears', 'recovery')", name="ck_payroll_lines_kind"),
        CheckConstraint(
            "(kind = 'recovery') = (amount_fen < 0) AND amount_fen <> 0",
            name="ck_payroll_lines_sign",
        ),
        # What was paid to a case for a month: summed over released runs by the roster query.
        Index("ix_payroll_lines_case_month", "case_id", "month"),
    )


class PayrollDiscardRow(Base):
    """A draft set aside before release: what it held, who discarded it and why. The draft's
    own rows are deleted (it was never paid); this record is what remains of it."""

    __tablename__ = "payroll_discards"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(Text)
    county_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(7))
    maker: Mapped[str] = mapped_column(String(100))
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    households: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    bank_file_sha256: Mapped[str] = mapped_column(String(64))
    discarded_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    discarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("run_id", "built_at", name="uq_payroll_discards_build"),)


class PayrollPaidRangeRow(Base):
    """What released runs paid a case, as ranges of consecutive months (numbered year * 12 +
    month - 1) with one net amount each; merged in by a trigger when a run is released
    (migration 0039), so the roster reads a row per household, not a line per month."""

    __tablename__ = "payroll_paid_ranges"

    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"), primary_key=True)
    from_mi: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_mi: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("to_mi >= from_mi", name="ck_payroll_paid_ranges_order"),
        CheckConstraint("amount_fen <> 0", name="ck_payroll_paid_ranges_amount"),
    )
