"""a failing step or incident of a run that a workflow reset replaced is 'superseded'

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_step_failures_status", "step_failures", type_="check")
    op.create_check_constraint(
        "ck_step_failures_status",
        "step_failures",
        "status IN ('retrying', 'incident', 'retried', 'skipped', 'recovered', 'superseded')",
    )


def downgrade() -> None:
    op.execute("UPDATE step_failures SET status = 'retried' WHERE status = 'superseded'")
    op.drop_constraint("ck_step_failures_status", "step_failures", type_="check")
    op.create_check_constraint(
        "ck_step_failures_status",
        "step_failures",
        "status IN ('retrying', 'incident', 'retried', 'skipped', 'recovered')",
    )
