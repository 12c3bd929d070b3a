"""ops may close a case at an incident ('closed'); incidents keep their correctable fields

Revision ID: 0022
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_step_failures_status", "step_failures", type_="check")
    op.create_check_constraint(
        "ck_step_failures_status",
        "step_failures",
        "status IN ('retrying', 'incident', 'retried', 'skipped', 'closed', 'recovered', "
        "'superseded')",
    )
    op.add_column(
        "step_failures",
        sa.Column("correctable_fields", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("step_failures", "correctable_fields")
    op.execute("UPDATE step_failures SET status = 'skipped' WHERE status = 'closed'")
    op.drop_constraint("ck_step_failures_status", "step_failures", type_="check")
    op.create_check_constraint(
        "ck_step_failures_status",
        "step_failures",
        "status IN ('retrying', 'incident', 'retried', 'skipped', 'recovered', 'superseded')",
    )
