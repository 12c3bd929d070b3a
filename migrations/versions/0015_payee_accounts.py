"""accounts the benefit is paid into, recorded after filing (append-only)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payee_accounts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("account_holder", sa.String(50), nullable=False),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("account_no", sa.String(30), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "step_key", name="uq_payee_accounts_case_step"),
        sa.CheckConstraint("account_no ~ '^[0-9]{12,30}$'", name="ck_payee_accounts_account_no"),
    )
    op.create_index("ix_payee_accounts_case", "payee_accounts", ["case_id", "id"])
    # Where money was sent is evidence: rows are appended, never changed.
    op.execute(
        """
        CREATE FUNCTION payee_accounts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% of payee_accounts is not allowed: the record is append-only',
                TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER payee_accounts_append_only BEFORE UPDATE OR DELETE ON payee_accounts "
        "FOR EACH ROW EXECUTE FUNCTION payee_accounts_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS payee_accounts_append_only ON payee_accounts")
    op.execute("DROP FUNCTION IF EXISTS payee_accounts_append_only()")
    op.drop_index("ix_payee_accounts_case", table_name="payee_accounts")
    op.drop_table("payee_accounts")
