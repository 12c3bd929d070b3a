"""Working-day deadlines on the Chinese official calendar (调休 included), and the rule that
combines it with the office's holiday table (dibao.db.calendar_repo reads and writes the rows).

`chinese_calendar` carries the State Council's holiday arrangements up to the last year it knows.
For later years there is no official data here, so weekends-only is used and the result says so:
a deadline computed that way must be shown with a warning, never silently.

Which source decides a day:
- a year `chinese_calendar` covers: the official calendar, unless the office entered a row for
  that very day (a correction);
- a later year the office published (entered its State Council arrangement): a day with a row
  uses the row, any other day is a working day iff Monday–Friday;
- a later year not published: unknown (None), so `add_working_days` falls back to weekends only
  and the deadline carries a warning. Rows of such a year are not used: a half-entered year would
  otherwise give deadlines that look official but miss holidays.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

import chinese_calendar

CHINA_TZ = timezone(timedelta(hours=8), name="Asia/Shanghai")  # no DST in China


@dataclass(frozen=True)
class Deadline:
    due_date: date
    due_at: datetime  # end of the due date, China time
    warning: str | None = None


def official_is_working_day(day: date) -> bool | None:
    """True/False from the official calendar, or None for a year it does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class YearStatus(StrEnum):
    OFFICIAL = "official"  # chinese_calendar covers it
    OFFICE_ENTERED = "office_entered"  # the office published its arrangement
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
class OfficialDay:
    """A day the official calendar treats unlike an ordinary week: a holiday on a weekday or a
    make-up working day (调休上班) on a weekend."""

    day: date
    is_working_day: bool
    note: str


def official_covers(year: int) -> bool:
    return (
        official_is_working_day(date(year, 1, 1)) is not None
        and official_is_working_day(date(year, 12, 31)) is not None
    )


def year_status(year: int, published: bool) -> YearStatus:
    if official_covers(year):
        return YearStatus.OFFICIAL
    return YearStatus.OFFICE_ENTERED if published else YearStatus.NOT_COVERED


def year_warning(year: int, status: YearStatus, entered_days: int) -> str | None:
    """What a user reading the year's calendar must be told: deadlines skip weekends only."""
    if status is not YearStatus.NOT_COVERED:
        return None
    warning = (
        f"no holiday calendar for {year}: deadlines in {year} skip weekends only, "
        "so public holidays and make-up working days are not accounted for"
    )
    if entered_days:
        # Rows entered one by one do not count until the year is published as a whole.
        warning += (
            f"; the {entered_days} day(s) entered are not used until the year's "
            "arrangement is loaded or published"
        )
    return warning


def horizon(start: date, working_days: int) -> date:
    """A day far enough after `start` to hold `working_days` working days.

    Five working days a week need 7/5 calendar days each; the longest holidays (Spring Festival,
    National Day) add at most about nine days each. Twice the count plus a month covers both
    with room to spare, for a handful of days or for a year.
    """
    return start + timedelta(days=2 * working_days + 30)


def office_working_day(
    start: date, end: date, listed: Mapping[date, bool], published: Collection[int]
) -> Callable[[date], bool | None]:
    """The working-day function for `start`..`end` from the office's rows in that window
    (`listed`: day → working) and the years it published; pass it to `add_working_days`.

    A day outside the window raises instead of guessing, since a guess would drop the office's
    rows.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")

    def is_working_day(day: date) -> bool | None:
        if not start <= day <= end:
            raise ValueError(
                f"{day} is outside the loaded calendar window {start}..{end}; "
                "load a wider window (see dibao.domain.calendar.horizon)"
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


def official_exceptions(year: int) -> list[OfficialDay]:
    """The official holidays on weekdays and make-up working days on weekends of `year`."""
    listed: list[OfficialDay] = []
    day = date(year, 1, 1)
    while day.year == year:
        working = official_is_working_day(day)
        if working is not None and working != (day.weekday() < 5):
            listed.append(OfficialDay(day, working, official_note(day, working)))
        day += timedelta(days=1)
    return listed


def official_note(day: date, working: bool) -> str:
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


def add_working_days(
    start: date, days: int, is_working_day: Callable[[date], bool | None] = official_is_working_day
) -> Deadline:
    """The `days`-th working day after `start` (the start day itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    counted = 0
    fallback_years: set[int] = set()
    while counted < days:
        current += timedelta(days=1)
        working = is_working_day(current)
        if working is None:
            fallback_years.add(current.year)
            working = current.weekday() < 5
        if working:
            counted += 1
    warning = None
    if fallback_years:
        years = ", ".join(str(y) for y in sorted(fallback_years))
        warning = (
            f"no official holiday calendar for {years}: weekends only were skipped, "
            "so public holidays and make-up working days are not accounted for"
        )
    due_at = datetime.combine(current, time(23, 59, 59), tzinfo=CHINA_TZ)
    return Deadline(due_date=current, due_at=due_at, warning=warning)


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()
