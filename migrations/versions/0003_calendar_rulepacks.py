"""office-maintained holiday calendar; rule packs as versioned data, assigned per county

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )

    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("is_working_day", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )

    rule_packs = op.create_table(
        "rule_packs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("params", postgresql.JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name="pk_rule_packs"),
        sa.CheckConstraint("version >= 1", name="ck_rule_packs_version"),
        sa.CheckConstraint("id ~ '^[a-z0-9][a-z0-9-]*$'", name="ck_rule_packs_id"),
        sa.CheckConstraint(
            "params->>'id' = id AND params->>'version' = version::text "
            "AND params->>'title' = title",
            name="ck_rule_packs_params_match",
        ),
    )
    # Rule packs are append-only like the audit log: a case pins (id, version), so a stored
    # version changed in place would change the rules of cases already running.
    op.execute(
        """
        CREATE FUNCTION rule_packs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'rule_packs is append-only: publish a new version instead of %', TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER rule_packs_no_change BEFORE UPDATE OR DELETE ON rule_packs "
        "FOR EACH ROW EXECUTE FUNCTION rule_packs_append_only()"
    )
    op.execute(
        "CREATE TRIGGER rule_packs_no_truncate BEFORE TRUNCATE ON rule_packs "
        "FOR EACH STATEMENT EXECUTE FUNCTION rule_packs_append_only()"
    )
    # Cases filed before this migration pinned the built-in packs at version 1; these rows are
    # those very parameters, so such cases read the same rules from the table.
    op.bulk_insert(
        rule_packs,
        [
            {
                "id": pack.id,
                "version": 1,
                "title": pack.title,
                "params": dataclasses.replace(pack, version=1).to_params(),
                "created_by": "system",
            }
            for pack in (SEED_DEFAULT, MCA_2021)
        ],
    )

    op.create_table(
        "county_rule_packs",
        sa.Column("county_code", sa.CHAR(6), primary_key=True),
        sa.Column("pack_id", sa.String(40), nullable=False),
        sa.Column("assigned_by", sa.String(100), nullable=False),
        sa.Column("assigned_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("county_code ~ '^[0-9]{6}$'", name="ck_county_rule_packs_code"),
    )


def downgrade() -> None:
    op.drop_table("county_rule_packs")
    op.drop_table("rule_packs")
    op.execute("DROP FUNCTION IF EXISTS rule_packs_append_only()")
    op.drop_table("calendar_days")
    op.drop_table("calendar_years")
