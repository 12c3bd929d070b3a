"""payee agents (代领人) on recorded accounts; the whole procedure's limit on the case

Rule packs stored before their parameters `whole_procedure_extended_working_days` and
`township_review_from_receipt` existed get a new version carrying them (the latest version of
each built-in pack, where it lacks them; a fresh database's first versions have them already).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


# The parameters a pack stored without them gets, by pack id (rulepacks.py: SEED_DEFAULT,
# TRAINING_SEED_DEFAULT, MCA_2021). Literal: later edits of the built-ins do not change them.
NEW_PARAMS = {
    "seed-default": '{"whole_procedure_extended_working_days": null, '
    '"township_review_from_receipt": true}',
    "training-seed-default": '{"whole_procedure_extended_working_days": null, '
    '"township_review_from_receipt": true}',
    "mca-2021": '{"whole_procedure_extended_working_days": 45, '
    '"township_review_from_receipt": false}',
}


def upgrade() -> None:
    op.add_column("cases", sa.Column("procedure_due_at", sa.DateTime(timezone=True)))
    op.add_column("cases", sa.Column("procedure_overdue_since", sa.DateTime(timezone=True)))
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
                  AND r.params -> 'township_review_from_receipt' IS NULL
                """
            ).bindparams(id=pack_id, params=params)
        )
    # payee_accounts is append-only (a trigger refuses UPDATE): adding columns with defaults
    # rewrites no row; accounts recorded before were all members' (no agent).
    op.add_column(
        "payee_accounts",
        sa.Column("agent", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.add_column(
        "payee_accounts",
        sa.Column("agent_reason", sa.Text, nullable=False, server_default=sa.text("''")),
    )
    op.create_check_constraint(
        "ck_payee_accounts_agent_reason",
        "payee_accounts",
        "agent = (btrim(agent_reason) <> '')",
    )


def downgrade() -> None:
    # rule_packs refuses DELETE (versions are permanent); a downgrade leaves the versions.
    op.drop_column("cases", "procedure_overdue_since")
    op.drop_column("cases", "procedure_due_at")
    op.drop_constraint("ck_payee_accounts_agent_reason", "payee_accounts", type_="check")
    op.drop_column("payee_accounts", "agent_reason")
    op.drop_column("payee_accounts", "agent")
