"""Tables of a county going live: ledger imports (台账导入), the bank's returns (回盘) and the
certificate letters printed (低保证明)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dibao.db.models import Base


class LedgerImportRow(Base):
    """One uploaded ledger file, keyed by its SHA-256: the same file imported again is found.
    `status` (dibao.domain.ledger.ImportStatus): checking, then errors (nothing written) or
    importing (its households written, their workflows starting), then done."""

    __tablename__ = "ledger_imports"

    import_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    county_code: Mapped[str] = mapped_column(String(6))
    file_name: Mapped[str] = mapped_column(Text)
    households: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10))
    error_count: Mapped[int] = mapped_column(Integer, default=0)


class LedgerImportFileRow(Base):
    """The uploaded file of an import (checked in the background from here) and, when it had
    any, its errors: apart from the import's row, which the list of imports reads."""

    __tablename__ = "ledger_import_files"

    import_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ledger_imports.import_id"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    errors: Mapped[list[dict[str, object]] | None] = mapped_column(JSONB)


class LedgerImportHouseholdRow(Base):
    """A household of an import and the case it became; `started` once its workflow runs."""

    __tablename__ = "ledger_import_households"

    import_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ledger_imports.import_id"), primary_key=True
    )
    household_key: Mapped[str] = mapped_column(String(30), primary_key=True)  # 低保证号
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"), unique=True)
    first_row: Mapped[int] = mapped_column(Integer)
    started: Mapped[bool] = mapped_column(Boolean, default=False)
    # The household as parsed (dibao.domain.ledger.household_record): what starting its
    # workflow needs, read a page at a time instead of parsing the whole file again.
    household: Mapped[dict[str, object] | None] = mapped_column(JSONB)


class BankReturnRow(Base):
    """A bank's result file (回盘) for a released run; one per run."""

    __tablename__ = "bank_returns"

    return_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    run_id: Mapped[str] = mapped_column(Text, ForeignKey("payroll_runs.run_id"), unique=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    paid_rows: Mapped[int] = mapped_column(Integer)
    failed_rows: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    returned_fen: Mapped[int] = mapped_column(BigInteger)
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BankReturnLineRow(Base):
    """A payroll line whose money came back (退票): the roster owes it again once the
    household's account was corrected (a payee account newer than `payee_id_at_return`)."""

    __tablename__ = "bank_return_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(String(80), ForeignKey("bank_returns.return_id"))
    run_id: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    payee_id_at_return: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("run_id", "case_id", "month", "kind", name="uq_bank_return_lines"),
    )


class CertificateLetterRow(Base):
    """A 低保证明 printed for a household: who printed it and why."""

    __tablename__ = "certificate_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), ForeignKey("cases.case_id"))
    printed_by: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(Text)
    printed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("length(purpose) > 0", name="ck_certificate_letters_purpose"),
    )
