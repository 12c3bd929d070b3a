"""yearly spot checks of recipients (抽查), seeded and recorded

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipient_spot_checks",
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("seed", sa.String(100), nullable=False),
        sa.Column("draw", sa.Float, nullable=False),
        sa.Column("selected", sa.Boolean, nullable=False),
        sa.Column("drawn_by", sa.String(100), nullable=False),
        sa.Column(
            "drawn_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("county_code", "year", "case_id"),
    )


def downgrade() -> None:
    op.drop_table("recipient_spot_checks")
