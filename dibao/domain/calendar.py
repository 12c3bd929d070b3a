"""Working-day deadlines on the Chinese official calendar (调休 included).

`chinese_calendar` carries the State Council's holiday arrangements up to the last year it knows.
For later years there is no official data here, so weekends-only is used and the result says so:
a deadline computed that way must be shown with a warning, never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

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
