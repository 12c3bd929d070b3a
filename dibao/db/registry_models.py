"""Registry extracts from other departments (核对数据) and the stored verification runs.

Kept apart from `models.py` so that verification can change without touching the case tables;
the tables share `Base` so that one metadata describes the whole schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base
from dibao.domain.verification import Department, RecordKind


def _one_of(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


DEPARTMENT_CHECK = _one_of("department", [d.value for d in Department])
KIND_CHECK = _one_of("kind", [k.value for k in RecordKind])


class RegistryBatchRow(Base):
    """One loaded extract file. The same file (same bytes) is loaded once per department."""

    __tablename__ = "registry_batches"

    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    replaced: Mapped[bool] = mapped_column(server_default="false")
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("department", "sha256", name="uq_registry_batches_department_sha256"),
        CheckConstraint(DEPARTMENT_CHECK, name="ck_registry_batches_department"),
    )


class RegistryRecordRow(Base):
    """One fact a department holds about one person (an income, a home, a death ...)."""

    __tablename__ = "registry_records"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(40))
    id_number: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text, server_default="")
    as_of: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("registry_batches.batch_id", ondelete="RESTRICT")
    )
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_registry_records_id_number", "id_number"),
        # A --replace load deletes one department's records.
        Index("ix_registry_records_department", "department"),
        Index("ix_registry_records_batch", "batch_id"),
        CheckConstraint(DEPARTMENT_CHECK, name="ck_registry_records_department"),
        CheckConstraint(KIND_CHECK, name="ck_registry_records_kind"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="ck_registry_records_amount"),
    )


class VerificationRunRow(Base):
    """The outcome of one verification step of one case, stored once.

    No foreign key to `cases`: the run is keyed by (case, step) like the other activity writes,
    and the outcome is meaningful (and testable) without the projection row.
    """

    __tablename__ = "verification_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32))
    step_key: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("case_id", "step_key", name="uq_verification_runs_case_step"),
    )
