"""The bounded input types every request body and parameter is made of.

Whatever the API accepts is stored by some activity (PostgreSQL text columns, notices, the bank
file) and replayed from workflow histories for years: a NUL byte, an invisible control character
or a lone surrogate that passes here fails there, as a stuck step instead of a 422. So strings
are checked once, here, before anything is asked of the workflow: `Line` for names, codes and
references (no control characters at all), `Text` for free text (tabs and line breaks allowed).
Lengths are given per field, matching the column that stores the value.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any

from fastapi import Header, Path, Query
from pydantic import AfterValidator, BeforeValidator, Field

_TEXT_ALLOWED = frozenset("\t\n\r")


def _refuse_unprintable(value: str, allowed: frozenset[str]) -> str:
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError(f"invalid text: an unpaired surrogate at position {position}")
        if category == "Cc" and char not in allowed:
            raise ValueError(
                f"invalid text: the control character U+{ord(char):04X} at position {position}"
            )
    return value


def printable_line(value: str) -> str:
    return _refuse_unprintable(value, frozenset())


def printable_text(value: str) -> str:
    return _refuse_unprintable(value, _TEXT_ALLOWED)


# Every string field of a request body is one of these two, with its own max_length.
Line = Annotated[str, AfterValidator(printable_line)]
Text = Annotated[str, AfterValidator(printable_text)]

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    # Pydantic would read a number as seconds since 1970 (`0` → 1970-01-01): a day is written
    # as a day.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


# Days of bodies and paths: YYYY-MM-DD only.
IsoDate = Annotated[date, BeforeValidator(_iso_day)]
Day = Annotated[IsoDate, Path(description="YYYY-MM-DD", examples=["2027-10-01"])]

# Staff IDs are user IDs (users.user_id: String(64), lower-case letters, digits, . _ -); case
# is left to the registry's own check, which names the unknown ID.
_STAFF_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
StaffId = Annotated[Line, Field(min_length=1, max_length=64, pattern=_STAFF_ID)]

# Items of lists: a reference to an attached document (file name or archive number), one reason
# of an opinion.
Reference = Annotated[Line, Field(min_length=1, max_length=200)]
ReasonItem = Annotated[Text, Field(max_length=500)]
IdNumber = Annotated[
    Line, Field(min_length=18, max_length=18, description="18-digit resident ID number")
]

# What an activity stores under (case, step) keys: "<step>/<key>" fits String(100) with room for
# the longest step name; the charset keeps keys printable in logs, workflow IDs and CSV.
IDEMPOTENCY_KEY_MAX = 64
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=r"^[A-Za-z0-9._:~-]+$",
        description="repeat the request with the same key and it has no second effect "
        f"(1–{IDEMPOTENCY_KEY_MAX} of A–Z a–z 0–9 . _ : ~ -)",
    ),
]

# Path and query parameters. Bad characters in any of them are refused before routing (see
# api/input_guard.py); these bound lengths and numbers so nothing unbounded reaches a query.
CaseId = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$", examples=["DB-0123456789AB"])
]
NoticeId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
StaffIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=_STAFF_ID)]
BatchId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
# Offsets past any real listing are refused rather than handed to PostgreSQL as a bigint.
MAX_OFFSET = 1_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
CaseIdQuery = Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
