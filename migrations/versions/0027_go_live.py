"""a county going live: ledger imports, bank returns (回盘), certificate letters (低保证明)

Revision ID: 0027
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ledger_imports",
        sa.Column("import_id", sa.String(40), primary_key=True),
        sa.Column("file_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("persons", sa.Integer, nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
    )
    op.create_table(
        "ledger_import_households",
        sa.Column(
            "import_id", sa.String(40), sa.ForeignKey("ledger_imports.import_id"), primary_key=True
        ),
        sa.Column("household_key", sa.String(30), primary_key=True),
        sa.Column(
            "case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False, unique=True
        ),
        sa.Column("first_row", sa.Integer, nullable=False),
        sa.Column("started", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "bank_returns",
        sa.Column("return_id", sa.String(80), primary_key=True),
        sa.Column(
            "run_id", sa.Text, sa.ForeignKey("payroll_runs.run_id"), nullable=False, unique=True
        ),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("paid_rows", sa.Integer, nullable=False),
        sa.Column("failed_rows", sa.Integer, nullable=False),
        sa.Column("paid_fen", sa.BigInteger, nullable=False),
        sa.Column("returned_fen", sa.BigInteger, nullable=False),
        sa.Column("loaded_by", sa.String(100), nullable=False),
        sa.Column("loaded_at", TZ, nullable=False),
    )
    op.create_table(
        "bank_return_lines",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "return_id", sa.String(80), sa.ForeignKey("bank_returns.return_id"), nullable=False
        ),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payee_id_at_return", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("run_id", "case_id", "month", "kind", name="uq_bank_return_lines"),
    )
    op.create_index("ix_bank_return_lines_case", "bank_return_lines", ["case_id"])
    op.create_table(
        "certificate_letters",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("printed_by", sa.String(100), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("printed_at", TZ, nullable=False),
        sa.CheckConstraint("length(purpose) > 0", name="ck_certificate_letters_purpose"),
    )
    # The bank's answer is part of the record: appended, never changed.
    for table in ("bank_returns", "bank_return_lines", "certificate_letters"):
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    for table in (
        "certificate_letters",
        "bank_return_lines",
        "bank_returns",
        "ledger_import_households",
        "ledger_imports",
    ):
        op.drop_table(table)
