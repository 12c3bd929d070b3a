"""county_standards: a county's standards as dated rows, and the one in force for a month."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import standards_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import AreaType
from dibao.domain.standards import Standard
from dibao.settings import Settings


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(Settings(database_url=database_url))
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def test_every_county_starts_from_the_seeded_standards(session: AsyncSession) -> None:
    urban = await standards_repo.standard_in_force(session, "610423", AreaType.URBAN, "2026-12")
    rural = await standards_repo.standard_in_force(session, "610423", AreaType.RURAL, "2026-12")
    assert urban == Standard(AreaType.URBAN, 53_000, "2020-01", "seed")
    assert rural == Standard(AreaType.RURAL, 371_000, "2020-01", "seed")


async def test_a_countys_new_standard_holds_from_its_month_and_not_before(
    session: AsyncSession,
) -> None:
    new = Standard(AreaType.URBAN, 60_000, "2027-01", "SC-1")
    assert await standards_repo.record_standard(session, "610423", new, "chen.gang") == new

    def amount(found: Standard | None) -> int | None:
        return found.amount_fen if found else None

    in_force = standards_repo.standard_in_force
    assert amount(await in_force(session, "610423", AreaType.URBAN, "2026-12")) == 53_000
    assert amount(await in_force(session, "610423", AreaType.URBAN, "2027-01")) == 60_000
    assert amount(await in_force(session, "610423", AreaType.URBAN, "2030-06")) == 60_000
    # Another county, and the county's rural standard, are not touched.
    assert amount(await in_force(session, "610424", AreaType.URBAN, "2027-01")) == 53_000
    assert amount(await in_force(session, "610423", AreaType.RURAL, "2027-01")) == 371_000


async def test_recording_a_batch_again_finds_the_first_row(session: AsyncSession) -> None:
    first = Standard(AreaType.RURAL, 400_000, "2027-01", "SC-2")
    await standards_repo.record_standard(session, "610423", first, "chen.gang")
    again = Standard(AreaType.RURAL, 999_999, "2027-03", "SC-2")
    assert await standards_repo.record_standard(session, "610423", again, "chen.gang") == first
    assert await standards_repo.list_standards(session, "610423") == [first]


@pytest.mark.parametrize(
    "values",
    [
        "('610423', 'urban', '0000-01', 60000, 'x', 'y')",
        "('610423', 'urban', '2027-13', 60000, 'x', 'y')",
        "('610423', 'urban', '2027-01', 0, 'x', 'y')",
        "('610423', 'suburban', '2027-01', 60000, 'x', 'y')",
    ],
    ids=["year-zero", "month-13", "zero-amount", "area-type"],
)
def test_the_database_refuses_a_standard_no_one_could_mean(database_url: str, values: str) -> None:
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO county_standards "
            "(county_code, area_type, from_month, amount_fen, source, recorded_by) "
            f"VALUES {values}"
        )


def test_standards_in_force_cannot_be_changed_in_place(database_url: str) -> None:
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.Error, match="append-only"):
        conn.execute("UPDATE county_standards SET amount_fen = 1")
