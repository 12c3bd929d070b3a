"""the caseworkers' console: browser sessions (idle and absolute expiry) and 行政区划 names

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None

# The example county of examples/ and tests/auth.py; other places are loaded from CSV
# (`dibao region load`).
SEED = [
    ("610423", "示例县", "county", None),
    ("610423100", "示例镇", "township", "610423"),
    ("610423101", "示例乡", "township", "610423"),
    ("610423100201", "示例村", "village", "610423100"),
    ("610423100202", "示例二村", "village", "610423100"),
]


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("users.user_id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_console_sessions_sha256"),
        sa.CheckConstraint("expires_at > issued_at", name="ck_console_sessions_lifetime"),
        sa.CheckConstraint("last_seen_at >= issued_at", name="ck_console_sessions_seen"),
    )
    regions = op.create_table(
        "regions",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column(
            "parent_code",
            sa.String(12),
            sa.ForeignKey("regions.code", ondelete="RESTRICT"),
            index=True,
        ),
        sa.CheckConstraint("code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})$'", name="ck_regions_code"),
        sa.CheckConstraint(
            "(level = 'county' AND length(code) = 6 AND parent_code IS NULL)"
            " OR (level = 'township' AND length(code) = 9 AND parent_code = left(code, 6))"
            " OR (level = 'village' AND length(code) = 12 AND parent_code = left(code, 9))",
            name="ck_regions_level_parent",
        ),
        sa.CheckConstraint("length(name) > 0", name="ck_regions_name"),
    )
    op.bulk_insert(
        regions,
        [{"code": c, "name": n, "level": lv, "parent_code": p} for c, n, lv, p in SEED],
    )
    # The console's inbox: open cases waiting for a role in a place, soonest due first, paged
    # by (due, case ID); one index per level a jurisdiction can have.
    for level in ("county", "township", "village"):
        op.create_index(
            f"ix_cases_inbox_{level}",
            "cases",
            [
                "waiting_role",
                f"{level}_code",
                sa.text("coalesce(due_at, 'infinity'::timestamptz)"),
                "case_id",
            ],
            postgresql_where=sa.text("closed_at IS NULL"),
            # The counts per stage and the recusal test are answered from the index alone.
            postgresql_include=["stage", "recused_staff"],
        )

    # Supervision and audit have no moves of their own: their inbox is every open case of the
    # county or township they work in, in the same order.
    for level in ("county", "township"):
        op.create_index(
            f"ix_cases_open_{level}_due",
            "cases",
            [
                f"{level}_code",
                sa.text("coalesce(due_at, 'infinity'::timestamptz)"),
                "case_id",
            ],
            postgresql_where=sa.text("closed_at IS NULL"),
            postgresql_include=["stage", "recused_staff"],
        )


def downgrade() -> None:
    for level in ("county", "township"):
        op.drop_index(f"ix_cases_open_{level}_due", table_name="cases")
    for level in ("county", "township", "village"):
        op.drop_index(f"ix_cases_inbox_{level}", table_name="cases")
    op.drop_table("regions")
    op.drop_table("console_sessions")
