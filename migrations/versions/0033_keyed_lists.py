"""Indexes for the remaining keyed lists: the stuck list's idle cases, open incidents oldest
first, supervisor alerts newest first (in all, per county, per township), a case's audit log in
the order written, and a village's open postings.

Revision ID: 0033
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0031"
branch_labels = None
depends_on = None

_OPEN_FAILURES = sa.text("status IN ('retrying', 'incident')")


def upgrade() -> None:
    # The stuck list's idle cases (open, waiting for a person, in the stage since before the
    # idle limit) are one range of this index, not a filter over every case waiting.
    op.create_index(
        "ix_cases_open_waiting_entered",
        "cases",
        ["stage_entered_at"],
        postgresql_where=sa.text("closed_at IS NULL AND waiting_role IS NOT NULL"),
    )
    # GET /ops/incidents: (first_failed_at, id) > the last, over the open steps only.
    op.create_index(
        "ix_step_failures_open_first",
        "step_failures",
        ["first_failed_at", "id"],
        postgresql_where=_OPEN_FAILURES,
    )
    # GET /supervision/alerts: (raised_at, id) < the last, newest first.
    op.create_index(
        "ix_supervisor_alerts_raised",
        "supervisor_alerts",
        [sa.text("raised_at DESC"), sa.text("id DESC")],
    )
    # Per county: ix_supervisor_alerts_county_raised, made by 0030 for the 监督 page.
    op.create_index(
        "ix_supervisor_alerts_township_raised",
        "supervisor_alerts",
        ["township_code", sa.text("raised_at DESC"), sa.text("id DESC")],
    )
    # GET /cases/{id}/audit?after=: the case's entries after the last ID.
    op.create_index("ix_audit_case_id", "audit_log", ["case_id", "id"])
    # GET /postings?village=…&after=: the village's open postings by (stage, opens_at, ID).
    op.create_index(
        "ix_postings_open_village",
        "postings",
        ["village_code", "stage", "opens_at", "posting_id"],
        postgresql_where=sa.text("outcome = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_postings_open_village", table_name="postings")
    op.drop_index("ix_audit_case_id", table_name="audit_log")
    op.drop_index("ix_supervisor_alerts_township_raised", table_name="supervisor_alerts")
    op.drop_index("ix_supervisor_alerts_raised", table_name="supervisor_alerts")
    op.drop_index("ix_step_failures_open_first", table_name="step_failures")
    op.drop_index("ix_cases_open_waiting_entered", table_name="cases")
