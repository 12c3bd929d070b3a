"""The village posting board (公示栏): what is being posted now, and only what may be."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import SessionDep, SettingsDep
from api.paging import NEXT_HEADER, After, decode_key
from api.postings_service import board_page
from api.responses import documented
from dibao.notices.render import render_page

router = APIRouter(responses=documented(422))

# A board's page: a village posting a whole ledger import at once is read a page at a time
# (a page fits a printed sheet's worth of tables, and the next page is linked).
POSTINGS_PAGE = 200


@router.get(
    "/postings",
    response_class=HTMLResponse,
    tags=["postings"],
    summary="The village's posting board (公示栏): what is being posted now",
)
async def postings(
    session: SessionDep,
    settings: SettingsDep,
    village: str = Query(pattern=r"^\d{12}$", description="12-digit village code"),
    format: str = Query(default="html", pattern="^(html|json)$"),
    limit: int = Query(
        default=POSTINGS_PAGE,
        ge=1,
        le=1000,
        description=f"a page of this many (default {POSTINGS_PAGE}); the next page's key is "
        "`next` (and the X-Next-Page header)",
    ),
    after: After = None,
    n: int = Query(
        default=0,
        ge=0,
        le=10_000_000,
        description="the page as HTML: postings of the `after` key's stage already shown on "
        "earlier pages, so that 序号 goes on (the next-page link carries it)",
    ),
) -> Any:
    now = datetime.now(UTC)
    key = decode_key(after, (str, datetime, str)) if after else None
    board = await board_page(session, village, now, limit, key, n)
    headers = {NEXT_HEADER: board.next_key} if board.next_key else {}
    if format == "json":
        items = [
            {field: value for field, value in asdict(row).items() if field != "number"}
            for row in board.rows
        ]
        return JSONResponse(
            {"village": village, "items": jsonable_encoder(items), "next": board.next_key},
            headers=headers,
        )
    next_url = (
        "/postings?"
        + urlencode(
            {"village": village, "limit": limit, "after": board.next_key, "n": board.next_n}
        )
        if board.next_key
        else None
    )
    page = render_page(
        settings.templates_dir,
        "postings/village.html.j2",
        {
            "village_code": village,
            "today": now,
            "groups": board.groups,
            "complaint_phone": settings.complaint_phone,
            "next_url": next_url,
        },
    )
    return HTMLResponse(page, headers=headers)
