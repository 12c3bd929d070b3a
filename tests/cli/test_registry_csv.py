"""Registry extracts: CSV validation, `dibao registry load/show` against real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner, Result

from cli.registry import registry_app
from cli.registry_csv import COLUMNS, CsvError, parse_amount_fen, parse_extract
from dibao.db import registry_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.verification import Department, RecordKind, RegistryRecord
from dibao.settings import Settings, get_settings
from tests.auth import Staff, token_of
from tests.domain.factories import GRANDSON_ID, HEAD_ID, OTHER_ID, SON_ID

HEADER = ",".join(COLUMNS)
BAD_CHECK_DIGIT = HEAD_ID[:-1] + "8"


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    text = "\n".join((HEADER, *lines)) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


# --- parsing (no database) ------------------------------------------------------------------


def test_a_valid_extract_parses_with_a_bom() -> None:
    parsed = parse_extract(
        csv_bytes(
            f"{HEAD_ID},wage_income,3200.5,某某建材有限公司,2026-10-31",
            f'{SON_ID.lower()},home,,"陕西省某县 不动产权第0001号, 共有",',
            "",
            bom=True,
        ),
        Department.TAX,
    )
    assert parsed.errors == ()
    assert parsed.records == (
        RegistryRecord(
            Department.TAX,
            HEAD_ID,
            RecordKind.WAGE_INCOME,
            320_050,
            "某某建材有限公司",
            "2026-10-31",
        ),
        # The lower-case check character is stored as the upper-case X of the standard.
        RegistryRecord(
            Department.TAX, SON_ID, RecordKind.HOME, None, "陕西省某县 不动产权第0001号, 共有", ""
        ),
    )
    assert len(parsed.sha256) == 64


def test_every_error_is_reported_with_its_line_and_column() -> None:
    parsed = parse_extract(
        csv_bytes(
            f"{HEAD_ID},wage_income,100,,2026-10-31",  # line 2: fine
            f"{BAD_CHECK_DIGIT},pension,100,,",  # line 3
            f"{SON_ID},salary,100,,",  # line 4
            f"{SON_ID},deposit,12.345,,",  # line 5
            f"{SON_ID},deposit,-5,,",  # line 6
            f'{SON_ID},deposit,"1,000",,',  # line 7
            f"{SON_ID},deceased,,,2026/10/31",  # line 8
            f"{SON_ID},deceased,,,2026-02-30",  # line 9
            f"{SON_ID},deceased,,",  # line 10
            "12345,home,abc,,x",  # line 11: three errors
        ),
        Department.BANKS,
    )
    assert parsed.records == ()
    assert [str(e) for e in parsed.errors] == [
        "line 3, id_number: check digit, birth date or region code is wrong (GB 11643)",
        "line 4, kind: 'salary' is not one of " + ", ".join(k.value for k in RecordKind),
        "line 5, amount_yuan: '12.345' is not a non-negative amount in yuan with at most 2 "
        "decimals (e.g. 1234.50; no sign, no thousands separator)",
        "line 6, amount_yuan: '-5' is not a non-negative amount in yuan with at most 2 "
        "decimals (e.g. 1234.50; no sign, no thousands separator)",
        "line 7, amount_yuan: '1,000' is not a non-negative amount in yuan with at most 2 "
        "decimals (e.g. 1234.50; no sign, no thousands separator)",
        "line 8, as_of: '2026/10/31' is not a date YYYY-MM-DD",
        "line 9, as_of: '2026-02-30' is not a date YYYY-MM-DD",
        "line 10, row: has 4 fields, expected 5",
        "line 11, id_number: must be 18 characters: 17 digits then a digit or X",
        "line 11, amount_yuan: 'abc' is not a non-negative amount in yuan with at most 2 "
        "decimals (e.g. 1234.50; no sign, no thousands separator)",
        "line 11, as_of: 'x' is not a date YYYY-MM-DD",
    ]


def test_a_wrong_header_stops_at_line_1() -> None:
    parsed = parse_extract(b"id,kind,amount\n" + f"{HEAD_ID},home,1\n".encode(), Department.TAX)
    assert [str(e) for e in parsed.errors] == [
        f"line 1, header: must be {HEADER}; found id,kind,amount"
    ]


def test_empty_files_and_files_without_records_are_refused() -> None:
    assert parse_extract(b"", Department.TAX).errors == (
        CsvError(1, "header", "the file is empty"),
    )
    assert parse_extract(csv_bytes(), Department.TAX).errors == (
        CsvError(2, "file", "has a header but no records"),
    )


def test_text_that_is_not_utf8_is_refused_with_its_line() -> None:
    data = csv_bytes(f"{HEAD_ID},home,,不动产,").replace("不动产".encode(), "不动产".encode("gbk"))
    assert parse_extract(data, Department.REAL_ESTATE).errors == (
        CsvError(2, "file", "is not UTF-8 text"),
    )


def test_birth_dates_in_the_future_are_refused_when_today_is_given() -> None:
    from datetime import date

    parsed = parse_extract(csv_bytes(f"{GRANDSON_ID},home,,,"), Department.TAX, date(2010, 1, 1))
    assert [str(e) for e in parsed.errors] == ["line 2, id_number: birth date lies in the future"]


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("7", 700), ("7.5", 750), ("7.05", 705), ("1234567.89", 123_456_789)],
)
def test_amounts_in_yuan_become_fen(text: str, fen: int) -> None:
    assert parse_amount_fen(text) == fen


@pytest.mark.parametrize("text", ["", "-1", "+1", "1.", ".5", "1.234", "1e3", "1,000", " 1"])
def test_amounts_that_are_refused(text: str) -> None:
    assert parse_amount_fen(text) is None


# --- loading with the command line (real PostgreSQL) -------------------------------------


@pytest.fixture
def cli_database(database_url: str, staff: Staff, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DIBAO_TOKEN", token_of("ma.chao"))  # ops: loads the extracts
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(Settings(database_url=database_url))
    yield make_sessionmaker(engine)
    await engine.dispose()


async def dibao_registry(*args: str) -> Result:
    # The command runs its own event loop (asyncio.run); keep it off the test's loop.
    return await asyncio.to_thread(CliRunner().invoke, registry_app, list(args))


def sql(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(*lines))
    return path


async def test_a_file_with_errors_loads_nothing(cli_database: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tax-2026-10.csv",
        f"{HEAD_ID},wage_income,3200,,2026-10-31",
        f"{BAD_CHECK_DIGIT},wage_income,3200,,2026-10-31",
        f"{SON_ID},wage_income,lots,,2026-10-31",
    )
    result = await dibao_registry("load", "--department", "tax", str(path))
    assert result.exit_code == 2, result.output
    assert "tax-2026-10.csv: 2 error(s); nothing was loaded" in result.stderr
    assert "line 3, id_number: check digit" in result.stderr
    assert "line 4, amount_yuan: 'lots'" in result.stderr
    assert sql(cli_database, "SELECT count(*) FROM registry_records") == [(0,)]
    assert sql(cli_database, "SELECT count(*) FROM registry_batches") == [(0,)]


async def test_the_same_file_twice_loads_once(cli_database: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "banks.csv",
        f"{HEAD_ID},deposit,15000.00,农村信用社,2026-10-31",
        f"{SON_ID},deposit,8000,,2026-10-31",
    )
    first = await dibao_registry("load", "--department", "banks", str(path))
    assert first.exit_code == 0, first.output
    assert "loaded 2 rows from banks.csv into banks (银行), batch" in first.stdout
    second = await dibao_registry("load", "--department", "banks", str(path))
    assert second.exit_code == 0, second.output
    assert "was already loaded into banks" in second.stdout
    assert "nothing was changed" in second.stdout
    assert sql(
        cli_database,
        "SELECT department, id_number, kind, amount_fen, detail, as_of::text "
        "FROM registry_records ORDER BY id_number",
    ) == [
        ("banks", SON_ID, "deposit", 800_000, "", "2026-10-31"),
        ("banks", HEAD_ID, "deposit", 1_500_000, "农村信用社", "2026-10-31"),
    ]
    assert sql(
        cli_database, "SELECT department, file_name, rows, loaded_by FROM registry_batches"
    ) == [("banks", "banks.csv", 2, "ma.chao")]
    # "Once" is per department: the same bytes named as another department's are its extract.
    other = await dibao_registry("load", "--department", "social_insurance", str(path))
    assert other.exit_code == 0, other.output
    assert "loaded 2 rows" in other.stdout


async def test_replace_swaps_one_departments_records(cli_database: str, tmp_path: Path) -> None:
    october = write(tmp_path, "oct.csv", f"{HEAD_ID},home,,不动产权第1号,2026-10-31")
    october_extra = write(tmp_path, "oct-extra.csv", f"{SON_ID},home,,不动产权第2号,2026-10-31")
    november = write(
        tmp_path,
        "nov.csv",
        f"{HEAD_ID},home,,不动产权第1号,2026-11-30",
        f"{SON_ID},shop,,商铺第3号,2026-11-30",
    )
    vehicles = write(tmp_path, "veh.csv", f"{SON_ID},vehicle,,car,2026-10-31")
    for department, path in [
        ("real_estate", october),
        ("real_estate", october_extra),  # without --replace an extract is added
        ("vehicles", vehicles),
    ]:
        result = await dibao_registry("load", "-d", department, str(path))
        assert result.exit_code == 0, result.output
    assert sql(
        cli_database, "SELECT count(*) FROM registry_records WHERE department = 'real_estate'"
    ) == [(2,)]

    replaced = await dibao_registry(
        "load", "--department", "real_estate", str(november), "--replace"
    )
    assert replaced.exit_code == 0, replaced.output
    assert "loaded 2 rows from nov.csv" in replaced.stdout
    assert "replaced 2 earlier records of real_estate" in replaced.stdout
    assert sql(
        cli_database,
        "SELECT department, id_number, kind, as_of::text FROM registry_records "
        "ORDER BY department, id_number",
    ) == [
        ("real_estate", SON_ID, "shop", "2026-11-30"),
        ("real_estate", HEAD_ID, "home", "2026-11-30"),
        ("vehicles", SON_ID, "vehicle", "2026-10-31"),  # other departments are untouched
    ]
    # The earlier batches stay on record (who loaded what, when).
    assert sql(cli_database, "SELECT count(*) FROM registry_batches") == [(4,)]


async def test_show_lists_a_persons_records_across_departments(
    cli_database: str, tmp_path: Path
) -> None:
    tax = write(tmp_path, "tax.csv", f"{SON_ID},wage_income,3200,某某公司,2026-10-31")
    fund = write(tmp_path, "fund.csv", f"{SON_ID},housing_fund_contribution,400,,2026-10-31")
    assert (await dibao_registry("load", "-d", "tax", str(tax))).exit_code == 0
    assert (await dibao_registry("load", "-d", "housing_fund", str(fund))).exit_code == 0

    shown = await dibao_registry("show", SON_ID.lower())
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["DEPARTMENT", "KIND", "AMOUNT", "AS", "OF", "DETAIL"]
    assert lines[1].split() == [
        "housing_fund",
        "housing_fund_contribution",
        "400.00",
        "元",
        "2026-10-31",
    ]
    assert lines[2].split() == ["tax", "wage_income", "3,200.00", "元", "2026-10-31", "某某公司"]
    assert lines[3] == "(2 records)"

    nobody = await dibao_registry("show", OTHER_ID)
    assert nobody.stdout.strip() == f"no registry records for {OTHER_ID}"
    bad = await dibao_registry("show", BAD_CHECK_DIGIT)
    assert bad.exit_code == 2


async def test_repository_load_and_records_for(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows = [
        RegistryRecord(
            Department.SOCIAL_INSURANCE, HEAD_ID, RecordKind.PENSION, 110_000, "", "2026-10-31"
        ),
        RegistryRecord(Department.SOCIAL_INSURANCE, OTHER_ID, RecordKind.PENSION, 90_000),
    ]
    async with sessions() as session:
        loaded = await registry_repo.load_batch(
            session, Department.SOCIAL_INSURANCE, rows, "si.csv", "a" * 64, "clerk", replace=False
        )
    assert (loaded.rows, loaded.already_loaded, loaded.replaced_records) == (2, False, 0)
    async with sessions() as session:
        again = await registry_repo.load_batch(
            session,
            Department.SOCIAL_INSURANCE,
            rows,
            "si-copy.csv",
            "a" * 64,
            "clerk",
            replace=True,
        )
        assert (again.batch_id, again.already_loaded) == (loaded.batch_id, True)
        found = await registry_repo.records_for(
            session, Department.SOCIAL_INSURANCE, [HEAD_ID, SON_ID]
        )
        assert found == [rows[0]]
        assert await registry_repo.records_for(session, Department.TAX, [HEAD_ID]) == []
        assert await registry_repo.records_for(session, Department.SOCIAL_INSURANCE, []) == []
    with pytest.raises(ValueError, match="social_insurance"):
        async with sessions() as session:
            await registry_repo.load_batch(
                session, Department.TAX, rows, "x.csv", "b" * 64, "clerk", replace=False
            )
