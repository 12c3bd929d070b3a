"""complaints and reports (举报、投诉、信访; mca-2021 Arts. 36–37; 000 篇3, 003)

Tables complaints and complaint_events, and the parameter complaint_working_days in a new
version of each built-in pack stored before it existed (a fresh database's first versions have
it already).

Revision ID: 0036
Revises: 0028
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0036"
down_revision = "0034"
branch_labels = None
depends_on = None

# Literal: later edits of the built-ins do not change them (dibao/domain/rulepacks.py).
NEW_PARAMS = {
    "seed-default": '{"complaint_working_days": 20}',
    "training-seed-default": '{"complaint_working_days": 20}',
    "mca-2021": '{"complaint_working_days": 20}',
}
OPEN = "status IN ('received', 'assigned', 'investigating')"


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(24), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id")),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("township_code", sa.String(9)),
        sa.Column("village_code", sa.String(12)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("complainant_name", sa.String(50)),
        sa.Column("complainant_contact", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assigned_level", sa.String(20)),
        sa.Column("finding", sa.String(20)),
        sa.Column("investigation", sa.Text),
        sa.Column("follow_up", sa.String(20)),
        sa.Column("answer_content", sa.Text),
        sa.Column("answer_sha256", sa.String(64)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("received_by", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_warning", sa.Text),
        sa.Column("rule_pack_id", sa.String(40), nullable=False),
        sa.Column("rule_pack_version", sa.Integer, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('received', 'assigned', 'investigating', 'answered', 'closed')",
            name="ck_complaints_status",
        ),
        sa.CheckConstraint("kind IN ('case', 'recipient', 'general')", name="ck_complaints_kind"),
        sa.CheckConstraint("channel IN ('real_name', 'anonymous')", name="ck_complaints_channel"),
        sa.CheckConstraint(
            "(kind = 'general') = (case_id IS NULL)", name="ck_complaints_case_of_kind"
        ),
        sa.CheckConstraint(
            "(channel = 'real_name') = (complainant_name IS NOT NULL "
            "AND complainant_contact IS NOT NULL)",
            name="ck_complaints_complainant",
        ),
        sa.CheckConstraint(
            "channel = 'anonymous' OR status <> 'closed' OR answer_sha256 IS NOT NULL",
            name="ck_complaints_real_name_answered",
        ),
    )
    op.create_index(
        "ix_complaints_county_received",
        "complaints",
        ["county_code", sa.text("received_at DESC"), "complaint_id"],
    )
    op.create_index(
        "ix_complaints_received", "complaints", [sa.text("received_at DESC"), "complaint_id"]
    )
    op.create_index("ix_complaints_case", "complaints", ["case_id"])
    op.create_index(
        "ix_complaints_open_due", "complaints", ["due_at"], postgresql_where=sa.text(OPEN)
    )
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "complaint_id",
            sa.String(24),
            sa.ForeignKey("complaints.complaint_id"),
            nullable=False,
        ),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("detail", postgresql.JSONB, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("complaint_id", "request_id", name="uq_complaint_events_request"),
    )
    op.create_index("ix_complaint_events_complaint", "complaint_events", ["complaint_id", "id"])
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
                  AND r.params -> 'complaint_working_days' IS NULL
                """
            ).bindparams(id=pack_id, params=params)
        )


def downgrade() -> None:
    op.drop_table("complaint_events")
    op.drop_table("complaints")
    # rule_packs refuses DELETE (versions are permanent); a downgrade leaves the versions.
