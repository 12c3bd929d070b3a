"""Opaque `after=` cursors of keyed pages: the last row's key, which a client hands back."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query

T = TypeVar("T", str, int)

# Where a list answered as a bare JSON array (kept so for its clients) gives the `after=` of
# its next page.
NEXT_HEADER = "X-Next-After"

# A cursor is a few dozen characters; anything far longer is no cursor of ours.
After = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the `next` of the previous page: the page after it, by key",
    ),
]


def encode_after(filed_at: datetime, case_id: str) -> str:
    return encode_key(filed_at, case_id)


def decode_after(cursor: str) -> tuple[datetime, str]:
    return decode_time_key(cursor, str)


def encode_key(*parts: datetime | str | int) -> str:
    """The cursor of a page ordered by these keys of its last row (the last: a unique ID)."""
    raw = json.dumps(
        [p.isoformat() if isinstance(p, datetime) else p for p in parts], separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(cursor: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """The keys of a cursor of `encode_key`, of these types (datetime: aware); 422 otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise ValueError("not a key of this listing")
        key: list[Any] = []
        for kind, part in zip(kinds, parts, strict=True):
            if kind is datetime:
                at = datetime.fromisoformat(part)
                if at.tzinfo is None:
                    raise ValueError("a cursor's time has its offset")
                key.append(at)
            elif kind is int:
                if not isinstance(part, int) or isinstance(part, bool):
                    raise ValueError("an ID cursor holds an integer")
                key.append(part)
            else:
                key.append(str(part))
    except (binascii.Error, ValueError, TypeError) as err:
        raise decode_error() from err
    return tuple(key)


def decode_time_key(cursor: str, tiebreak: type[T]) -> tuple[datetime, T]:
    """(time, tiebreak ID) of a cursor of `encode_key`; 422 for anything else."""
    at, last = decode_key(cursor, (datetime, tiebreak))
    return at, last


def decode_error() -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[
            {
                "loc": ["query", "after"],
                "msg": "not a cursor of this listing: pass the `next` of a page as given",
                "type": "value_error",
            }
        ],
    )
