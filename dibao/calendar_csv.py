"""A year's holiday arrangement as CSV (day,is_working_day,note): every row checked, one bad row
loads nothing. Shared by `dibao calendar load` and the console's calendar page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from dibao.domain.calendar import DayEntry

CSV_HEADER = ["day", "is_working_day", "note"]
NOTE_MAX = 100  # as the API allows
_TRUE = {"1", "true", "是"}
_FALSE = {"0", "false", "否"}
# ISO dates, and the slashed form spreadsheet programs write when they re-save a CSV.
_DAY = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


@dataclass(frozen=True)
class ParsedCalendar:
    days: list[DayEntry]
    errors: list[str]


def parse_day(text: str) -> date:
    match = _DAY.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as err:
        raise ValueError(f"{text!r} is not a date ({err})") from None


def parse_calendar_csv(content: str, year: int) -> ParsedCalendar:
    """Every row checked, every problem reported with its line; days only when there are none."""
    reader = csv.reader(io.StringIO(content, newline=""))
    errors: list[str] = []
    days: list[DayEntry] = []
    first_line: dict[date, int] = {}
    header: list[str] | None = None
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue  # blank lines, including a trailing one
        if header is None:
            header = [f.strip().lower() for f in fields]
            if header != CSV_HEADER:
                errors.append(
                    f"line {line}: the header must be {','.join(CSV_HEADER)}, "
                    f"got {','.join(fields)}"
                )
                # Without the right columns every row would be misread; say so once.
                return ParsedCalendar([], errors)
            continue
        if len(fields) != len(CSV_HEADER):
            errors.append(
                f"line {line}: expected {len(CSV_HEADER)} fields ({','.join(CSV_HEADER)}), "
                f"got {len(fields)}"
            )
            continue
        raw_day, raw_working, note = (f.strip() for f in fields)
        row_errors: list[str] = []
        day: date | None = None
        try:
            day = parse_day(raw_day)
        except ValueError as err:
            row_errors.append(str(err))
        if day is not None and day.year != year:
            row_errors.append(f"{day} is not in {year}")
        elif day is not None and day in first_line:
            row_errors.append(f"{day} is already listed on line {first_line[day]}")
        working: bool | None = None
        if raw_working.lower() in _TRUE:
            working = True
        elif raw_working.lower() in _FALSE:
            working = False
        else:
            row_errors.append(f"is_working_day must be 1/0/true/false/是/否, got {raw_working!r}")
        if len(note) > NOTE_MAX:
            row_errors.append(f"note is longer than {NOTE_MAX} characters")
        errors += [f"line {line}: {e}" for e in row_errors]
        if day is not None and day not in first_line:
            first_line[day] = line
        if not row_errors and day is not None and working is not None:
            days.append(DayEntry(day=day, is_working_day=working, note=note))
    if header is None:
        errors.append(f"line 1: the file is empty; expected the header {','.join(CSV_HEADER)}")
    elif not errors and not days:
        # A year with no holidays at all is never the real arrangement: likely the wrong file.
        errors.append("the file lists no days")
    return ParsedCalendar([] if errors else days, errors)
