"""payee agents (代领人) on recorded accounts

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # payee_accounts is append-only (a trigger refuses UPDATE): adding columns with defaults
    # rewrites no row; accounts recorded before were all members' (no agent).
    op.add_column(
        "payee_accounts",
        sa.Column("agent", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.add_column(
        "payee_accounts",
        sa.Column("agent_reason", sa.Text, nullable=False, server_default=sa.text("''")),
    )
    op.create_check_constraint(
        "ck_payee_accounts_agent_reason",
        "payee_accounts",
        "agent = (btrim(agent_reason) <> '')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_payee_accounts_agent_reason", "payee_accounts", type_="check")
    op.drop_column("payee_accounts", "agent_reason")
    op.drop_column("payee_accounts", "agent")
