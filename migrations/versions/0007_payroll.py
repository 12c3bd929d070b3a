"""payroll: runs per county and period (花名册, bank file) and the lines they book

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payroll_runs",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("maker", sa.String(100), nullable=False),
        sa.Column("checker", sa.String(100)),
        sa.Column("built_at", TS, nullable=False),
        sa.Column("released_at", TS),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("bank_file", sa.Text, nullable=False),
        sa.Column("bank_file_sha256", sa.String(64), nullable=False),
        sa.Column("roster_html", sa.Text, nullable=False),
        sa.UniqueConstraint("county_code", "period", name="uq_payroll_runs_county_period"),
        sa.CheckConstraint("status IN ('draft', 'released')", name="ck_payroll_runs_status"),
        sa.CheckConstraint(
            "status = 'draft' OR (checker IS NOT NULL AND released_at IS NOT NULL)",
            name="ck_payroll_runs_released",
        ),
        # 制表人 and 审核人 are two people, whatever code writes the row.
        sa.CheckConstraint("checker IS NULL OR checker <> maker", name="ck_payroll_runs_four_eyes"),
        sa.CheckConstraint(
            "period ~ '^[0-9]{4}-((0[1-9]|1[0-2])|Q[1-4])$'", name="ck_payroll_runs_period"
        ),
    )
    op.create_table(
        "payroll_lines",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, sa.ForeignKey("payroll_runs.run_id"), nullable=False),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("run_id", "case_id", "month", "kind", name="uq_payroll_lines_run_case"),
        sa.CheckConstraint(
            "kind IN ('regular', 'arrears', 'recovery')", name="ck_payroll_lines_kind"
        ),
        sa.CheckConstraint(
            "(kind = 'recovery') = (amount_fen < 0) AND amount_fen <> 0",
            name="ck_payroll_lines_sign",
        ),
        sa.CheckConstraint("month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="ck_payroll_lines_month"),
    )
    op.create_index("ix_payroll_lines_case_month", "payroll_lines", ["case_id", "month"])
    # What was paid is the sum of released lines: a released run and its lines never change,
    # whatever code runs against the database. A draft may still be changed or deleted.
    op.execute(
        """
        CREATE FUNCTION payroll_released_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            RAISE EXCEPTION '% of % is not allowed: released payroll runs are immutable',
              TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF TG_TABLE_NAME = 'payroll_runs' THEN
            IF OLD.status = 'released' THEN
              RAISE EXCEPTION 'payroll run % is released: % is not allowed', OLD.run_id, TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END IF;
          ELSE
            IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
                SELECT 1 FROM payroll_runs WHERE run_id = OLD.run_id AND status = 'released') THEN
              RAISE EXCEPTION 'payroll run % is released: % of its lines is not allowed',
                OLD.run_id, TG_OP USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'UPDATE' AND EXISTS (
                SELECT 1 FROM payroll_runs WHERE run_id = NEW.run_id AND status = 'released') THEN
              RAISE EXCEPTION 'payroll run % is released: % of its lines is not allowed',
                NEW.run_id, TG_OP USING ERRCODE = 'insufficient_privilege';
            END IF;
          END IF;
          IF TG_OP = 'DELETE' THEN
            RETURN OLD;
          END IF;
          RETURN NEW;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER payroll_runs_released BEFORE UPDATE OR DELETE ON payroll_runs "
        "FOR EACH ROW EXECUTE FUNCTION payroll_released_immutable()"
    )
    op.execute(
        "CREATE TRIGGER payroll_lines_released BEFORE UPDATE OR DELETE ON payroll_lines "
        "FOR EACH ROW EXECUTE FUNCTION payroll_released_immutable()"
    )
    # Inserts are checked once per statement: a county's run inserts 100,000+ lines at once.
    op.execute(
        """
        CREATE FUNCTION payroll_lines_insert_released() RETURNS trigger LANGUAGE plpgsql AS $$
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
    )
    op.execute(
        "CREATE TRIGGER payroll_lines_insert_released AFTER INSERT ON payroll_lines "
        "REFERENCING NEW TABLE AS inserted "
        "FOR EACH STATEMENT EXECUTE FUNCTION payroll_lines_insert_released()"
    )
    for table in ("payroll_runs", "payroll_lines"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION payroll_released_immutable()"
        )


def downgrade() -> None:
    op.drop_table("payroll_lines")
    op.drop_table("payroll_runs")
    op.execute("DROP FUNCTION IF EXISTS payroll_lines_insert_released()")
    op.execute("DROP FUNCTION IF EXISTS payroll_released_immutable()")
