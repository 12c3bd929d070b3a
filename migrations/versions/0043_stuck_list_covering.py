"""the stuck list's open cases read from their indexes alone

The stuck list filters, flags, sorts and counts every stuck case but shows a page of them.
Its three kinds of open candidate (past the deadline, idle while waiting for a person, with a
failing step or an overdue complaint) now come from partial indexes that carry the columns it
needs (INCLUDE), so they are index-only scans and only the page's cases are read from the
table. ix_cases_open_entered (every open case by stage entry) served the idle cases before
ix_cases_open_waiting_entered and nothing reads it now: it gives way to ix_cases_open_key.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

# What a stuck candidate carries besides its key column: see dibao/db/supervision_repo.py.
_CARRIED = [
    "case_id",
    "county_code",
    "township_code",
    "village_code",
    "stage",
    "waiting_role",
    "due_at",
    "stage_entered_at",
]
_OPEN = "closed_at IS NULL"


def _carried(key: str) -> list[str]:
    return [c for c in _CARRIED if c != key]


def upgrade() -> None:
    op.drop_index("ix_cases_open_due", table_name="cases")
    op.create_index(
        "ix_cases_open_due",
        "cases",
        ["due_at"],
        postgresql_include=_carried("due_at"),
        postgresql_where=sa.text(f"{_OPEN} AND due_at IS NOT NULL"),
    )
    op.drop_index("ix_cases_open_waiting_entered", table_name="cases")
    op.create_index(
        "ix_cases_open_waiting_entered",
        "cases",
        ["stage_entered_at"],
        postgresql_include=_carried("stage_entered_at"),
        postgresql_where=sa.text(f"{_OPEN} AND waiting_role IS NOT NULL"),
    )
    op.drop_index("ix_cases_open_entered", table_name="cases")
    # Open cases with a failing step or an overdue complaint, looked up by ID.
    op.create_index(
        "ix_cases_open_key",
        "cases",
        ["case_id"],
        postgresql_include=_carried("case_id"),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_key", table_name="cases")
    op.create_index(
        "ix_cases_open_entered", "cases", ["stage_entered_at"], postgresql_where=sa.text(_OPEN)
    )
    op.drop_index("ix_cases_open_waiting_entered", table_name="cases")
    op.create_index(
        "ix_cases_open_waiting_entered",
        "cases",
        ["stage_entered_at"],
        postgresql_where=sa.text(f"{_OPEN} AND waiting_role IS NOT NULL"),
    )
    op.drop_index("ix_cases_open_due", table_name="cases")
    op.create_index(
        "ix_cases_open_due",
        "cases",
        ["due_at"],
        postgresql_where=sa.text(f"{_OPEN} AND due_at IS NOT NULL"),
    )
