"""The office-maintained holiday table, and the working-day rule that combines it with the
official calendar.

Which source decides a day:
- a year `chinese_calendar` covers: the official calendar, unless the office entered a row for
  that very day (a correction);
- a later year listed in `calendar_years` (the office entered its State Council arrangement): a
  day with a row uses the row, any other day is a working day iff Monday–Friday;
- a later year not listed: unknown (None), so `add_working_days` falls back to weekends only and
  the deadline carries a warning. Rows of such a year are not used: a half-entered year would
  otherwise give deadlines that look official but miss holidays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import chinese_calendar
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.policy_models import CalendarDayRow, CalendarYearRow
from dibao.domain.calendar import official_is_working_day


class YearStatus(StrEnum):
    OFFICIAL = "official"  # chinese_calendar covers it
    OFFICE_ENTERED = "office_entered"  # listed in calendar_years
    NOT_COVERED = "not_covered"  # weekends only, with a warning


class DaySource(StrEnum):
    OFFICIAL = "official"
    OFFICE = "office"


@dataclass(frozen=True)
class DayEntry:
    day: date
    is_working_day: bool
    note: str


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
        if self.status is not YearStatus.NOT_COVERED:
            return None
        warning = (
            f"no holiday calendar for {self.year}: deadlines in {self.year} skip weekends only, "
            "so public holidays and make-up working days are not accounted for"
        )
        if self.days:
            # Rows entered one by one do not count until the year is published as a whole.
            warning += (
                f"; the {len(self.days)} day(s) entered are not used until the year's "
                "arrangement is loaded or published"
            )
        return warning


def official_covers(year: int) -> bool:
    return (
        official_is_working_day(date(year, 1, 1)) is not None
        and official_is_working_day(date(year, 12, 31)) is not None
    )


def horizon(start: date, working_days: int) -> date:
    """A day far enough after `start` to hold `working_days` working days.

    Five working days a week need 7/5 calendar days each; the longest holidays (Spring Festival,
    National Day) add at most about nine days each. Twice the count plus a month covers both
    with room to spare, for a handful of days or for a year.
    """
    return start + timedelta(days=2 * working_days + 30)


async def working_day_function(
    session: AsyncSession, start: date, end: date
) -> Callable[[date], bool | None]:
    """Load the table for `start`..`end` once; the returned function answers without the DB.

    Pass it to `dibao.domain.calendar.add_working_days`; choose `end` with `horizon()`. A day
    outside the window raises instead of guessing, since a guess would drop the office's rows.
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

    def is_working_day(day: date) -> bool | None:
        if not start <= day <= end:
            raise ValueError(
                f"{day} is outside the loaded calendar window {start}..{end}; "
                "load a wider window (see calendar_repo.horizon)"
            )
        row = listed.get(day)
        official = official_is_working_day(day)
        if official is not None:
            return official if row is None else row
        if day.year not in published:
            return None
        if row is not None:
            return row
        return day.weekday() < 5

    return is_working_day


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
    if official_covers(year):
        status = YearStatus.OFFICIAL
        days.update((d.day, d) for d in _official_exceptions(year))
    elif published is not None:
        status = YearStatus.OFFICE_ENTERED
    else:
        status = YearStatus.NOT_COVERED
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


def _official_exceptions(year: int) -> list[ListedDay]:
    """The official holidays on weekdays and make-up working days on weekends of `year`."""
    listed: list[ListedDay] = []
    day = date(year, 1, 1)
    while day.year == year:
        working = official_is_working_day(day)
        if working is not None and working != (day.weekday() < 5):
            listed.append(
                ListedDay(
                    day=day,
                    is_working_day=working,
                    note=_official_note(day, working),
                    source=DaySource.OFFICIAL,
                )
            )
        day += timedelta(days=1)
    return listed


def _official_note(day: date, working: bool) -> str:
    # chinese_calendar names the holiday in English; its Holiday enum carries the Chinese name.
    names: dict[date, str] = chinese_calendar.workdays if working else chinese_calendar.holidays
    english = names.get(day)
    chinese = ""
    if english is not None:
        try:
            chinese = str(chinese_calendar.Holiday(english).chinese)
        except ValueError:
            chinese = str(english)
    if working:
        return f"调休上班（{chinese}）" if chinese else "调休上班"
    return chinese


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
