"""A village's posting board (公示栏) a page at a time: what GET /postings and the console's
board both show, read and numbered in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.paging import encode_key
from dibao.db import procedure_repo
from dibao.domain.money import format_yuan
from dibao.notices.render import POSTING_TITLES


@dataclass(frozen=True)
class BoardRow:
    """Only what DOMAIN.md allows on a posting: head's name, household size, category, amount;
    `number` is its 序号 within its stage's group, going on across pages."""

    stage: str
    title: str
    number: int
    head_name: str
    household_size: int
    category: str
    amount: str
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class BoardGroup:
    title: str
    rows: list[BoardRow]


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]  # in the board's key order
    groups: list[BoardGroup]  # in POSTING_TITLES order
    next_key: str | None  # the `after` of the next page; None on the last
    next_n: int  # the `n` of the next page: 序号 of this page's last row


async def board_page(
    session: AsyncSession,
    village: str,
    now: datetime,
    limit: int,
    after: tuple[str, datetime, str] | None = None,
    n: int = 0,
) -> BoardPage:
    """The postings open now, `limit` after the key `after`; `n` postings of the key's stage
    were shown on the pages before, so that its 序号 goes on."""
    # One row past the page: whether there is a next one.
    found = await procedure_repo.open_postings_in_village(session, village, now, limit + 1, after)
    page = found[:limit]
    numbers: dict[str, int] = {}
    for stage in POSTING_TITLES:
        # The stage the page before ended in goes on where it stopped.
        shown = max(n, 0) if after is not None and stage == after[0] else 0
        for r in (r for r in page if r.stage == stage):
            shown += 1
            numbers[r.posting_id] = shown
    rows = [
        BoardRow(
            stage=r.stage,
            title=POSTING_TITLES[r.stage],
            number=numbers[r.posting_id],
            head_name=r.head_name,
            household_size=r.household_size,
            category=r.category,
            amount=format_yuan(r.monthly_amount_fen),
            opens_at=r.opens_at,
            closes_at=r.closes_at,
        )
        for r in page
    ]
    groups = [
        BoardGroup(title, [row for row in rows if row.stage == stage])
        for stage, title in POSTING_TITLES.items()
        if any(row.stage == stage for row in rows)
    ]
    if len(found) <= limit:
        return BoardPage(rows, groups, None, 0)
    last = page[-1]
    return BoardPage(
        rows,
        groups,
        encode_key(last.stage, last.opens_at, last.posting_id),
        numbers[last.posting_id],
    )
