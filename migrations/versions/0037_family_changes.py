"""family changes: the household after each change; 停旧建新 links (old case → new case)

Revision ID: 0037
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0037"
down_revision = "0036"
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

    # 一户一档: each family change with the household it left (notices and postings address
    # the newest one's head).
    op.create_table(
        "household_changes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("event_on", sa.Date, nullable=False),
        sa.Column("members", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "step_key", name="uq_household_changes_case_step"),
        sa.CheckConstraint(
            "event IN ('birth', 'marriage_in', 'move_in', 'death', 'marriage_out', 'move_out', "
            "'head_change')",
            name="ck_household_changes_event",
        ),
    )


def downgrade() -> None:
    op.drop_table("household_changes")
    op.drop_table("case_links")
