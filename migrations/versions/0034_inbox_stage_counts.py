"""Indexes led by (place, stage) for the console inbox: its capped counts per stage and its
pages of one stage read a few index entries instead of every open case of a county

Revision ID: 0034
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

DUE = "coalesce(due_at, 'infinity'::timestamptz)"


def upgrade() -> None:
    # Roles with moves of their own: what waits for the role in its place, by stage.
    for level in ("county", "township", "village"):
        op.create_index(
            f"ix_cases_inbox_{level}_stage",
            "cases",
            ["waiting_role", f"{level}_code", "stage", sa.text(DUE), "case_id"],
            postgresql_where=sa.text("closed_at IS NULL"),
            postgresql_include=["recused_staff"],
        )
    # Supervision and audit: every open case of the county or township, by stage.
    for level in ("county", "township"):
        op.create_index(
            f"ix_cases_open_{level}_stage",
            "cases",
            [f"{level}_code", "stage", sa.text(DUE), "case_id"],
            postgresql_where=sa.text("closed_at IS NULL"),
            postgresql_include=["recused_staff"],
        )


def downgrade() -> None:
    for level in ("county", "township"):
        op.drop_index(f"ix_cases_open_{level}_stage", table_name="cases")
    for level in ("county", "township", "village"):
        op.drop_index(f"ix_cases_inbox_{level}_stage", table_name="cases")
