"""users are locked for a while after repeated wrong passwords

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("ck_users_failed_sign_ins", "users", "failed_sign_ins >= 0")


def downgrade() -> None:
    op.drop_constraint("ck_users_failed_sign_ins", "users", type_="check")
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_sign_ins")
