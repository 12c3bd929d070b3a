"""registry extracts (registry_batches, registry_records) and verification_runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# Written out rather than imported from the enums: a migration describes the schema as it was
# when written, and a later enum change needs its own migration.
DEPARTMENTS = (
    "tax",
    "social_insurance",
    "real_estate",
    "vehicles",
    "business_registration",
    "housing_fund",
    "household_registration",
    "banks",
)
KINDS = (
    "wage_income",
    "pension",
    "home",
    "shop",
    "vehicle",
    "business_licence",
    "housing_fund_contribution",
    "deceased",
    "moved_out",
    "deposit",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "registry_batches",
        sa.Column("batch_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("replaced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("loaded_by", sa.String(100), nullable=False),
        sa.Column("loaded_at", TS, nullable=False, server_default=sa.func.now()),
        # Loading the same extract twice is a no-op, decided by the database.
        sa.UniqueConstraint("department", "sha256", name="uq_registry_batches_department_sha256"),
        sa.CheckConstraint(
            _one_of("department", DEPARTMENTS), name="ck_registry_batches_department"
        ),
    )

    op.create_table(
        "registry_records",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("as_of", sa.Date),
        sa.Column(
            "batch_id",
            sa.BigInteger,
            sa.ForeignKey("registry_batches.batch_id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("loaded_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            _one_of("department", DEPARTMENTS), name="ck_registry_records_department"
        ),
        sa.CheckConstraint(_one_of("kind", KINDS), name="ck_registry_records_kind"),
        sa.CheckConstraint(
            "amount_fen IS NULL OR amount_fen >= 0", name="ck_registry_records_amount"
        ),
    )
    op.create_index("ix_registry_records_id_number", "registry_records", ["id_number"])
    op.create_index("ix_registry_records_department", "registry_records", ["department"])
    op.create_index("ix_registry_records_batch", "registry_records", ["batch_id"])

    # No foreign key to cases: a run is keyed by (case, step) like the other activity writes.
    op.create_table(
        "verification_runs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("outcome", postgresql.JSONB, nullable=False),
        sa.Column("recorded_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("case_id", "step_key", name="uq_verification_runs_case_step"),
    )


def downgrade() -> None:
    op.drop_table("verification_runs")
    op.drop_table("registry_records")
    op.drop_table("registry_batches")
