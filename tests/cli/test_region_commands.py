"""`dibao region load`: places get their names from a CSV; a file with a place whose parent is
unknown loads nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from cli.region import region_app
from dibao.db.regions_repo import RegionCsvError, parse_csv
from dibao.settings import get_settings
from tests.auth import Staff, token_of


@pytest.fixture
def db(database_url: str, staff: Staff, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DIBAO_TOKEN", token_of("chen.gang"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def names(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT code, name FROM regions").fetchall())


def test_the_example_county_is_named_from_the_start(database_url: str) -> None:
    seeded = names(database_url)
    assert seeded["610423"] == "示例县"
    assert seeded["610423100"] == "示例镇"
    assert seeded["610423100201"] == "示例村"


def test_load_adds_and_renames_places(db: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "regions.csv"
    csv_file.write_text(
        "code,name\n610424,另一县\n610424100,另一镇\n610424100201,另一村\n610423100,示例镇（新）\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(region_app, ["load", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "loaded 4 places" in result.output
    loaded = names(db)
    assert loaded["610424100201"] == "另一村" and loaded["610423100"] == "示例镇（新）"


def test_a_village_without_its_township_loads_nothing(db: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "regions.csv"
    csv_file.write_text("610425,第三县\n610425999201,孤村\n", encoding="utf-8")
    result = CliRunner().invoke(region_app, ["load", str(csv_file)])
    assert result.exit_code == 1
    assert "nothing was loaded" in result.output
    assert "610425" not in names(db)


def test_bad_lines_are_named_by_number() -> None:
    with pytest.raises(RegionCsvError, match="line 2: code must have 6, 9 or 12 digits"):
        parse_csv("610423,示例县\n61042,短码\n")
    with pytest.raises(RegionCsvError, match="line 2: code 610423 appears twice"):
        parse_csv("610423,示例县\n610423,又一个\n")
    assert [r.level for r in parse_csv("610423100201,村\n610423,县\n610423100,镇\n")] == [
        "county",
        "township",
        "village",
    ]
