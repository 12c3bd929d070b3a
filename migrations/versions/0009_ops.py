"""supervision and operations: waiting role and overdue mark on cases, failing steps and
incidents, supervisor alerts, ops drills

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("waiting_role", sa.String(40), nullable=True))
    op.add_column("cases", sa.Column("overdue_since", sa.DateTime(timezone=True), nullable=True))
    # The stuck list reads open cases by deadline and by how long they sat in their stage;
    # partial indexes keep those reads small however many closed cases accumulate.
    op.create_index(
        "ix_cases_open_due",
        "cases",
        ["due_at"],
        postgresql_where=sa.text("closed_at IS NULL AND due_at IS NOT NULL"),
    )
    op.create_index(
        "ix_cases_open_entered",
        "cases",
        ["stage_entered_at"],
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "step_failures",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("activity_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.String(32), nullable=True),
        sa.Column("activity_type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("incident_id", sa.String(100), nullable=True, unique=True),
        sa.Column("step", sa.Text, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(100), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.UniqueConstraint("workflow_id", "run_id", "activity_id", name="uq_step_failures_call"),
        sa.CheckConstraint(
            "status IN ('retrying', 'incident', 'retried', 'skipped', 'recovered')",
            name="ck_step_failures_status",
        ),
    )
    op.create_index(
        "ix_step_failures_open",
        "step_failures",
        ["case_id", "first_failed_at"],
        postgresql_where=sa.text("status IN ('retrying', 'incident')"),
    )
    op.create_table(
        "supervisor_alerts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("township_code", sa.String(9), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "step_key", name="uq_supervisor_alerts_case_step"),
    )
    op.create_index(
        "ix_supervisor_alerts_area", "supervisor_alerts", ["county_code", "township_code"]
    )
    op.create_table(
        "ops_drills",
        sa.Column("activity_type", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(32), nullable=True),
        sa.Column("retryable", sa.Boolean, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("ops_drills")
    op.drop_index("ix_supervisor_alerts_area", table_name="supervisor_alerts")
    op.drop_table("supervisor_alerts")
    op.drop_index("ix_step_failures_open", table_name="step_failures")
    op.drop_table("step_failures")
    op.drop_index("ix_cases_open_entered", table_name="cases")
    op.drop_index("ix_cases_open_due", table_name="cases")
    op.drop_column("cases", "overdue_since")
    op.drop_column("cases", "waiting_role")
