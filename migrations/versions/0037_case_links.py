"""停旧建新: a case closed after its head left, linked to the new case that continues it

Revision ID: 0037
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One successor per old case and one predecessor per new case: the link reads both ways.
    op.create_table(
        "case_links",
        sa.Column("old_case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
        sa.Column(
            "new_case_id",
            sa.String(32),
            sa.ForeignKey("cases.case_id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("from_month", sa.String(7), nullable=False),
        sa.Column("linked_by", sa.String(100), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("old_case_id <> new_case_id", name="ck_case_links_distinct"),
    )


def downgrade() -> None:
    op.drop_table("case_links")
