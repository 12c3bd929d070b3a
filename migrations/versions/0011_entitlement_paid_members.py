"""entitlement changes record the members the amount is paid for (per-member amounts)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows written before have no count, and the table is append-only (no backfill).
    op.add_column("entitlement_changes", sa.Column("paid_members", sa.Integer, nullable=True))
    op.create_check_constraint(
        "ck_entitlements_paid_members",
        "entitlement_changes",
        "paid_members IS NULL OR paid_members >= 0",
    )


def downgrade() -> None:
    op.drop_constraint("ck_entitlements_paid_members", "entitlement_changes", type_="check")
    op.drop_column("entitlement_changes", "paid_members")
