"""the rest of the law (issue 17): income deductions, 单人保, remedies, 渐退, where one applies

Rule packs stored before the parameters of mca-2021 Arts. 2, 5, 8, 13, 18, 33 and 38 existed
get a new version carrying them (the latest version of each built-in pack, where it lacks them;
a fresh database's first versions have them already). Cases filed before keep their pinned
version, which decides as before (the parameters' defaults are the old behaviour).

Revision ID: 0028
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


# By pack id (rulepacks.py: SEED_DEFAULT, TRAINING_SEED_DEFAULT, MCA_2021). Literal: later
# edits of the built-ins do not change them.
NEW_PARAMS = {
    "seed-default": '{"employment_cost_fen_month": 0, "employment_cost_share": 0.0, "rigid_expenses_deducted": false, "resident_pension_counted": true, "pension_excludes": true, "support_rule": "agreed", "support_share": 0.0, "support_base_multiplier": 1.0, "single_person_coverage": false, "single_person_multiplier": 1.5, "review_body": "县（市、区）人民政府", "review_days": 60, "litigation_court": "有管辖权的人民法院", "litigation_months": 6, "gradual_exit_reminder_days": 30, "residence_permit_applications": false, "approval_delegated": false, "evidence_working_days": 5}',
    "training-seed-default": '{"employment_cost_fen_month": 0, "employment_cost_share": 0.0, "rigid_expenses_deducted": false, "resident_pension_counted": true, "pension_excludes": true, "support_rule": "agreed", "support_share": 0.0, "support_base_multiplier": 1.0, "single_person_coverage": false, "single_person_multiplier": 1.5, "review_body": "县（市、区）人民政府", "review_days": 60, "litigation_court": "有管辖权的人民法院", "litigation_months": 6, "gradual_exit_reminder_days": 30, "residence_permit_applications": false, "approval_delegated": false, "evidence_working_days": 5}',
    "mca-2021": '{"employment_cost_fen_month": 0, "employment_cost_share": 0.2, "rigid_expenses_deducted": true, "resident_pension_counted": false, "pension_excludes": false, "support_rule": "agreed", "support_share": 0.0, "support_base_multiplier": 1.0, "single_person_coverage": true, "single_person_multiplier": 1.5, "review_body": "县（市、区）人民政府", "review_days": 60, "litigation_court": "有管辖权的人民法院", "litigation_months": 6, "gradual_exit_reminder_days": 30, "residence_permit_applications": false, "approval_delegated": false, "evidence_working_days": 5}',
}


def upgrade() -> None:
    for pack_id, params in NEW_PARAMS.items():
        op.execute(
            sa.text(
                """
                INSERT INTO rule_packs (id, version, title, params, created_by)
                SELECT r.id, r.version + 1, r.title,
                       jsonb_set(r.params, '{version}', to_jsonb(r.version + 1))
                           || CAST(:params AS jsonb),
                       'system'
                FROM rule_packs r
                WHERE r.id = :id
                  AND r.version = (SELECT max(version) FROM rule_packs WHERE id = :id)
                  AND r.params -> 'single_person_coverage' IS NULL
                """
            ).bindparams(id=pack_id, params=params)
        )


def downgrade() -> None:
    # rule_packs refuses DELETE (versions are permanent); a downgrade leaves the versions.
    pass
