"""Opaque `after=` cursors of keyed pages: the last row's key, which a client hands back."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import HTTPException, Query

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
    raw = json.dumps([filed_at.isoformat(), case_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_after(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        filed_at, case_id = json.loads(raw)
        key = (datetime.fromisoformat(filed_at), str(case_id))
    except (binascii.Error, ValueError, TypeError) as err:
        raise decode_error() from err
    if key[0].tzinfo is None:
        raise decode_error()
    return key


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
