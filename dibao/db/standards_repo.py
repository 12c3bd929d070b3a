"""A county's standards (低保标准) as dated rows: recorded by a standard change, read by every
assessment for the month it assesses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.policy_models import CountyStandardRow
from dibao.domain.enums import AreaType
from dibao.domain.standards import Standard

# The rows that hold for every county without a standard of its own (migration 0016 seeds them).
ALL_COUNTIES = "000000"


def _standard(row: CountyStandardRow) -> Standard:
    return Standard(
        area_type=AreaType(row.area_type),
        amount_fen=row.amount_fen,
        from_month=row.from_month,
        source=row.source,
    )


async def record_standard(
    session: AsyncSession,
    county_code: str,
    standard: Standard,
    recorded_by: str,
) -> Standard:
    """Write the standard once per (county, area type, source); a repeat finds the first row."""
    await session.execute(
        insert(CountyStandardRow)
        .values(
            county_code=county_code,
            area_type=standard.area_type.value,
            from_month=standard.from_month,
            amount_fen=standard.amount_fen,
            source=standard.source,
            recorded_by=recorded_by,
        )
        .on_conflict_do_nothing(constraint="uq_county_standards_source")
    )
    await session.commit()
    row = await session.scalar(
        select(CountyStandardRow).where(
            CountyStandardRow.county_code == county_code,
            CountyStandardRow.area_type == standard.area_type.value,
            CountyStandardRow.source == standard.source,
        )
    )
    assert row is not None  # written or found just now; rows are never deleted
    return _standard(row)


async def standard_in_force(
    session: AsyncSession, county_code: str, area_type: AreaType, month: str
) -> Standard | None:
    """The standard in force in `month`: the county's latest row that took effect by then (of
    one month, the one recorded last); without one, the rows for every county."""
    for county in (county_code, ALL_COUNTIES):
        row = await session.scalar(
            select(CountyStandardRow)
            .where(
                CountyStandardRow.county_code == county,
                CountyStandardRow.area_type == area_type.value,
                CountyStandardRow.from_month <= month,
            )
            .order_by(CountyStandardRow.from_month.desc(), CountyStandardRow.id.desc())
            .limit(1)
        )
        if row is not None:
            return _standard(row)
    return None


async def list_standards(session: AsyncSession, county_code: str) -> list[Standard]:
    """The county's own rows, in the order they take effect."""
    rows = await session.scalars(
        select(CountyStandardRow)
        .where(CountyStandardRow.county_code == county_code)
        .order_by(CountyStandardRow.from_month, CountyStandardRow.id)
    )
    return [_standard(r) for r in rows]
