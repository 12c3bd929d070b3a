"""An index for the supervisors' weekly chart: a county's cases by the time they closed

The 监督 page counts the cases closed per week over the last twelve weeks; without it that
count reads every case ever closed.

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


def downgrade() -> None:
    op.drop_index("ix_cases_county_closed", table_name="cases")
