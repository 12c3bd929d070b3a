"""indexes in the exact order of the lists that had none: complaints, closed steps, payroll runs

GET /complaints pages a county's complaints newest first by (received_at, complaint_id) < the
last, both descending; ix_complaints_county_received holds complaint_id ascending, so each page
was a sort of the rest of the county. It gives way to the same index with complaint_id
descending (which also serves what read it by county and time).
GET /ops/incidents?status=recovered (or any closed status) had only the open steps' partial
index: the whole history of steps was sorted for a page.
GET /payroll/runs pages a county's runs newest first by key (built_at, run_id).

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_complaints_county_received_id "
        "ON complaints (county_code, received_at DESC, complaint_id DESC)"
    )
    op.execute("DROP INDEX ix_complaints_county_received")
    op.execute("CREATE INDEX ix_step_failures_first ON step_failures (first_failed_at, id)")
    op.execute(
        "CREATE INDEX ix_payroll_runs_county_built "
        "ON payroll_runs (county_code, built_at DESC, run_id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_payroll_runs_county_built")
    op.execute("DROP INDEX ix_step_failures_first")
    op.execute(
        "CREATE INDEX ix_complaints_county_received "
        "ON complaints (county_code, received_at DESC, complaint_id)"
    )
    op.execute("DROP INDEX ix_complaints_county_received_id")
