"""training rule pack: the seed procedure with 60-second postings, for staff practice

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Literal, like the packs of 0003: the training pack as a fresh database starts from it.
TRAINING_SEED_DEFAULT_V1 = {
    "id": "training-seed-default",
    "version": 1,
    "title": "培训演示：三级会审、三榜公示（公示期缩短为60秒）",
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
    "posting_seconds": 60,
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


def upgrade() -> None:
    rule_packs = sa.table(
        "rule_packs",
        sa.column("id", sa.Text),
        sa.column("version", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("params", postgresql.JSONB),
        sa.column("created_by", sa.Text),
    )
    op.bulk_insert(
        rule_packs,
        [
            {
                "id": TRAINING_SEED_DEFAULT_V1["id"],
                "version": 1,
                "title": TRAINING_SEED_DEFAULT_V1["title"],
                "params": TRAINING_SEED_DEFAULT_V1,
                "created_by": "system",
            }
        ],
    )


def downgrade() -> None:
    # rule_packs refuses DELETE (versions are permanent); a downgrade leaves the row.
    pass
