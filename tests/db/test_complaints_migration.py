"""0036: a database whose rule packs were stored before complaint_working_days (mca-2021
Art. 37; the township's 20 working days, 001 陕西 第十条(一)) gets a version carrying it; a
fresh one needs none. The complaint tables refuse what the rules refuse."""

from __future__ import annotations

import json

import psycopg
import pytest
from alembic import command

from dibao.db.migrate import alembic_config, upgrade
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, RulePack


def test_packs_stored_without_the_complaint_period_get_a_version_with_it(
    database_url: str,
) -> None:
    command.downgrade(alembic_config(database_url), "0028")
    old = MCA_2021.to_params()
    del old["complaint_working_days"]
    old["version"] = 2
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO rule_packs (id, version, title, params, created_by) "
            "VALUES ('mca-2021', 2, %s, %s::jsonb, 'chen.gang')",
            (old["title"], json.dumps(old, ensure_ascii=False)),
        )
    upgrade(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, version, params FROM rule_packs ORDER BY id, version"
        ).fetchall()
    latest = {pack_id: (version, params) for pack_id, version, params in rows}
    version, params = latest["mca-2021"]
    assert version == 3 and RulePack.from_params(params).complaint_working_days == 20
    assert latest["seed-default"][0] == 1
    assert RulePack.from_params(latest["seed-default"][1]) == SEED_DEFAULT


def test_a_real_name_complaint_without_its_reporter_or_closed_unanswered_is_refused(
    database_url: str,
) -> None:
    insert = (
        "INSERT INTO complaints (complaint_id, request_id, kind, channel, source, county_code, "
        "summary, complainant_name, complainant_contact, status, received_by, received_at, "
        "due_at, rule_pack_id, rule_pack_version) VALUES (%s, %s, 'general', 'real_name', "
        "'hotline', '610423', '反映', %s, %s, %s, 'li.na', now(), now(), 'seed-default', 1)"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(insert, ("C-1", "r1", None, None, "received"))
        with pytest.raises(psycopg.errors.CheckViolation):  # Art. 37: answered before closed
            conn.execute(insert, ("C-2", "r2", "王五", "139", "closed"))
        conn.execute(insert, ("C-3", "r3", "王五", "139", "received"))
        with pytest.raises(psycopg.errors.UniqueViolation):  # one complaint per request
            conn.execute(insert, ("C-4", "r3", "王五", "139", "received"))
