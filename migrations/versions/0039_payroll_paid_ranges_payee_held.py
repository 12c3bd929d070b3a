"""what each household was paid, as month ranges (payroll_paid_ranges); cases.payee_held

The roster of a period compares what a household is entitled to with what released runs paid
it. Summing every released line of every month made a county's roster read its whole payment
history (a line per household and month). This table holds the same sums as ranges of
consecutive months with one net amount, merged in by a trigger in the transaction that
releases a run, so the roster reads about one row per household. Backfilled from the released
lines.

cases.payee_held: whether the household's payee, as the payroll reads it (the newest account
recorded, else the application's), has no account number or an agent (代领人) without a
reason: kept by triggers on payee_accounts and applications, under a partial index, so the
households held back are found without reading every household's payee (receiving ones:
the index leaves out the closed cases of years past).

Revision ID: 0039
Revises: 0036
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0037"
branch_labels = None
depends_on = None

# Months as integers (year * 12 + month - 1): a range is [from_mi, to_mi].
MI = "left({0}, 4)::int * 12 + right({0}, 2)::int - 1"

# From `events` (case_id, at, d): +d from month `at` on. Summed per point (points where
# nothing changes dropped, so neighbouring ranges always differ), a running sum gives the
# level of each stretch up to the next point; stretches at zero are months with nothing paid.
RANGES = """
points AS (
    SELECT case_id, at, sum(d) AS d FROM events GROUP BY case_id, at HAVING sum(d) <> 0
),
stretches AS (
    SELECT case_id, at AS from_mi, lead(at) OVER w - 1 AS to_mi, sum(d) OVER w AS level
    FROM points
    WINDOW w AS (PARTITION BY case_id ORDER BY at)
)
INSERT INTO payroll_paid_ranges (case_id, from_mi, to_mi, amount_fen)
SELECT case_id, from_mi, to_mi, level FROM stretches WHERE level <> 0 AND to_mi IS NOT NULL
"""


# The payee as payroll_view_repo's held-back list and the roster read it, for the case_ids
# of the trigger's transition table `changed`.
HELD_OF = """
SELECT t.case_id,
       coalesce(pay.account_no, a.payload -> 'payee' ->> 'account_no', '') = ''
       OR (CASE WHEN pay.case_id IS NOT NULL THEN pay.agent
                ELSE coalesce((a.payload -> 'payee' ->> 'agent')::boolean, false) END
           AND btrim(CASE WHEN pay.case_id IS NOT NULL THEN pay.agent_reason
                          ELSE coalesce(a.payload -> 'payee' ->> 'agent_reason', '') END) = '')
       AS held
FROM (SELECT DISTINCT case_id FROM {source}) t
LEFT JOIN LATERAL (
    SELECT p.case_id, p.account_no, p.agent, p.agent_reason FROM payee_accounts p
    WHERE p.case_id = t.case_id ORDER BY p.id DESC LIMIT 1
) pay ON true
LEFT JOIN applications a ON a.case_id = t.case_id
"""


def upgrade() -> None:
    # Without an application or account a household is held (nothing to pay into); filing
    # stores the application in the case's transaction, and its trigger clears the flag.
    op.add_column(
        "cases",
        sa.Column("payee_held", sa.Boolean, nullable=False, server_default=sa.text("true")),
    )
    op.execute(
        f"""
        CREATE FUNCTION cases_payee_held() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE cases c SET payee_held = x.held
          FROM ({HELD_OF.format(source="changed")}) x
          WHERE c.case_id = x.case_id AND c.payee_held IS DISTINCT FROM x.held;
          RETURN NULL;
        END $$;
        """
    )
    for table in ("payee_accounts", "applications"):
        for event, kind in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER {table}_payee_held_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {kind} TABLE AS changed "
                "FOR EACH STATEMENT EXECUTE FUNCTION cases_payee_held()"
            )
    op.execute(
        f"""
        UPDATE cases c SET payee_held = x.held
        FROM ({HELD_OF.format(source="cases")}) x
        WHERE c.case_id = x.case_id
        """
    )
    op.create_index(
        "ix_cases_payee_held",
        "cases",
        ["county_code", "case_id"],
        postgresql_where=sa.text("payee_held AND status = 'receiving'"),
    )
    op.create_table(
        "payroll_paid_ranges",
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("from_mi", sa.Integer, nullable=False),
        sa.Column("to_mi", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "from_mi", name="pk_payroll_paid_ranges"),
        sa.CheckConstraint("to_mi >= from_mi", name="ck_payroll_paid_ranges_order"),
        sa.CheckConstraint("amount_fen <> 0", name="ck_payroll_paid_ranges_amount"),
    )
    op.execute(
        f"""
        CREATE FUNCTION payroll_paid_merge() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          kept payroll_paid_ranges[];
        BEGIN
          -- The run's lines merged into the ranges of its households: their old ranges are
          -- taken out first (a statement may not insert a key it deletes), then rewritten.
          WITH gone AS (
              DELETE FROM payroll_paid_ranges p
              WHERE p.case_id IN (SELECT case_id FROM payroll_lines WHERE run_id = NEW.run_id)
              RETURNING p.*
          )
          SELECT array_agg((case_id, from_mi, to_mi, amount_fen)::payroll_paid_ranges)
          INTO kept FROM gone;
          WITH old AS (
              SELECT * FROM unnest(coalesce(kept, '{{}}'::payroll_paid_ranges[]))
          ),
          events AS (
              SELECT case_id, from_mi AS at, amount_fen AS d FROM old
              UNION ALL SELECT case_id, to_mi + 1, -amount_fen FROM old
              UNION ALL SELECT case_id, {MI.format("month")}, amount_fen::bigint
                        FROM payroll_lines WHERE run_id = NEW.run_id
              UNION ALL SELECT case_id, {MI.format("month")} + 1, -amount_fen::bigint
                        FROM payroll_lines WHERE run_id = NEW.run_id
          ),
          {RANGES};
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER payroll_runs_paid_ranges AFTER UPDATE OF status ON payroll_runs "
        "FOR EACH ROW WHEN (OLD.status = 'draft' AND NEW.status = 'released') "
        "EXECUTE FUNCTION payroll_paid_merge()"
    )
    op.execute(
        f"""
        WITH lines AS (
            SELECT l.case_id, {MI.format("l.month")} AS mi, l.amount_fen::bigint AS amount
            FROM payroll_lines l JOIN payroll_runs r ON r.run_id = l.run_id
            WHERE r.status = 'released'
        ),
        events AS (
            SELECT case_id, mi AS at, amount AS d FROM lines
            UNION ALL SELECT case_id, mi + 1, -amount FROM lines
        ),
        {RANGES}
        """
    )


def downgrade() -> None:
    for table in ("payee_accounts", "applications"):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_payee_held_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS cases_payee_held()")
    op.drop_index("ix_cases_payee_held", table_name="cases")
    op.drop_column("cases", "payee_held")
    op.execute("DROP TRIGGER IF EXISTS payroll_runs_paid_ranges ON payroll_runs")
    op.execute("DROP FUNCTION IF EXISTS payroll_paid_merge()")
    op.drop_table("payroll_paid_ranges")
