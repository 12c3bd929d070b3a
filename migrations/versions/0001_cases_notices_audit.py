"""cases projection, applications, stage events, notices, append-only audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("head_id_number", sa.String(18), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("stage_seq", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("rule_pack_id", sa.String(40), nullable=False),
        sa.Column("rule_pack_version", sa.Integer, nullable=False),
        sa.Column("area_type", sa.String(10), nullable=False),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("township_code", sa.String(9), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("stage_entered_at", TS, nullable=False),
        sa.Column("due_at", TS),
        sa.Column("due_warning", sa.Text),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("area_type IN ('urban', 'rural')", name="ck_cases_area_type"),
        sa.CheckConstraint(
            "left(village_code, 9) = township_code AND left(township_code, 6) = county_code "
            "AND left(county_code, 2) = province_code",
            name="ck_cases_codes_nested",
        ),
    )
    op.create_index(
        "uq_cases_open_household",
        "cases",
        ["head_id_number"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_cases_township_stage", "cases", ["township_code", "stage"])
    op.create_index("ix_cases_stage_due", "cases", ["stage", "due_at"])
    op.create_index("ix_cases_county", "cases", ["county_code"])

    op.create_table(
        "applications",
        sa.Column(
            "case_id",
            sa.String(32),
            sa.ForeignKey("cases.case_id", ondelete="RESTRICT"),
            primary_key=True,
        ),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.Column("filed_by", sa.String(100), nullable=False),
        sa.Column("filed_role", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )

    op.create_table(
        "stage_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("due_at", TS),
        sa.UniqueConstraint("case_id", "seq", name="uq_stage_events_case_seq"),
    )

    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.UniqueConstraint("case_id", "step_key", name="uq_notices_case_step"),
    )
    op.create_index("ix_notices_case", "notices", ["case_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("step_key", sa.String(100), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("case_id", "step_key", name="uq_audit_case_step"),
    )
    op.create_index("ix_audit_case", "audit_log", ["case_id"])
    # Append-only in the database itself, whatever code runs against it.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("notices")
    op.drop_table("stage_events")
    op.drop_table("applications")
    op.drop_table("cases")
