"""entitlement changes say what kind of change they are (增发/减发/停发/暂停/恢复)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "entitlement_changes",
        sa.Column("change_kind", sa.String(20), nullable=False, server_default="start"),
    )
    op.create_check_constraint(
        "ck_entitlements_kind",
        "entitlement_changes",
        "change_kind IN ('start', 'increase', 'decrease', 'unchanged', 'stop', 'suspend', "
        "'resume')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_entitlements_kind", "entitlement_changes")
    op.drop_column("entitlement_changes", "change_kind")
