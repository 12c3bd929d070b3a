"""The rule combining the office's holiday table with the official calendar, without a database
(dibao.db.calendar_repo only loads the rows). 2027 is not in chinese-calendar 1.11; its National
Day here is a made-up office entry (Fri 2027-10-01 to Thu 10-07, make-up Saturday 10-09)."""

from __future__ import annotations

from datetime import date

import pytest

from dibao.domain.calendar import (
    YearStatus,
    add_working_days,
    horizon,
    office_working_day,
    official_covers,
    official_exceptions,
    year_status,
    year_warning,
)

OFFICE_2027 = {
    **{date(2027, 10, d): False for d in range(1, 8)},
    date(2027, 10, 9): True,
}


def test_an_office_correction_overrides_the_official_calendar() -> None:
    is_working_day = office_working_day(
        date(2026, 1, 1), date(2026, 12, 31), {date(2026, 10, 8): False}, frozenset()
    )
    assert is_working_day(date(2026, 10, 8)) is False  # officially a working day
    assert is_working_day(date(2026, 10, 1)) is False  # official holiday, no row
    assert is_working_day(date(2026, 10, 10)) is True  # official make-up Saturday


def test_a_published_year_uses_its_rows_and_otherwise_monday_to_friday() -> None:
    is_working_day = office_working_day(
        date(2027, 1, 1), date(2027, 12, 31), OFFICE_2027, frozenset({2027})
    )
    assert is_working_day(date(2027, 10, 4)) is False  # Monday in the office's holiday
    assert is_working_day(date(2027, 10, 9)) is True  # Saturday, make-up day
    assert is_working_day(date(2027, 10, 11)) is True  # an ordinary Monday
    assert is_working_day(date(2027, 10, 16)) is False  # an ordinary Saturday
    # Thu 2027-09-30 + 3 working days: Oct 8, Sat Oct 9, Mon Oct 11; no warning.
    deadline = add_working_days(date(2027, 9, 30), 3, is_working_day)
    assert (deadline.due_date, deadline.warning) == (date(2027, 10, 11), None)


def test_rows_of_an_unpublished_year_are_not_used() -> None:
    is_working_day = office_working_day(
        date(2027, 1, 1), date(2027, 12, 31), OFFICE_2027, frozenset()
    )
    assert is_working_day(date(2027, 10, 4)) is None
    deadline = add_working_days(date(2027, 9, 30), 3, is_working_day)
    assert deadline.due_date == date(2027, 10, 5) and deadline.warning is not None


def test_a_day_outside_the_loaded_window_is_refused_not_guessed() -> None:
    is_working_day = office_working_day(date(2026, 1, 1), date(2026, 1, 31), {}, frozenset())
    with pytest.raises(ValueError, match="outside the loaded calendar window"):
        is_working_day(date(2026, 2, 1))
    with pytest.raises(ValueError, match="before start"):
        office_working_day(date(2026, 2, 1), date(2026, 1, 1), {}, frozenset())


def test_the_horizon_holds_the_working_days_across_spring_festival() -> None:
    start = date(2026, 2, 10)
    end = horizon(start, 20)
    is_working_day = office_working_day(start, end, {}, frozenset())
    assert add_working_days(start, 20, is_working_day).due_date <= end


def test_year_status_and_its_warning() -> None:
    assert official_covers(2026) and not official_covers(2027)
    assert year_status(2026, published=False) is YearStatus.OFFICIAL
    assert year_status(2027, published=True) is YearStatus.OFFICE_ENTERED
    assert year_status(2027, published=False) is YearStatus.NOT_COVERED
    assert year_warning(2026, YearStatus.OFFICIAL, 0) is None
    warning = year_warning(2027, YearStatus.NOT_COVERED, 2)
    assert warning is not None and "skip weekends only" in warning
    assert "the 2 day(s) entered are not used" in warning


def test_official_exceptions_name_holidays_and_make_up_days_in_chinese() -> None:
    days = {d.day: d for d in official_exceptions(2026)}
    assert days[date(2026, 10, 1)].is_working_day is False
    assert days[date(2026, 10, 1)].note == "国庆节"
    assert days[date(2026, 10, 10)].is_working_day is True
    assert days[date(2026, 10, 10)].note == "调休上班（国庆节）"
    assert date(2026, 10, 3) not in days  # a Saturday holiday is an ordinary weekend
