"""The office holiday table combined with the official calendar, against real PostgreSQL.

2027 facts used here are a made-up office entry (the State Council has not published 2027 in
chinese-calendar 1.11): National Day Fri 2027-10-01 to Thu 10-07, make-up working day Sat 10-09.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import calendar_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.calendar import (
    DayEntry,
    DaySource,
    YearStatus,
    add_working_days,
    official_is_working_day,
)
from dibao.settings import Settings

SAT = 5
NATIONAL_DAY_2027 = [
    *(DayEntry(date(2027, 10, d), False, "国庆节") for d in range(1, 8)),
    DayEntry(date(2027, 9, 26), True, "调休上班"),
    DayEntry(date(2027, 10, 9), True, "调休上班"),
]


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(Settings(database_url=database_url))
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def deadline_from_db(
    session: AsyncSession, start: date, days: int
) -> tuple[date, str | None]:
    is_working_day = await calendar_repo.working_day_function(
        session, start, calendar_repo.horizon(start, days)
    )
    deadline = add_working_days(start, days, is_working_day)
    return deadline.due_date, deadline.warning


async def enter_2027(session: AsyncSession) -> None:
    await calendar_repo.replace_year(
        session, 2027, NATIONAL_DAY_2027, published_by="li.na", note="test arrangement"
    )


# --- years the official calendar covers ---------------------------------------------------


async def test_national_day_2026_deadline_is_unchanged_by_the_db(session: AsyncSession) -> None:
    # The office's 2027 table, including a row for 2027 dates, must not touch 2026.
    await enter_2027(session)
    assert official_is_working_day(date(2026, 10, 10)) is True  # the make-up Saturday
    # Wed 2026-09-30: Oct 1-7 holidays; Oct 8 (1), Oct 9 (2), Sat Oct 10 (3), Mon Oct 12 (4).
    for days, expected in [
        (1, date(2026, 10, 8)),
        (3, date(2026, 10, 10)),
        (4, date(2026, 10, 12)),
    ]:
        due, warning = await deadline_from_db(session, date(2026, 9, 30), days)
        assert due == expected
        assert warning is None
        assert add_working_days(date(2026, 9, 30), days).due_date == expected
    # The 20-working-day case across Mid-Autumn and National Day (see tests/domain).
    assert await deadline_from_db(session, date(2026, 9, 15), 20) == (date(2026, 10, 19), None)


async def test_an_office_row_for_a_2026_day_overrides_the_official_calendar(
    session: AsyncSession,
) -> None:
    # Fri 2026-10-09 is an official working day; a correction makes it a holiday.
    await calendar_repo.set_day(
        session, date(2026, 10, 9), is_working_day=False, note="更正", updated_by="li.na"
    )
    # From Wed 2026-09-30: Oct 8 (1), Oct 9 skipped, Sat Oct 10 (2), Mon Oct 12 (3).
    assert await deadline_from_db(session, date(2026, 9, 30), 2) == (date(2026, 10, 10), None)
    assert await deadline_from_db(session, date(2026, 9, 30), 3) == (date(2026, 10, 12), None)

    calendar = await calendar_repo.list_year(session, 2026)
    assert calendar.status is YearStatus.OFFICIAL
    listed = {d.day: d for d in calendar.days}
    assert listed[date(2026, 10, 9)].source is DaySource.OFFICE
    assert listed[date(2026, 10, 9)].is_working_day is False
    # The official exceptions are listed beside it, named in Chinese.
    assert listed[date(2026, 10, 1)].source is DaySource.OFFICIAL
    assert listed[date(2026, 10, 1)].note == "国庆节"
    assert listed[date(2026, 10, 10)].is_working_day is True
    assert calendar.warning is None


# --- a year beyond the official calendar --------------------------------------------------


async def test_office_entered_2027_skips_its_holidays_and_counts_the_make_up_saturday(
    session: AsyncSession,
) -> None:
    await enter_2027(session)
    # From Thu 2027-09-30: Oct 1-7 holidays; Fri Oct 8 (1), Sat Oct 9 make-up (2), Mon Oct 11 (3).
    assert await deadline_from_db(session, date(2027, 9, 30), 1) == (date(2027, 10, 8), None)
    due, warning = await deadline_from_db(session, date(2027, 9, 30), 2)
    assert due == date(2027, 10, 9)
    assert due.weekday() == SAT
    assert warning is None
    assert await deadline_from_db(session, date(2027, 9, 30), 3) == (date(2027, 10, 11), None)
    # Unlisted days of an entered year: Mon-Fri work, weekends rest; make-up Sunday Sep 26 counts.
    assert await deadline_from_db(session, date(2027, 9, 24), 1) == (date(2027, 9, 26), None)
    assert await deadline_from_db(session, date(2027, 9, 17), 1) == (date(2027, 9, 20), None)

    calendar = await calendar_repo.list_year(session, 2027)
    assert calendar.status is YearStatus.OFFICE_ENTERED
    assert calendar.published is not None
    assert calendar.published.published_by == "li.na"
    assert calendar.warning is None
    assert [d.day for d in calendar.days] == sorted(d.day for d in NATIONAL_DAY_2027)


async def test_2027_without_entries_falls_back_to_weekends_only_with_a_warning(
    session: AsyncSession,
) -> None:
    due, warning = await deadline_from_db(session, date(2027, 9, 30), 2)
    # Weekends only: Fri Oct 1 (1) counts although it is National Day, Mon Oct 4 (2).
    assert due == date(2027, 10, 4)
    assert warning is not None
    assert "2027" in warning

    calendar = await calendar_repo.list_year(session, 2027)
    assert calendar.status is YearStatus.NOT_COVERED
    assert calendar.warning is not None
    assert "2027" in calendar.warning


async def test_days_of_an_unpublished_year_are_not_used(session: AsyncSession) -> None:
    # A half-entered year must not give deadlines that look official.
    await calendar_repo.set_day(
        session, date(2027, 10, 1), is_working_day=False, note="国庆节", updated_by="li.na"
    )
    due, warning = await deadline_from_db(session, date(2027, 9, 30), 1)
    assert due == date(2027, 10, 1)
    assert warning is not None and "2027" in warning
    calendar = await calendar_repo.list_year(session, 2027)
    assert calendar.warning is not None and "not used" in calendar.warning

    await calendar_repo.publish_year(session, 2027, published_by="li.na")
    assert await deadline_from_db(session, date(2027, 9, 30), 1) == (date(2027, 10, 4), None)


async def test_a_deadline_from_2026_into_an_entered_2027(session: AsyncSession) -> None:
    await calendar_repo.replace_year(
        session, 2027, [DayEntry(date(2027, 1, 1), False, "元旦")], published_by="li.na"
    )
    # Mon 2026-12-28: Dec 29-31 (3), New Year's Day Fri 2027-01-01 skipped, Mon Jan 4 (4).
    assert await deadline_from_db(session, date(2026, 12, 28), 4) == (date(2027, 1, 4), None)


async def test_loading_a_year_again_replaces_its_days(session: AsyncSession) -> None:
    await enter_2027(session)
    removed = await calendar_repo.replace_year(
        session, 2027, [DayEntry(date(2027, 1, 1), False, "元旦")], published_by="wang.fang"
    )
    assert removed == len(NATIONAL_DAY_2027)
    calendar = await calendar_repo.list_year(session, 2027)
    assert [d.day for d in calendar.days] == [date(2027, 1, 1)]
    assert calendar.published is not None
    assert calendar.published.published_by == "wang.fang"


async def test_set_day_twice_keeps_the_latest(session: AsyncSession) -> None:
    day = date(2027, 5, 1)
    await calendar_repo.set_day(session, day, is_working_day=True, note="x", updated_by="a")
    row = await calendar_repo.set_day(
        session, day, is_working_day=False, note="劳动节", updated_by="b"
    )
    assert (row.is_working_day, row.note, row.updated_by) == (False, "劳动节", "b")


async def test_a_day_outside_the_loaded_window_is_refused_not_guessed(
    session: AsyncSession,
) -> None:
    is_working_day = await calendar_repo.working_day_function(
        session, date(2026, 9, 30), date(2026, 10, 5)
    )
    with pytest.raises(ValueError, match="outside the loaded calendar window"):
        add_working_days(date(2026, 9, 30), 5, is_working_day)
