"""0040: audit entries written under an action's old name read under its key; the log stays
append-only; the downgrade gives the old names back."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command

from dibao.db.migrate import alembic_config, upgrade

OLD = ["file_application", "supplement_materials", "submit_survey", "county_home_visit"]
NEW = ["file_application", "materials", "survey", "county_visit"]


def actions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [a for (a,) in conn.execute("SELECT action FROM audit_log ORDER BY id")]


def test_old_audit_actions_are_renamed_to_their_keys_and_back(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0039")
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
            "rule_pack_version, area_type, province_code, county_code, township_code, "
            "village_code, stage_entered_at, filed_at) VALUES ('DB-KEYS0000001', "
            "'K00000000000000001', 'survey', 'in_review', 'seed-default', 1, 'rural', '61', "
            "'610423', '610423100', '610423100201', now(), now())"
        )
        for i, action in enumerate(OLD):
            conn.execute(
                "INSERT INTO audit_log (case_id, step_key, actor_id, actor_role, action, "
                "payload_sha256, at) VALUES ('DB-KEYS0000001', %s, 'li.na', "
                "'township_caseworker', %s, repeat('0', 64), now())",
                (f"step-{i}", action),
            )
    upgrade(database_url)
    assert actions(database_url) == NEW
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE audit_log SET action = 'x'")
    command.downgrade(alembic_config(database_url), "0039")
    assert actions(database_url) == OLD
