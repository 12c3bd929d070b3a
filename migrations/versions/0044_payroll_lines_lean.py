"""payroll_lines without its surrogate id and row-level foreign keys

A county's build books its lines (100,000+) in one INSERT ... SELECT. Each row cost a
referential-integrity trigger call per foreign key (a SELECT ... FOR KEY SHARE of its run and
of its case) and a sequence value and index entry for an id nothing reads. The line's natural
key, (run_id, case_id, month, kind), becomes the primary key; the references are checked once
per statement by the statement trigger that already refuses lines of a released run (an
anti-join over the inserted rows each), and the referenced side keeps them by row triggers on
cases and payroll_runs that refuse to delete, or change the key of, a row that lines hold.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

_KEY = "run_id, case_id, month, kind"

# As migration 0007 created it: for the downgrade.
_INSERT_RELEASED_0007 = """
CREATE OR REPLACE FUNCTION payroll_lines_insert_released() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  released_run text;
BEGIN
  SELECT r.run_id INTO released_run
  FROM payroll_runs r
  WHERE r.status = 'released' AND r.run_id IN (SELECT DISTINCT run_id FROM inserted)
  LIMIT 1;
  IF released_run IS NOT NULL THEN
    RAISE EXCEPTION 'payroll run % is released: INSERT of its lines is not allowed',
      released_run USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END $$;
"""

_INSERT_CHECKED = """
CREATE OR REPLACE FUNCTION payroll_lines_insert_released() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  released_run text;
  missing text;
BEGIN
  -- The runs the lines name are key-share locked as the foreign key locked them: a run
  -- deleted by another transaction meanwhile is waited for, then found missing below, and
  -- one deleted after waits for this transaction and then sees its lines. A run per
  -- statement (a build books one), so this is one row lock, not one per line.
  PERFORM 1 FROM payroll_runs r
  WHERE r.run_id IN (SELECT DISTINCT run_id FROM inserted)
  FOR KEY SHARE OF r;
  SELECT i.run_id INTO missing
  FROM (SELECT DISTINCT run_id FROM inserted) i
  WHERE NOT EXISTS (SELECT 1 FROM payroll_runs r WHERE r.run_id = i.run_id)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'payroll lines refer to payroll run %, which does not exist', missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  -- Cases are not locked (that would be a row lock per household again): cases_payroll_lines
  -- waits for the county's build instead.
  SELECT i.case_id INTO missing
  FROM inserted i
  WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = i.case_id)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'payroll lines refer to case %, which does not exist', missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT r.run_id INTO released_run
  FROM payroll_runs r
  WHERE r.status = 'released' AND r.run_id IN (SELECT DISTINCT run_id FROM inserted)
  LIMIT 1;
  IF released_run IS NOT NULL THEN
    RAISE EXCEPTION 'payroll run % is released: INSERT of its lines is not allowed',
      released_run USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END $$;
"""

_CASES_KEPT = """
CREATE FUNCTION cases_payroll_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    IF EXISTS (SELECT 1 FROM payroll_lines) THEN
      RAISE EXCEPTION 'TRUNCATE of cases is not allowed: payroll lines refer to them'
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.case_id IS NOT DISTINCT FROM OLD.case_id THEN
    RETURN NEW;
  END IF;
  -- A build books its lines without locking the cases they name; it holds this lock of its
  -- county (payroll_repo._lock) for its whole transaction instead. Waiting for it here means
  -- a build still running when the case goes is finished first, and its committed lines
  -- are seen below (the query takes a new snapshot under READ COMMITTED); one starting later
  -- waits for this transaction and no longer finds the case.
  PERFORM pg_advisory_xact_lock(hashtext('payroll:' || OLD.county_code));
  IF EXISTS (SELECT 1 FROM payroll_lines WHERE case_id = OLD.case_id) THEN
    RAISE EXCEPTION 'case % has payroll lines: % of it is not allowed', OLD.case_id, TG_OP
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;
"""

_RUNS_KEPT = """
CREATE FUNCTION payroll_runs_with_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.run_id IS NOT DISTINCT FROM OLD.run_id THEN
    RETURN NEW;
  END IF;
  -- Lines inserted by a transaction still running hold this row key-share locked
  -- (payroll_lines_insert_released), so the row lock of this DELETE or UPDATE waited for it.
  IF EXISTS (SELECT 1 FROM payroll_lines WHERE run_id = OLD.run_id) THEN
    RAISE EXCEPTION 'payroll run % has lines: % of it is not allowed', OLD.run_id, TG_OP
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE payroll_lines DROP CONSTRAINT payroll_lines_run_id_fkey")
    op.execute("ALTER TABLE payroll_lines DROP CONSTRAINT payroll_lines_case_id_fkey")
    op.execute("ALTER TABLE payroll_lines DROP COLUMN id")  # its primary key and sequence too
    # The unique index cannot become the primary key in place (USING INDEX refuses an index
    # that already backs a constraint): built once more, as the primary key.
    op.execute(
        "ALTER TABLE payroll_lines DROP CONSTRAINT uq_payroll_lines_run_case, "
        f"ADD CONSTRAINT pk_payroll_lines PRIMARY KEY ({_KEY})"
    )
    op.execute(_INSERT_CHECKED)
    op.execute(_CASES_KEPT)
    op.execute(
        "CREATE TRIGGER cases_payroll_lines BEFORE DELETE OR UPDATE OF case_id ON cases "
        "FOR EACH ROW EXECUTE FUNCTION cases_payroll_lines()"
    )
    op.execute(
        "CREATE TRIGGER cases_payroll_lines_truncate BEFORE TRUNCATE ON cases "
        "FOR EACH STATEMENT EXECUTE FUNCTION cases_payroll_lines()"
    )
    op.execute(_RUNS_KEPT)
    # Named to fire after payroll_runs_released (triggers fire in name order): a released run
    # is refused as released first.
    op.execute(
        "CREATE TRIGGER payroll_runs_with_lines BEFORE DELETE OR UPDATE OF run_id ON payroll_runs "
        "FOR EACH ROW EXECUTE FUNCTION payroll_runs_with_lines()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER payroll_runs_with_lines ON payroll_runs")
    op.execute("DROP FUNCTION payroll_runs_with_lines()")
    op.execute("DROP TRIGGER cases_payroll_lines_truncate ON cases")
    op.execute("DROP TRIGGER cases_payroll_lines ON cases")
    op.execute("DROP FUNCTION cases_payroll_lines()")
    op.execute(_INSERT_RELEASED_0007)
    op.execute(
        "ALTER TABLE payroll_lines DROP CONSTRAINT pk_payroll_lines, "
        f"ADD CONSTRAINT uq_payroll_lines_run_case UNIQUE ({_KEY})"
    )
    op.execute("ALTER TABLE payroll_lines ADD COLUMN id bigserial PRIMARY KEY")
    op.execute(
        "ALTER TABLE payroll_lines ADD CONSTRAINT payroll_lines_run_id_fkey "
        "FOREIGN KEY (run_id) REFERENCES payroll_runs (run_id)"
    )
    op.execute(
        "ALTER TABLE payroll_lines ADD CONSTRAINT payroll_lines_case_id_fkey "
        "FOREIGN KEY (case_id) REFERENCES cases (case_id)"
    )
