"""one key per action: audit entries of case actions renamed to the action's key

Every action on a case now has one key, shared by its API path, command, workflow update, role
table entry and audit action (dibao/domain/actions.py). The audit entries already written
under the old names are renamed to the new ones, so a case's log reads one name per action
whenever it was written. No other table stores these names (step failures name activities,
the user audit its own actions) and no CHECK constraint lists them.

audit_log is append-only by trigger; the rename is the one change made to its rows, inside
this migration's transaction, with the trigger off for just these statements (no production
installation exists yet: issue 12). The downgrade restores the old names.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

# (old, new): literals, as this migration found and left them.
RENAMED = (
    ("supplement_materials", "materials"),
    ("submit_survey", "survey"),
    ("submit_evaluation", "evaluation"),
    ("submit_evidence", "evidence"),
    ("raise_objection", "objection"),
    ("county_home_visit", "county_visit"),
    ("submit_review", "review"),
    ("report_sign_in", "sign_in"),
    ("report_labour_absence", "labour_absence"),
    ("report_circumstance", "circumstance"),
    ("report_reemployment", "reemployment"),
    ("report_work_refusal", "work_refusal"),
    ("report_household_change", "household_change"),
    ("change_payee", "payee"),
)


def _rename(pairs: tuple[tuple[str, str], ...]) -> None:
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    for old, new in pairs:
        op.execute(f"UPDATE audit_log SET action = '{new}' WHERE action = '{old}'")
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename(tuple((new, old) for old, new in RENAMED))
