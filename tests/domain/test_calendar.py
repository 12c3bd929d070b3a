"""Working-day deadlines on China's official calendar, with 调休 (make-up working days).

Expected dates were computed with chinese_calendar 1.11.0 and checked by hand; the 2026 facts
each test relies on are asserted first so a calendar-data change shows up as such.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest

from dibao.domain.calendar import (
    CHINA_TZ,
    add_working_days,
    china_date,
    official_is_working_day,
)

SAT = 5
SUN = 6


# --- official_is_working_day ----------------------------------------------------------------


def test_national_day_2026_is_not_a_working_day() -> None:
    for day in range(1, 8):
        assert official_is_working_day(date(2026, 10, day)) is False


def test_make_up_saturday_after_national_day_2026_is_a_working_day() -> None:
    make_up = date(2026, 10, 10)
    assert make_up.weekday() == SAT
    assert official_is_working_day(make_up) is True


def test_make_up_sunday_before_national_day_2026_is_a_working_day() -> None:
    make_up = date(2026, 9, 20)
    assert make_up.weekday() == SUN
    assert official_is_working_day(make_up) is True


def test_ordinary_weekend_is_not_a_working_day() -> None:
    assert official_is_working_day(date(2026, 10, 17)) is False  # Saturday
    assert official_is_working_day(date(2026, 10, 18)) is False  # Sunday


def test_year_without_official_calendar_is_unknown_not_guessed() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert official_is_working_day(date(2027, 1, 4)) is None


# --- add_working_days: basics -------------------------------------------------------------


def test_zero_days_returns_the_start_date_even_on_a_holiday() -> None:
    deadline = add_working_days(date(2026, 10, 1), 0)
    assert deadline.due_date == date(2026, 10, 1)
    assert deadline.warning is None


def test_zero_days_returns_the_start_date_in_an_uncovered_year_without_warning() -> None:
    deadline = add_working_days(date(2027, 3, 1), 0)
    assert deadline.due_date == date(2027, 3, 1)
    assert deadline.warning is None


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 6, 1), -1)


def test_start_day_itself_is_not_counted() -> None:
    # Monday 2026-06-08 + 1 working day is Tuesday.
    assert add_working_days(date(2026, 6, 8), 1).due_date == date(2026, 6, 9)


def test_ordinary_weekend_is_skipped() -> None:
    # Friday 2026-06-12 + 1 working day is Monday 2026-06-15.
    assert add_working_days(date(2026, 6, 12), 1).due_date == date(2026, 6, 15)


def test_deadline_is_due_at_end_of_day_china_time() -> None:
    deadline = add_working_days(date(2026, 6, 8), 1)
    assert deadline.due_at == datetime.combine(date(2026, 6, 9), time(23, 59, 59), tzinfo=CHINA_TZ)
    assert deadline.due_at.utcoffset() == timedelta(hours=8)


# --- National Day 2026 ----------------------------------------------------------------------


def test_deadline_from_last_day_before_national_day_skips_the_whole_holiday() -> None:
    # Wed 2026-09-30; Oct 1-7 are holidays; Thu Oct 8 is the first working day after.
    deadline = add_working_days(date(2026, 9, 30), 1)
    assert deadline.due_date == date(2026, 10, 8)
    assert deadline.warning is None


def test_make_up_saturday_after_national_day_counts_as_a_working_day() -> None:
    # From Wed 2026-09-30: Oct 8 (Thu), Oct 9 (Fri), Oct 10 (Sat, make-up working day).
    deadline = add_working_days(date(2026, 9, 30), 3)
    assert deadline.due_date == date(2026, 10, 10)
    assert deadline.due_date.weekday() == SAT
    # ... and the next one skips only the ordinary Sunday.
    assert add_working_days(date(2026, 9, 30), 4).due_date == date(2026, 10, 12)


def test_make_up_sunday_before_national_day_counts_as_a_working_day() -> None:
    # Friday 2026-09-18 + 1 working day is Sunday 2026-09-20 (make-up day), not Monday.
    assert add_working_days(date(2026, 9, 18), 1).due_date == date(2026, 9, 20)


def test_twenty_working_day_deadline_across_mid_autumn_and_national_day_2026() -> None:
    # From Tue 2026-09-15: Sep 16-18 (3), Sun Sep 20 (4), Sep 21-24 (8), Mid-Autumn Sep 25-27
    # skipped, Sep 28-30 (11), National Day Oct 1-7 skipped, Oct 8-9 (13), Sat Oct 10 (14),
    # Oct 12-16 (19), Mon Oct 19 (20). Weekends-only counting would give Oct 13.
    deadline = add_working_days(date(2026, 9, 15), 20)
    assert deadline.due_date == date(2026, 10, 19)
    assert deadline.warning is None


# --- Spring Festival 2026 -------------------------------------------------------------------


def test_spring_festival_2026_holiday_is_skipped_and_make_up_saturday_counts() -> None:
    assert all(official_is_working_day(date(2026, 2, d)) is False for d in range(15, 24))
    # Fri Feb 13 + 1 = Sat Feb 14 (make-up working day); + 2 = Tue Feb 24 (after the holiday).
    assert add_working_days(date(2026, 2, 13), 1).due_date == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2).due_date == date(2026, 2, 24)


def test_make_up_saturday_after_spring_festival_2026_counts() -> None:
    # Tue Feb 24 + 4 = Sat Feb 28 (make-up working day); + 5 = Mon Mar 2.
    assert add_working_days(date(2026, 2, 24), 4).due_date == date(2026, 2, 28)
    assert add_working_days(date(2026, 2, 24), 5).due_date == date(2026, 3, 2)


def test_twenty_working_day_deadline_across_spring_festival_2026() -> None:
    # From Sun 2026-02-01: Feb 2-6 (5), Feb 9-13 (10), Sat Feb 14 (11), holiday Feb 15-23,
    # Feb 24-27 (15), Sat Feb 28 (16), Mar 2-5 (20).
    deadline = add_working_days(date(2026, 2, 1), 20)
    assert deadline.due_date == date(2026, 3, 5)
    assert deadline.warning is None


# --- into 2027: no official calendar ------------------------------------------------------


def test_deadline_running_into_2027_falls_back_to_weekends_only_with_warning() -> None:
    # Mon 2026-12-28: Dec 29-31 (3, official), then weekends-only: Fri 2027-01-01 counts (4)
    # although it is New Year's Day, Sat/Sun skipped, Mon Jan 4 (5).
    deadline = add_working_days(date(2026, 12, 28), 5)
    assert deadline.due_date == date(2027, 1, 4)
    assert deadline.warning
    assert "2027" in deadline.warning
    assert "2026" not in deadline.warning


def test_twenty_working_days_from_december_2026_land_in_2027_with_warning() -> None:
    deadline = add_working_days(date(2026, 12, 10), 20)
    assert deadline.due_date == date(2027, 1, 7)
    assert deadline.warning is not None
    assert "2027" in deadline.warning


def test_deadline_spanning_two_uncovered_years_names_both() -> None:
    deadline = add_working_days(date(2027, 12, 30), 3)
    assert deadline.due_date == date(2028, 1, 4)
    assert deadline.warning is not None
    assert "2027" in deadline.warning
    assert "2028" in deadline.warning


def test_deadline_within_2026_carries_no_warning() -> None:
    assert add_working_days(date(2026, 12, 1), 10).warning is None


# --- an office-maintained calendar can be plugged in ---------------------------------------


def test_office_holiday_table_is_used_instead_of_the_official_calendar() -> None:
    holidays_2027 = {date(2027, 1, 1)}

    def office_calendar(day: date) -> bool | None:
        if day.year == 2027:
            return day.weekday() < 5 and day not in holidays_2027
        return official_is_working_day(day)

    deadline = add_working_days(date(2026, 12, 28), 5, office_calendar)
    assert deadline.due_date == date(2027, 1, 5)
    assert deadline.warning is None


# --- china_date -----------------------------------------------------------------------------


def test_china_date_of_a_late_utc_evening_is_the_next_day_in_china() -> None:
    assert china_date(datetime(2026, 9, 30, 17, 0, tzinfo=UTC)) == date(2026, 10, 1)
    assert china_date(datetime(2026, 9, 30, 15, 59, tzinfo=UTC)) == date(2026, 9, 30)
