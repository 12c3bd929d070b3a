"""The village posting board (公示栏): what is being posted now, and only what may be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import SessionDep, SettingsDep
from api.paging import NEXT_HEADER, After, decode_key, encode_key
from api.responses import documented
from dibao.db import procedure_repo
from dibao.domain.money import format_yuan
from dibao.notices.render import POSTING_TITLES, render_page

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
    # One row past the page: whether there is a next one.
    rows = await procedure_repo.open_postings_in_village(session, village, now, limit + 1, key)
    next_page = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_page = encode_key(rows[-1].stage, rows[-1].opens_at, rows[-1].posting_id)
    headers = {NEXT_HEADER: next_page} if next_page else {}
    # Only what DOMAIN.md allows on a posting: head's name, household size, category, amount.
    items = [
        {
            "stage": r.stage,
            "title": POSTING_TITLES[r.stage],
            "head_name": r.head_name,
            "household_size": r.household_size,
            "category": r.category,
            "amount": format_yuan(r.monthly_amount_fen),
            "opens_at": r.opens_at,
            "closes_at": r.closes_at,
        }
        for r in rows
    ]
    if format == "json":
        return JSONResponse(
            {"village": village, "items": jsonable_encoder(items), "next": next_page},
            headers=headers,
        )
    groups = []
    shown = {}  # postings of each stage shown up to the end of this page
    for stage, title in POSTING_TITLES.items():
        group_rows = [i for i in items if i["stage"] == stage]
        if group_rows:
            # The stage the page before ended in goes on where it stopped.
            first = n + 1 if key is not None and key[0] == stage else 1
            groups.append({"title": title, "rows": group_rows, "first": first})
            shown[stage] = first - 1 + len(group_rows)
    next_url = (
        "/postings?"
        + urlencode(
            {"village": village, "limit": limit, "after": next_page, "n": shown[rows[-1].stage]}
        )
        if next_page
        else None
    )
    page = render_page(
        settings.templates_dir,
        "postings/village.html.j2",
        {
            "village_code": village,
            "today": now,
            "groups": groups,
            "complaint_phone": settings.complaint_phone,
            "next_url": next_url,
        },
    )
    return HTMLResponse(page, headers=headers)
