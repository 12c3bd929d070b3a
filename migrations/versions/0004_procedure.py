"""procedure: postings, objections, spot checks, certificates, entitlement changes, staff relatives

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("cases", sa.Column("recused_staff", sa.Text))
    op.create_table(
        "postings",
        sa.Column("posting_id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("township_code", sa.String(9), nullable=False),
        sa.Column("head_name", sa.String(50), nullable=False),
        sa.Column("household_size", sa.Integer, nullable=False),
        sa.Column("category", sa.String(10), nullable=False),
        sa.Column("monthly_amount_fen", sa.BigInteger, nullable=False),
        sa.Column("opens_at", TS, nullable=False),
        sa.Column("closes_at", TS, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("closed_at", TS),
        sa.UniqueConstraint("case_id", "step_key", name="uq_postings_case_step"),
        sa.CheckConstraint(
            "outcome IN ('open', 'completed', 'interrupted', 'cancelled')",
            name="ck_postings_outcome",
        ),
    )
    op.create_index("ix_postings_village_code", "postings", ["village_code"])
    op.create_table(
        "objections",
        sa.Column("objection_id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("objector_name", sa.String(50), nullable=False),
        sa.Column("objector_contact", sa.String(100), nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False),
        sa.Column("received_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "spot_checks",
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seed", sa.String(100), nullable=False),
        sa.Column("draw", sa.Float, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("selected", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_spot_checks_county_year", "spot_checks", ["county_code", "year"])
    op.create_table(
        "certificates",
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
        sa.Column("certificate_no", sa.String(30), nullable=False, unique=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.UniqueConstraint("county_code", "year", "seq", name="uq_certificates_seq"),
    )
    op.create_table(
        "entitlement_changes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("certificate_no", sa.String(30), nullable=False),
        sa.Column("effective_month", sa.String(7), nullable=False),
        sa.Column("monthly_amount_fen", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.UniqueConstraint("case_id", "step_key", name="uq_entitlements_case_step"),
        sa.CheckConstraint("monthly_amount_fen >= 0", name="ck_entitlements_amount"),
        sa.CheckConstraint(
            "effective_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="ck_entitlements_month"
        ),
    )
    op.create_index("ix_entitlement_changes_case", "entitlement_changes", ["case_id"])
    # Changes are appended: an amount is never rewritten in place (issue 4 builds the ledger).
    op.execute(
        "CREATE TRIGGER entitlement_changes_no_change BEFORE UPDATE OR DELETE ON "
        "entitlement_changes FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.create_table(
        "staff_relatives",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("staff_id", sa.String(100), nullable=False),
        sa.Column("staff_role", sa.String(40), nullable=False),
        sa.Column("relative_name", sa.String(50), nullable=False),
        sa.Column("relative_id_number", sa.String(18), nullable=False),
        sa.Column("relation", sa.String(40), nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
        sa.Column("registered_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("staff_id", "relative_id_number", name="uq_staff_relative"),
    )
    op.create_index("ix_staff_relatives_staff_id", "staff_relatives", ["staff_id"])
    op.create_index(
        "ix_staff_relatives_relative_id_number", "staff_relatives", ["relative_id_number"]
    )


def downgrade() -> None:
    op.drop_table("staff_relatives")
    op.execute("DROP TRIGGER IF EXISTS entitlement_changes_no_change ON entitlement_changes")
    op.drop_table("entitlement_changes")
    op.drop_table("certificates")
    op.drop_table("spot_checks")
    op.drop_table("objections")
    op.drop_table("postings")
    op.drop_column("cases", "recused_staff")
