"""`dibao calendar` and `dibao rulepack` against real PostgreSQL (they write it directly)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner, Result

from cli.policy import calendar_app, parse_calendar_csv, rulepack_app
from dibao.settings import get_settings
from tests.auth import Staff, token_of


@pytest.fixture
def db(database_url: str, staff: Staff, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    # These commands write PostgreSQL directly and record the signed-in user: chen.gang,
    # county approver of 610423.
    monkeypatch.setenv("DIBAO_TOKEN", token_of("chen.gang"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def sql(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def run(app: Any, *args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "calendar.csv"
    path.write_bytes(text.encode(encoding))
    return path


GOOD_2027 = """day,is_working_day,note
2027-01-01,0,元旦
2027-10-01,否,国庆节
2027-10-02,false,国庆节
2027-10-09,是,调休上班
2027-09-26,TRUE,调休上班
"""


# --- calendar load ------------------------------------------------------------------------


def test_load_reports_every_bad_row_with_its_line_and_loads_nothing(
    db: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "day,is_working_day,note\n"
        "2027-01-01,0,元旦\n"  # line 2: fine
        "2026-12-31,0,跨年\n"  # line 3: other year
        "2027-02-30,0,春节\n"  # line 4: no such date
        "2027-10-01,maybe,国庆节\n"  # line 5: bad boolean
        "\n"  # line 6: blank, ignored
        "2027-01-01,1,重复\n"  # line 7: duplicate of line 2
        "2027-10-02,0\n"  # line 8: missing field
        "yesterday,2,x\n",  # line 9: two problems
    )
    result = run(calendar_app, "load", "2027", str(path))
    assert result.exit_code == 2, result.output
    out = result.output
    assert "nothing was loaded" in out
    assert "line 3: 2026-12-31 is not in 2027" in out
    assert "line 4: '2027-02-30' is not a date" in out
    assert "line 5: is_working_day must be 1/0/true/false/是/否, got 'maybe'" in out
    assert "line 7: 2027-01-01 is already listed on line 2" in out
    assert "line 8: expected 3 fields" in out
    assert "line 9: 'yesterday' is not a date" in out
    assert "line 9: is_working_day must be" in out
    assert "line 2:" not in out
    assert "line 6:" not in out
    assert sql(db, "SELECT count(*) FROM calendar_days") == [(0,)]
    assert sql(db, "SELECT count(*) FROM calendar_years") == [(0,)]


def test_load_rejects_a_wrong_header(db: str, tmp_path: Path) -> None:
    path = write(tmp_path, "date,working,note\n2027-01-01,0,元旦\n")
    result = run(calendar_app, "load", "2027", str(path))
    assert result.exit_code == 2
    assert "line 1: the header must be day,is_working_day,note" in result.output
    assert sql(db, "SELECT count(*) FROM calendar_days") == [(0,)]


def test_load_rejects_a_file_with_no_days(db: str, tmp_path: Path) -> None:
    result = run(calendar_app, "load", "2027", str(write(tmp_path, "day,is_working_day,note\n")))
    assert result.exit_code == 2
    assert "lists no days" in result.output
    assert sql(db, "SELECT count(*) FROM calendar_years") == [(0,)]


def test_load_refuses_a_year_the_official_calendar_covers(db: str, tmp_path: Path) -> None:
    path = write(tmp_path, "day,is_working_day,note\n2026-10-09,0,更正\n")
    result = run(calendar_app, "load", "2026", str(path))
    assert result.exit_code == 2
    assert "covered by the official calendar" in result.output
    assert sql(db, "SELECT count(*) FROM calendar_days") == [(0,)]


def test_load_a_good_file_publishes_the_year(db: str, tmp_path: Path) -> None:
    # With a byte-order mark, as spreadsheet programs write "CSV UTF-8".
    path = write(tmp_path, GOOD_2027, encoding="utf-8-sig")
    result = run(calendar_app, "load", "2027", str(path), "--note", "国办发明电〔2026〕X号")
    assert result.exit_code == 0, result.output
    assert "loaded 5 days (3 holidays, 2 working days)" in result.output
    assert sql(db, "SELECT year, published_by, note FROM calendar_years") == [
        (2027, "chen.gang", "国办发明电〔2026〕X号")
    ]
    rows = sql(db, "SELECT day::text, is_working_day, note FROM calendar_days ORDER BY day")
    assert rows[0] == ("2027-01-01", False, "元旦")
    assert ("2027-10-09", True, "调休上班") in rows

    shown = run(calendar_app, "show", "2027", "--json")
    assert shown.exit_code == 0, shown.output
    calendar = json.loads(shown.output)
    assert calendar["status"] == "office_entered"
    assert calendar["warning"] is None
    assert len(calendar["days"]) == 5


def test_load_reads_a_gbk_file(db: str, tmp_path: Path) -> None:
    # Spreadsheet programs on Chinese Windows save CSV in GBK.
    path = write(tmp_path, GOOD_2027, encoding="gbk")
    result = run(calendar_app, "load", "2027", str(path))
    assert result.exit_code == 0, result.output
    assert ("2027-10-01", "国庆节") in sql(
        db, "SELECT day::text, note FROM calendar_days WHERE NOT is_working_day"
    )


def test_parse_accepts_slashed_dates_and_every_boolean_spelling() -> None:
    parsed = parse_calendar_csv(
        "day,is_working_day,note\n2027/1/1,0,元旦\n2027-01-02,False,\n2027-01-03,1,\n"
        "2027-01-04,是,\n2027-01-05,否,\n2027-01-06,true,\n",
        2027,
    )
    assert parsed.errors == []
    assert [d.is_working_day for d in parsed.days] == [False, False, True, True, False, True]


# --- calendar show / set ------------------------------------------------------------------


def test_show_an_uncovered_year_warns(db: str) -> None:
    result = run(calendar_app, "show", "2027")
    assert result.exit_code == 0, result.output
    assert "NOT COVERED" in result.output
    assert "warning: no holiday calendar for 2027" in result.output


def test_set_a_holiday_and_a_working_day(db: str) -> None:
    result = run(calendar_app, "set", "2027-10-01", "--holiday", "--note", "国庆节")
    assert result.exit_code == 0, result.output
    assert "2027-10-01 (Fri) is a holiday: 国庆节" in result.output
    # The year is not entered yet: say that the day is not used.
    assert "not used until" in result.output
    result = run(calendar_app, "set", "2027-10-09", "--working", "--note", "调休上班")
    assert result.exit_code == 0, result.output
    assert sql(
        db, "SELECT day::text, is_working_day, note, updated_by FROM calendar_days ORDER BY day"
    ) == [
        ("2027-10-01", False, "国庆节", "chen.gang"),
        ("2027-10-09", True, "调休上班", "chen.gang"),
    ]
    published = run(calendar_app, "publish", "2027")
    assert published.exit_code == 0, published.output
    shown = run(calendar_app, "show", "2027")
    assert "entered by the office" in shown.output
    assert "warning" not in shown.output


def test_set_needs_holiday_or_working(db: str) -> None:
    result = run(calendar_app, "set", "2027-10-01")
    assert result.exit_code == 2
    assert "--holiday or --working" in result.output
    result = run(calendar_app, "set", "2027-13-01", "--holiday")
    assert result.exit_code == 2
    assert "not a date" in result.output


# --- rule packs ---------------------------------------------------------------------------


def test_rulepack_list_show_assign_publish(db: str) -> None:
    listed = run(rulepack_app, "list")
    assert listed.exit_code == 0, listed.output
    assert "seed-default" in listed.output and "mca-2021" in listed.output

    shown = run(rulepack_app, "show", "mca-2021")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["county_approval_working_days"] == 10

    assigned = run(rulepack_app, "assign", "610423", "mca-2021")
    assert assigned.exit_code == 0, assigned.output
    assert sql(db, "SELECT county_code, pack_id, assigned_by FROM county_rule_packs") == [
        ("610423", "mca-2021", "chen.gang")
    ]

    published = run(
        rulepack_app,
        "publish",
        "mca-2021",
        "--set",
        "posting_days=10",
        "--set",
        'title="民政部办法（本县）"',
    )
    assert published.exit_code == 0, published.output
    assert "published mca-2021@2" in published.output
    assert "posting_days: 7 -> 10" in published.output
    assert json.loads(run(rulepack_app, "show", "mca-2021").output)["posting_days"] == 10
    v1 = run(rulepack_app, "show", "mca-2021", "--version", "1")
    assert json.loads(v1.output)["posting_days"] == 7


def test_rulepack_errors(db: str) -> None:
    result = run(rulepack_app, "assign", "610423", "no-such-pack")
    assert result.exit_code == 2
    assert "unknown rule pack no-such-pack; known: mca-2021, seed-default" in result.output
    result = run(rulepack_app, "assign", "6104", "mca-2021")
    assert result.exit_code == 2
    result = run(rulepack_app, "publish", "mca-2021", "--set", "posting_dayz=10")
    assert result.exit_code == 2
    assert "posting_dayz: unknown field" in result.output
    result = run(rulepack_app, "publish", "mca-2021", "--set", "title=不加引号")
    assert result.exit_code == 2
    assert "not JSON" in result.output
    result = run(rulepack_app, "show", "mca-2021", "--version", "9")
    assert result.exit_code == 2
    assert sql(db, "SELECT count(*) FROM rule_packs") == [(3,)]  # the built-ins, nothing more
    assert sql(db, "SELECT count(*) FROM county_rule_packs") == [(0,)]
