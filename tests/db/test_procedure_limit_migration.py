"""A database whose rule packs were stored before the whole-procedure extension and the
township's receipt clock existed gets new versions carrying them; a fresh one needs none."""

from __future__ import annotations

import json

import psycopg
from alembic import command

from dibao.db.migrate import alembic_config, upgrade
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, RulePack


def test_packs_stored_without_the_new_parameters_get_a_version_with_them(
    database_url: str,
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        fresh = conn.execute("SELECT id, max(version) FROM rule_packs GROUP BY id").fetchall()
    assert dict(fresh) == {"seed-default": 1, "mca-2021": 1, "training-seed-default": 1}

    command.downgrade(alembic_config(database_url), "0017-1")
    # As an office's older database holds it: mca-2021 published before the parameters.
    old = MCA_2021.to_params()
    del old["whole_procedure_extended_working_days"], old["township_review_from_receipt"]
    old["version"] = 2
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO rule_packs (id, version, title, params, created_by) "
            "VALUES ('mca-2021', 2, %s, %s::jsonb, 'li.na')",
            (old["title"], json.dumps(old, ensure_ascii=False)),
        )
    upgrade(database_url)

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, version, params FROM rule_packs ORDER BY id, version"
        ).fetchall()
    latest = {pack_id: (version, params) for pack_id, version, params in rows}
    version, params = latest["mca-2021"]
    assert version == 3
    pack = RulePack.from_params(params)
    assert (pack.whole_procedure_working_days, pack.whole_procedure_extended_working_days) == (
        30,
        45,
    )
    assert pack.township_review_from_receipt is False
    # The packs that had the parameters already are left as they were.
    assert latest["seed-default"][0] == 1
    assert RulePack.from_params(latest["seed-default"][1]) == SEED_DEFAULT
