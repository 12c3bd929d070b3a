"""office-maintained holiday calendar; rule packs as versioned data, assigned per county

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# Version 1 of the built-in packs, as literal rows: a later edit of dibao.domain.rulepacks must
# come with a migration publishing a new version, never change what a fresh database starts
# from. (These are the parameters a fresh database got on 2026-12-01, when the seeds were
# frozen; databases created before then started from the fewer fields of the time.)
SEED_DEFAULT_V1 = {
    "id": "seed-default",
    "version": 1,
    "title": "三级会审、三榜公示（种子文件默认程序）",
    "procedure": [
        "survey",
        "verification",
        "evaluation",
        "posting_before_review",
        "township_review",
        "posting_before_approval",
        "county_approval",
        "posting_after_approval",
    ],
    "posting_days": 7,
    "survey_working_days": 20,
    "verification_working_days": None,
    "township_review_working_days": 20,
    "county_approval_working_days": 20,
    "refusal_notice_working_days": 3,
    "whole_procedure_working_days": None,
    "evaluation_quorum": 20,
    "evaluation_only_on_objection": False,
    "objection_stage": "survey",
    "spot_check_share": 0.2,
    "urban_standard_fen_month": 53000,
    "rural_standard_fen_year": 371000,
    "amount_method": "difference",
    "tier_shares": [["A", 1.0], ["B", 0.7], ["C", 0.4]],
    "deposit_limit_fen": 2000000,
    "payment_start": "approval_month",
    "gradual_exit_months": 3,
    "posting_seconds": None,
    "work_refusals_to_stop_portion": None,
    "review_months": [["A", 12], ["B", 6], ["C", 3]],
    "amount_rounding": "half_up",
    "earliest_month": "2020-01",
    "months_ahead": 24,
    "standard_min_fen_month": 10000,
    "standard_max_fen_month": 1000000,
    "whole_procedure_extended_working_days": None,
    "township_review_from_receipt": True,
    "employment_cost_fen_month": 0,
    "employment_cost_share": 0.0,
    "rigid_expenses_deducted": False,
    "resident_pension_counted": True,
    "pension_excludes": True,
    "support_rule": "agreed",
    "support_share": 0.0,
    "support_base_multiplier": 1.0,
    "single_person_coverage": False,
    "single_person_multiplier": 1.5,
    "review_body": "县（市、区）人民政府",
    "review_days": 60,
    "litigation_court": "有管辖权的人民法院",
    "litigation_months": 6,
    "gradual_exit_reminder_days": 30,
    "residence_permit_applications": False,
    "approval_delegated": False,
    "evidence_working_days": 5,
    "complaint_working_days": 20,
}

MCA_2021_V1 = {
    "id": "mca-2021",
    "version": 1,
    "title": "民政部《最低生活保障审核确认办法》（2021）",
    "procedure": [
        "survey",
        "verification",
        "township_review",
        "posting_before_approval",
        "county_approval",
        "posting_after_approval",
    ],
    "posting_days": 7,
    "survey_working_days": 3,
    "verification_working_days": 3,
    "township_review_working_days": 20,
    "county_approval_working_days": 10,
    "refusal_notice_working_days": 3,
    "whole_procedure_working_days": 30,
    "evaluation_quorum": 20,
    "evaluation_only_on_objection": True,
    "objection_stage": "evaluation",
    "spot_check_share": 0.2,
    "urban_standard_fen_month": 53000,
    "rural_standard_fen_year": 371000,
    "amount_method": "difference",
    "tier_shares": [["A", 1.0], ["B", 0.7], ["C", 0.4]],
    "deposit_limit_fen": 2000000,
    "payment_start": "next_month",
    "gradual_exit_months": 3,
    "posting_seconds": None,
    "work_refusals_to_stop_portion": 3,
    "review_months": [["A", 12], ["B", 12], ["C", 6]],
    "amount_rounding": "half_up",
    "earliest_month": "2020-01",
    "months_ahead": 24,
    "standard_min_fen_month": 10000,
    "standard_max_fen_month": 1000000,
    "whole_procedure_extended_working_days": 45,
    "township_review_from_receipt": False,
    "employment_cost_fen_month": 0,
    "employment_cost_share": 0.2,
    "rigid_expenses_deducted": True,
    "resident_pension_counted": False,
    "pension_excludes": False,
    "support_rule": "agreed",
    "support_share": 0.0,
    "support_base_multiplier": 1.0,
    "single_person_coverage": True,
    "single_person_multiplier": 1.5,
    "review_body": "县（市、区）人民政府",
    "review_days": 60,
    "litigation_court": "有管辖权的人民法院",
    "litigation_months": 6,
    "gradual_exit_reminder_days": 30,
    "residence_permit_applications": False,
    "approval_delegated": False,
    "evidence_working_days": 5,
    "complaint_working_days": 20,
}


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )

    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("is_working_day", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )

    rule_packs = op.create_table(
        "rule_packs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("params", postgresql.JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name="pk_rule_packs"),
        sa.CheckConstraint("version >= 1", name="ck_rule_packs_version"),
        sa.CheckConstraint("id ~ '^[a-z0-9][a-z0-9-]*$'", name="ck_rule_packs_id"),
        sa.CheckConstraint(
            "params->>'id' = id AND params->>'version' = version::text "
            "AND params->>'title' = title",
            name="ck_rule_packs_params_match",
        ),
    )
    # Rule packs are append-only like the audit log: a case pins (id, version), so a stored
    # version changed in place would change the rules of cases already running.
    op.execute(
        """
        CREATE FUNCTION rule_packs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'rule_packs is append-only: publish a new version instead of %', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER rule_packs_no_change BEFORE UPDATE OR DELETE ON rule_packs "
        "FOR EACH ROW EXECUTE FUNCTION rule_packs_append_only()"
    )
    op.execute(
        "CREATE TRIGGER rule_packs_no_truncate BEFORE TRUNCATE ON rule_packs "
        "FOR EACH STATEMENT EXECUTE FUNCTION rule_packs_append_only()"
    )
    # Cases filed before this migration pinned the built-in packs at version 1; these rows are
    # those very parameters, so such cases read the same rules from the table.
    op.bulk_insert(
        rule_packs,
        [
            {
                "id": params["id"],
                "version": 1,
                "title": params["title"],
                "params": params,
                "created_by": "system",
            }
            for params in (SEED_DEFAULT_V1, MCA_2021_V1)
        ],
    )

    op.create_table(
        "county_rule_packs",
        sa.Column("county_code", sa.CHAR(6), primary_key=True),
        sa.Column("pack_id", sa.String(40), nullable=False),
        sa.Column("assigned_by", sa.String(100), nullable=False),
        sa.Column("assigned_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("county_code ~ '^[0-9]{6}$'", name="ck_county_rule_packs_code"),
    )


def downgrade() -> None:
    op.drop_table("county_rule_packs")
    op.drop_table("rule_packs")
    op.execute("DROP FUNCTION IF EXISTS rule_packs_append_only()")
    op.drop_table("calendar_days")
    op.drop_table("calendar_years")
