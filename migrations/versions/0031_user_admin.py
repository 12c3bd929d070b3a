"""county user administrators: the user_admin role, one-time passwords and the user audit log

Revision ID: 0031
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# The same text as dibao.db.auth_models; repeated so this migration never changes with them.
ROLE_CHECK = (
    "role IN ('village_caseworker', 'township_caseworker', 'county_approver', 'supervisor', "
    "'auditor', 'ops', 'user_admin')"
)
ROLE_LEVEL_CHECK = (
    "(role = 'village_caseworker' AND length(jurisdiction_code) = 12)"
    " OR (role = 'township_caseworker' AND length(jurisdiction_code) = 9)"
    " OR (role IN ('county_approver', 'ops', 'user_admin') AND length(jurisdiction_code) = 6)"
    " OR (role IN ('supervisor', 'auditor') AND length(jurisdiction_code) IN (6, 9))"
)
# As 0010 created them, for the downgrade.
OLD_ROLE_CHECK = (
    "role IN ('village_caseworker', 'township_caseworker', 'county_approver', 'supervisor', "
    "'auditor', 'ops')"
)
OLD_ROLE_LEVEL_CHECK = (
    "(role = 'village_caseworker' AND length(jurisdiction_code) = 12)"
    " OR (role = 'township_caseworker' AND length(jurisdiction_code) = 9)"
    " OR (role IN ('county_approver', 'ops') AND length(jurisdiction_code) = 6)"
    " OR (role IN ('supervisor', 'auditor') AND length(jurisdiction_code) IN (6, 9))"
)
USER_AUDIT_ACTIONS = (
    "action IN ('add_user', 'change_user', 'disable_user', 'enable_user', "
    "'issue_one_time_password', 'change_own_password')"
)


def upgrade() -> None:
    op.drop_constraint("ck_users_role", "users", type_="check")
    op.drop_constraint("ck_users_role_level", "users", type_="check")
    op.create_check_constraint("ck_users_role", "users", ROLE_CHECK)
    op.create_check_constraint("ck_users_role_level", "users", ROLE_LEVEL_CHECK)
    # Set with a one-time password: the user must choose their own before anything else.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "user_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column(
            "subject_id",
            sa.String(64),
            sa.ForeignKey("users.user_id", ondelete="RESTRICT"),
            nullable=False,
        ),
        # What changed, never a password or its hash.
        sa.Column("detail", sa.dialects.postgresql.JSONB, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(USER_AUDIT_ACTIONS, name="ck_user_audit_action"),
        # One form sent twice (a double click, a reload) changes and records once.
        sa.UniqueConstraint("actor_id", "request_id", name="uq_user_audit_request"),
    )
    op.create_index("ix_user_audit_subject", "user_audit", ["subject_id", "id"])
    op.execute(
        """
        CREATE FUNCTION user_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% of user_audit is not allowed: the record is append-only', TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER user_audit_append_only BEFORE UPDATE OR DELETE ON user_audit "
        "FOR EACH ROW EXECUTE FUNCTION user_audit_append_only()"
    )
    # The administrator's list of a county's users, paged by user ID.
    op.create_index(
        "ix_users_county_user", "users", [sa.text("left(jurisdiction_code, 6)"), "user_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_users_county_user", table_name="users")
    op.execute("DROP TRIGGER IF EXISTS user_audit_append_only ON user_audit")
    op.execute("DROP FUNCTION IF EXISTS user_audit_append_only()")
    op.drop_table("user_audit")
    op.drop_column("users", "must_change_password")
    op.drop_constraint("ck_users_role", "users", type_="check")
    op.drop_constraint("ck_users_role_level", "users", type_="check")
    op.create_check_constraint("ck_users_role", "users", OLD_ROLE_CHECK)
    op.create_check_constraint("ck_users_role_level", "users", OLD_ROLE_LEVEL_CHECK)
