"""a draft payroll run can be discarded before release; the record of it is kept

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payroll_discards",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("maker", sa.String(100), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("bank_file_sha256", sa.String(64), nullable=False),
        sa.Column("discarded_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("run_id", "built_at", name="uq_payroll_discards_build"),
    )
    # The record of a discard is evidence: like the audit log, never changed or removed.
    op.execute(
        """
        CREATE FUNCTION payroll_discards_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% of payroll_discards is not allowed: the record is append-only',
                TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER payroll_discards_append_only BEFORE UPDATE OR DELETE ON payroll_discards "
        "FOR EACH ROW EXECUTE FUNCTION payroll_discards_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS payroll_discards_append_only ON payroll_discards")
    op.execute("DROP FUNCTION IF EXISTS payroll_discards_append_only()")
    op.drop_table("payroll_discards")
