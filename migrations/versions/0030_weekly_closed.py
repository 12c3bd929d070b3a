"""Indexes for the supervisors' page: a county's cases by the time they closed, its alerts
newest first

The 监督 page counts the cases closed per week over the last twelve weeks (without the first
index that count reads every case ever closed) and shows a county's latest alerts (without
the second, every alert of the county is sorted).

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_county_closed",
        "cases",
        ["county_code", "closed_at"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_supervisor_alerts_county_raised",
        "supervisor_alerts",
        ["county_code", sa.text("raised_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_supervisor_alerts_county_raised", table_name="supervisor_alerts")
    op.drop_index("ix_cases_county_closed", table_name="cases")
