"""Migrations seed literal rows: a fresh database starts from the rows written in migrations/,
whatever the code's constants say later. An edit of a built-in pack in dibao.domain.rulepacks
needs a migration that publishes it as a new version; this test says so when one is missing."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg

from dibao.domain.rulepacks import BUILTIN_RULE_PACKS, RulePack
from dibao.settings import PROJECT_ROOT

VERSIONS = PROJECT_ROOT / "migrations" / "versions"
PROJECT_PACKAGES = {"dibao", "api", "cli", "console", "workflows", "activities", "worker"}


def migration(name: str) -> ModuleType:
    path = VERSIONS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_migration_imports_the_project() -> None:
    offending = {
        path.name: sorted(imported_roots(path) & PROJECT_PACKAGES)
        for path in sorted(VERSIONS.glob("*.py"))
        if imported_roots(path) & PROJECT_PACKAGES
    }
    assert offending == {}, "migrations must seed literal rows, not the code's constants"


def test_a_fresh_database_holds_the_literal_seed_packs(database_url: str) -> None:
    seeds: list[dict[str, Any]] = [
        migration("0003_calendar_rulepacks").SEED_DEFAULT_V1,
        migration("0003_calendar_rulepacks").MCA_2021_V1,
        migration("0005_training_rule_pack").TRAINING_SEED_DEFAULT_V1,
    ]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, version, title, params, created_by FROM rule_packs ORDER BY id, version"
        ).fetchall()
    assert sorted(rows) == sorted((seed["id"], 1, seed["title"], seed, "system") for seed in seeds)


def test_the_built_in_packs_are_what_the_migrations_stored(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (id) id, params FROM rule_packs ORDER BY id, version DESC"
        ).fetchall()
    latest = {pack_id: RulePack.from_params(params) for pack_id, params in rows}
    for pack_id, pack in BUILTIN_RULE_PACKS.items():
        assert latest[pack_id] == pack, (
            f"{pack_id} in dibao.domain.rulepacks differs from its latest stored version: "
            "publish the change in a migration (as 0017 does), do not edit the seeds"
        )
