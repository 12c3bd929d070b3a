"""a case's failing step on its row (cases.failure_status, failure_since), for the stuck list

The stuck list found its cases with a failing or given-up step by taking every open step
failure and probing the open cases' index once for each: with a few hundred failing steps that
was half of the statement. The state the list needs (the worst open failure: an incident before
a retrying step, then the earliest) is now kept on the case's row by triggers on step_failures,
in the transaction that writes the failure, and the open failing cases are one range of a
partial index that, like the other stuck-list indexes (0043), carries what the list filters,
flags, sorts and counts by. The three indexes of 0043 carry the two new columns too.

The trigger locks the case's row before it reads the case's open failures: under READ
COMMITTED each statement of the function then sees every failure committed before it got the
lock, so two failures of one case written at the same moment cannot leave the older answer.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None

_OPEN = "closed_at IS NULL"
# 0043's carried columns and this migration's two.
_BEFORE = [
    "case_id",
    "county_code",
    "township_code",
    "village_code",
    "stage",
    "waiting_role",
    "due_at",
    "stage_entered_at",
]
_AFTER = [*_BEFORE, "failure_status", "failure_since"]
# index name -> (key column, partial index predicate)
_INDEXES = {
    "ix_cases_open_due": ("due_at", f"{_OPEN} AND due_at IS NOT NULL"),
    "ix_cases_open_waiting_entered": ("stage_entered_at", f"{_OPEN} AND waiting_role IS NOT NULL"),
    "ix_cases_open_key": ("case_id", _OPEN),
}


def _create_indexes(carried: list[str]) -> None:
    for name, (key, where) in _INDEXES.items():
        op.drop_index(name, table_name="cases")
        op.create_index(
            name,
            "cases",
            [key],
            postgresql_include=[c for c in carried if c != key],
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    op.add_column("cases", sa.Column("failure_status", sa.String(10)))
    op.add_column("cases", sa.Column("failure_since", sa.DateTime(timezone=True)))
    op.create_check_constraint(
        "ck_cases_failure_state",
        "cases",
        "(failure_status IS NULL AND failure_since IS NULL) OR "
        "(failure_status IN ('retrying', 'incident') AND failure_since IS NOT NULL)",
    )
    op.execute(
        """
        CREATE FUNCTION cases_failure_refresh(p_case_id text) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
          worst_status text;
          worst_since timestamptz;
        BEGIN
          PERFORM 1 FROM cases WHERE case_id = p_case_id FOR NO KEY UPDATE;
          IF NOT FOUND THEN
            RETURN;
          END IF;
          -- The worst open failure: an incident (waits for ops) before a retrying step, then
          -- the one failing longest. The stuck list shows the same one (supervision_repo).
          SELECT status, first_failed_at INTO worst_status, worst_since
            FROM step_failures
           WHERE case_id = p_case_id AND status IN ('retrying', 'incident')
           ORDER BY (status = 'incident') DESC, first_failed_at LIMIT 1;
          UPDATE cases SET failure_status = worst_status, failure_since = worst_since
           WHERE case_id = p_case_id
             AND (failure_status IS DISTINCT FROM worst_status
                  OR failure_since IS DISTINCT FROM worst_since);
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION step_failures_case_state() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND OLD.case_id IS NOT NULL THEN
            PERFORM cases_failure_refresh(OLD.case_id);
          END IF;
          IF TG_OP <> 'DELETE' AND NEW.case_id IS NOT NULL
             AND (TG_OP = 'INSERT' OR NEW.case_id IS DISTINCT FROM OLD.case_id) THEN
            PERFORM cases_failure_refresh(NEW.case_id);
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    # Only what changes the answer fires it: a retried attempt that fails again updates its
    # row's attempts and error, not the case.
    op.execute(
        "CREATE TRIGGER step_failures_case_state_insert AFTER INSERT ON step_failures "
        "FOR EACH ROW WHEN (NEW.case_id IS NOT NULL AND NEW.status IN ('retrying', 'incident')) "
        "EXECUTE FUNCTION step_failures_case_state()"
    )
    op.execute(
        "CREATE TRIGGER step_failures_case_state_update AFTER UPDATE ON step_failures "
        "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.case_id IS DISTINCT FROM NEW.case_id "
        "OR OLD.first_failed_at IS DISTINCT FROM NEW.first_failed_at) "
        "EXECUTE FUNCTION step_failures_case_state()"
    )
    op.execute(
        "CREATE TRIGGER step_failures_case_state_delete AFTER DELETE ON step_failures "
        "FOR EACH ROW WHEN (OLD.case_id IS NOT NULL AND OLD.status IN ('retrying', 'incident')) "
        "EXECUTE FUNCTION step_failures_case_state()"
    )
    # The failures open now, onto their cases.
    op.execute(
        "SELECT cases_failure_refresh(case_id) FROM (SELECT DISTINCT case_id FROM step_failures "
        "WHERE case_id IS NOT NULL AND status IN ('retrying', 'incident')) failing"
    )
    _create_indexes(_AFTER)
    op.create_index(
        "ix_cases_open_failing",
        "cases",
        ["failure_since"],
        postgresql_include=[c for c in _AFTER if c != "failure_since"],
        postgresql_where=sa.text(f"{_OPEN} AND failure_status IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_failing", table_name="cases")
    _create_indexes(_BEFORE)
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER step_failures_case_state_{event} ON step_failures")
    op.execute("DROP FUNCTION step_failures_case_state()")
    op.execute("DROP FUNCTION cases_failure_refresh(text)")
    op.drop_constraint("ck_cases_failure_state", "cases", type_="check")
    op.drop_column("cases", "failure_since")
    op.drop_column("cases", "failure_status")
