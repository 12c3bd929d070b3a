"""users and bearer tokens (authentication, issue 6)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The same text as dibao.db.auth_models; repeated so this migration never changes with them.
USER_ID_CHECK = "user_id ~ '^[a-z0-9][a-z0-9._-]{1,63}$'"
ROLE_CHECK = (
    "role IN ('village_caseworker', 'township_caseworker', 'county_approver', 'supervisor', "
    "'auditor', 'ops')"
)
JURISDICTION_CHECK = "jurisdiction_code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})$'"
ROLE_LEVEL_CHECK = (
    "(role = 'village_caseworker' AND length(jurisdiction_code) = 12)"
    " OR (role = 'township_caseworker' AND length(jurisdiction_code) = 9)"
    " OR (role IN ('county_approver', 'ops') AND length(jurisdiction_code) = 6)"
    " OR (role IN ('supervisor', 'auditor') AND length(jurisdiction_code) IN (6, 9))"
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("jurisdiction_code", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(USER_ID_CHECK, name="ck_users_user_id"),
        sa.CheckConstraint(ROLE_CHECK, name="ck_users_role"),
        sa.CheckConstraint(JURISDICTION_CHECK, name="ck_users_jurisdiction"),
        sa.CheckConstraint(ROLE_LEVEL_CHECK, name="ck_users_role_level"),
        sa.CheckConstraint("length(display_name) > 0", name="ck_users_display_name"),
        sa.CheckConstraint("password_hash LIKE '$argon2id$%'", name="ck_users_password_hash"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("users.user_id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("token_sha256 ~ '^[0-9a-f]{64}$'", name="ck_api_tokens_sha256"),
        sa.CheckConstraint("expires_at > issued_at", name="ck_api_tokens_lifetime"),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= issued_at", name="ck_api_tokens_revoked"
        ),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("users")
