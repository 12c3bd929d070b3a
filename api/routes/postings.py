"""The village posting board (公示栏): what is being posted now, and only what may be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
    limit: int | None = Query(
        default=None, ge=1, le=1000, description="a page of this many; default: the whole board"
    ),
    after: After = None,
) -> Any:
    now = datetime.now(UTC)
    key = decode_key(after, (str, datetime, str)) if after else None
    # One row past the page: whether there is a next one.
    rows = await procedure_repo.open_postings_in_village(
        session, village, now, None if limit is None else limit + 1, key
    )
    next_page = None
    if limit is not None and len(rows) > limit:
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
    for stage, title in POSTING_TITLES.items():
        group_rows = [i for i in items if i["stage"] == stage]
        if group_rows:
            groups.append({"title": title, "rows": group_rows})
    page = render_page(
        settings.templates_dir,
        "postings/village.html.j2",
        {
            "village_code": village,
            "today": now,
            "groups": groups,
            "complaint_phone": settings.complaint_phone,
        },
    )
    return HTMLResponse(page, headers=headers)
