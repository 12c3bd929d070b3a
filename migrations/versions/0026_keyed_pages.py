"""Indexes that match the order of keyed pages: a county's receiving cases by case ID, the
case listing newest filing first (in all, and per county)

Revision ID: 0026
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch over a county's recipients reads them a page at a time (case_id > last): each
    # page is one range of this index, however far into the county.
    op.create_index("ix_cases_county_status_case", "cases", ["county_code", "status", "case_id"])
    # GET /cases: newest filing first, then case ID, by key (filed_at, case_id) < the last.
    op.create_index("ix_cases_filed", "cases", [sa.text("filed_at DESC"), "case_id"])
    op.create_index(
        "ix_cases_county_filed", "cases", ["county_code", sa.text("filed_at DESC"), "case_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_cases_county_filed", table_name="cases")
    op.drop_index("ix_cases_filed", table_name="cases")
    op.drop_index("ix_cases_county_status_case", table_name="cases")
