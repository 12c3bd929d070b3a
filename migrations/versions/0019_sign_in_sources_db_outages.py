"""wrong passwords lock a user from one source only; database outages seen by workers

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A lock-out per (user, source): wrong passwords sent from one address no longer lock the
    # user out everywhere. The per-user columns go; a lock in force when this runs lapses.
    op.create_table(
        "sign_in_failures",
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("users.user_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("failed_sign_ins >= 0", name="ck_sign_in_failures_count"),
        sa.CheckConstraint("length(source) > 0", name="ck_sign_in_failures_source"),
    )
    op.drop_constraint("ck_users_failed_sign_ins", "users", type_="check")
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_sign_ins")

    # What a worker could not write while PostgreSQL was unreachable, written once it is back:
    # the only trace of an outage besides the worker's log.
    op.create_table(
        "db_outages",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unrecorded_failures", sa.Integer, nullable=False),
        sa.Column("activity_types", sa.Text, nullable=False),
        sa.CheckConstraint("last_seen_at >= first_seen_at", name="ck_db_outages_span"),
        sa.CheckConstraint("unrecorded_failures >= 0", name="ck_db_outages_count"),
    )
    op.create_index("ix_db_outages_last_seen_at", "db_outages", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_db_outages_last_seen_at", "db_outages")
    op.drop_table("db_outages")
    op.add_column(
        "users",
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("ck_users_failed_sign_ins", "users", "failed_sign_ins >= 0")
    op.drop_table("sign_in_failures")
