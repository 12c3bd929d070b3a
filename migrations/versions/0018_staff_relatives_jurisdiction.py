"""near-relative registrations belong to a jurisdiction

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-01

The registry was readable and writable across counties. Each row now records the jurisdiction
it belongs to: the staff member's own when they are a user, otherwise (a village cadre without
an account) the county of whoever registered them. Rows from before are given the same, from
the users table; a row whose staff member and registrant are both unknown gets '' and is seen
by the staff member alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "staff_relatives",
        sa.Column("jurisdiction_code", sa.String(12), nullable=False, server_default=""),
    )
    op.execute(
        """
        UPDATE staff_relatives r SET jurisdiction_code = coalesce(
            (SELECT u.jurisdiction_code FROM users u WHERE u.user_id = r.staff_id),
            (SELECT left(u.jurisdiction_code, 6) FROM users u WHERE u.user_id = r.registered_by),
            '')
        """
    )
    op.create_check_constraint(
        "ck_staff_relatives_jurisdiction",
        "staff_relatives",
        "jurisdiction_code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12})?$'",
    )
    # Two counties may each register a cadre of the same (account-less) ID.
    op.drop_constraint("uq_staff_relative", "staff_relatives", type_="unique")
    op.create_unique_constraint(
        "uq_staff_relative",
        "staff_relatives",
        ["staff_id", "relative_id_number", "jurisdiction_code"],
    )


def downgrade() -> None:
    op.drop_constraint("uq_staff_relative", "staff_relatives", type_="unique")
    op.execute(
        "DELETE FROM staff_relatives a USING staff_relatives b WHERE a.staff_id = b.staff_id "
        "AND a.relative_id_number = b.relative_id_number AND a.id > b.id"
    )
    op.create_unique_constraint(
        "uq_staff_relative", "staff_relatives", ["staff_id", "relative_id_number"]
    )
    op.drop_constraint("ck_staff_relatives_jurisdiction", "staff_relatives", type_="check")
    op.drop_column("staff_relatives", "jurisdiction_code")
