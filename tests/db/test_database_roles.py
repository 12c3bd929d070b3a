"""The production application role (docs/app-role.sql): it writes what the service writes, but
cannot change or delete the record, nor switch off the triggers that protect it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

SQL = Path(__file__).resolve().parents[2] / "docs" / "app-role.sql"


@pytest.fixture
def app_url(database_url: str) -> Iterator[str]:
    role = f"dibao_app_{secrets.token_hex(3)}"
    password = secrets.token_hex(8)
    script = SQL.read_text(encoding="utf-8").replace("dibao_app", role)
    script = script.replace("'change-me'", f"'{password}'")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(script)
        info = conn.info
        host, port, dbname = info.host, info.port, info.dbname
    yield f"host={host} port={port} dbname={dbname} user={role} password={password}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def seed_case(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
            "rule_pack_version, area_type, province_code, county_code, township_code, "
            "village_code, stage_entered_at, filed_at) VALUES ('DB-ROLE0000001', 'x', 'survey', "
            "'in_progress', 'seed-default', 1, 'rural', '61', '610423', '610423100', "
            "'610423100201', now(), now())"
        )


def test_the_app_role_appends_but_cannot_rewrite_or_unprotect_the_record(
    database_url: str, app_url: str
) -> None:
    seed_case(database_url)
    with psycopg.connect(app_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO audit_log (case_id, step_key, actor_id, actor_role, action, "
            "payload_sha256, at) VALUES ('DB-ROLE0000001', 'filed', 'zhang.wei', "
            "'village_caseworker', 'file_application', repeat('0', 64), now())"
        )
        conn.execute("UPDATE cases SET stage = 'evaluation' WHERE case_id = 'DB-ROLE0000001'")
        for statement in (
            "UPDATE audit_log SET actor_id = 'someone.else'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "DELETE FROM entitlement_changes",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT actor_id FROM audit_log").fetchall() == [("zhang.wei",)]
