"""county standards (低保标准) as dated data: a standard per county and area type from a month

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Every county without a standard of its own: the seed documents' figures (001 篇七), which
# the built-in rule packs carried until now, in force since the earliest month the packs take.
ALL_COUNTIES = "000000"
SEED_ROWS = [
    {
        "county_code": ALL_COUNTIES,
        "area_type": "urban",
        "from_month": "2020-01",
        "amount_fen": 53_000,  # 530 元 per person per month
        "source": "seed",
        "recorded_by": "migration 0016",
    },
    {
        "county_code": ALL_COUNTIES,
        "area_type": "rural",
        "from_month": "2020-01",
        "amount_fen": 371_000,  # 3710 元 per person per year
        "source": "seed",
        "recorded_by": "migration 0016",
    },
]


def upgrade() -> None:
    table = op.create_table(
        "county_standards",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("county_code", sa.CHAR(6), nullable=False),
        sa.Column("area_type", sa.String(10), nullable=False),
        sa.Column("from_month", sa.String(7), nullable=False),
        # Urban: per person per month; rural: per person per year (as the standards are set).
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        # What set it: "seed", or the standard change's batch ID (one row per batch and area).
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "county_code", "area_type", "source", name="uq_county_standards_source"
        ),
        sa.CheckConstraint("county_code ~ '^[0-9]{6}$'", name="ck_county_standards_county"),
        sa.CheckConstraint("area_type IN ('urban', 'rural')", name="ck_county_standards_area"),
        sa.CheckConstraint(
            "from_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' AND from_month >= '2000-01'",
            name="ck_county_standards_from_month",
        ),
        sa.CheckConstraint("amount_fen > 0", name="ck_county_standards_amount"),
    )
    op.create_index(
        "ix_county_standards_lookup",
        "county_standards",
        ["county_code", "area_type", "from_month", "id"],
    )
    # A standard that was in force is evidence for every amount computed on it: rows are
    # appended (a correction is a new row), never changed.
    op.execute(
        """
        CREATE FUNCTION county_standards_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% of county_standards is not allowed: the record is append-only',
                TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER county_standards_append_only BEFORE UPDATE OR DELETE ON county_standards "
        "FOR EACH ROW EXECUTE FUNCTION county_standards_append_only()"
    )
    op.bulk_insert(table, SEED_ROWS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS county_standards_append_only ON county_standards")
    op.execute("DROP FUNCTION IF EXISTS county_standards_append_only()")
    op.drop_index("ix_county_standards_lookup", table_name="county_standards")
    op.drop_table("county_standards")
