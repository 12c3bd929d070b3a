"""The office-maintained holiday table: rows in, rows out. The rule that combines it with the
official calendar is dibao.domain.calendar (`office_working_day`, `year_status`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.policy_models import CalendarDayRow, CalendarYearRow
from dibao.domain.calendar import (
    DayEntry,
    DaySource,
    YearStatus,
    office_working_day,
    official_exceptions,
    year_status,
    year_warning,
)

# Re-exported: the callers of `working_day_function` choose its window with it.
from dibao.domain.calendar import horizon as horizon


@dataclass(frozen=True)
class ListedDay:
    day: date
    is_working_day: bool
    note: str
    source: DaySource
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class YearCalendar:
    year: int
    status: YearStatus
    published: CalendarYearRow | None
    days: list[ListedDay]

    @property
    def warning(self) -> str | None:
        return year_warning(self.year, self.status, len(self.days))


async def working_day_function(
    session: AsyncSession, start: date, end: date
) -> Callable[[date], bool | None]:
    """Load the table for `start`..`end` once; the returned function answers without the DB.

    Pass it to `dibao.domain.calendar.add_working_days`; choose `end` with `horizon()`.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    rows = await session.execute(
        select(CalendarDayRow.day, CalendarDayRow.is_working_day).where(
            CalendarDayRow.day.between(start, end)
        )
    )
    listed: dict[date, bool] = {day: working for day, working in rows}
    published = frozenset(
        (
            await session.execute(
                select(CalendarYearRow.year).where(
                    CalendarYearRow.year.between(start.year, end.year)
                )
            )
        ).scalars()
    )
    return office_working_day(start, end, listed, published)


async def set_day(
    session: AsyncSession, day: date, *, is_working_day: bool, note: str, updated_by: str
) -> CalendarDayRow:
    await session.execute(
        insert(CalendarDayRow)
        .values(day=day, is_working_day=is_working_day, note=note, updated_by=updated_by)
        .on_conflict_do_update(
            index_elements=[CalendarDayRow.day],
            set_={
                "is_working_day": is_working_day,
                "note": note,
                "updated_by": updated_by,
                "updated_at": func.now(),
            },
        )
    )
    await session.commit()
    # populate_existing: the session may hold this row from before the upsert.
    return (
        await session.execute(
            select(CalendarDayRow)
            .where(CalendarDayRow.day == day)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def publish_year(
    session: AsyncSession, year: int, *, published_by: str, note: str = ""
) -> CalendarYearRow:
    """Mark `year` as entered: from now on its unlisted days are ordinary Mon–Fri working days."""
    await _upsert_year(session, year, published_by, note)
    await session.commit()
    return await _year_row(session, year)


async def replace_year(
    session: AsyncSession,
    year: int,
    days: Sequence[DayEntry],
    *,
    published_by: str,
    note: str = "",
) -> int:
    """Replace the year's rows with `days` and publish it, in one transaction.

    Returns how many rows the year had before. The file is the whole arrangement, so a day
    dropped from a corrected file must not linger as a holiday.
    """
    outside = [d.day for d in days if d.day.year != year]
    if outside:
        raise ValueError(f"days outside {year}: {', '.join(str(d) for d in outside)}")
    previous = await session.execute(
        delete(CalendarDayRow)
        .where(CalendarDayRow.day.between(date(year, 1, 1), date(year, 12, 31)))
        .returning(CalendarDayRow.day)
    )
    removed = len(previous.all())
    if days:
        await session.execute(
            insert(CalendarDayRow),
            [
                {
                    "day": d.day,
                    "is_working_day": d.is_working_day,
                    "note": d.note,
                    "updated_by": published_by,
                }
                for d in days
            ],
        )
    await _upsert_year(session, year, published_by, note)
    await session.commit()
    return removed


async def list_year(session: AsyncSession, year: int) -> YearCalendar:
    """Every day of `year` that is not an ordinary Mon–Fri working day or weekend.

    For a year the official calendar covers, its holidays and make-up days are listed too, with
    the office's corrections in their place.
    """
    published = await session.get(CalendarYearRow, year, populate_existing=True)
    rows = (
        await session.execute(
            select(CalendarDayRow)
            .where(CalendarDayRow.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(CalendarDayRow.day)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    days: dict[date, ListedDay] = {}
    status = year_status(year, published is not None)
    if status is YearStatus.OFFICIAL:
        days.update(
            (d.day, ListedDay(d.day, d.is_working_day, d.note, DaySource.OFFICIAL))
            for d in official_exceptions(year)
        )
    for row in rows:
        days[row.day] = ListedDay(
            day=row.day,
            is_working_day=row.is_working_day,
            note=row.note,
            source=DaySource.OFFICE,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )
    return YearCalendar(
        year=year,
        status=status,
        published=published,
        days=[days[d] for d in sorted(days)],
    )


async def _upsert_year(session: AsyncSession, year: int, published_by: str, note: str) -> None:
    await session.execute(
        insert(CalendarYearRow)
        .values(year=year, published_by=published_by, note=note)
        .on_conflict_do_update(
            index_elements=[CalendarYearRow.year],
            set_={
                "published_by": published_by,
                "note": note,
                "updated_at": func.now(),
            },
        )
    )


async def _year_row(session: AsyncSession, year: int) -> CalendarYearRow:
    return (
        await session.execute(
            select(CalendarYearRow)
            .where(CalendarYearRow.year == year)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
