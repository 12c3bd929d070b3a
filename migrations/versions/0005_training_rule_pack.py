"""training rule pack: the seed procedure with 60-second postings, for staff practice

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dibao.domain.rulepacks import TRAINING_SEED_DEFAULT

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


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
                "id": TRAINING_SEED_DEFAULT.id,
                "version": 1,
                "title": TRAINING_SEED_DEFAULT.title,
                "params": TRAINING_SEED_DEFAULT.to_params(),
                "created_by": "system",
            }
        ],
    )


def downgrade() -> None:
    # rule_packs refuses DELETE (versions are permanent); a downgrade leaves the row.
    pass
