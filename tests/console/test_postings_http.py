"""The console's village board (公示栏) over HTTP: a board of a whole ledger import's postings
is read a page at a time by key, each posting once, numbered on across the pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from console.pages import POSTINGS_PAGE
from tests.auth import Staff
from tests.conftest import Stack
from tests.db.test_stuck_one_statement import seed_overdue


@pytest.fixture
async def console(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dev_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test"
        ) as client,
    ):
        yield client


_ROW = re.compile(r'<td data-label="序号">(\d+)</td><td data-label="户主姓名">(户\d+)</td>')
_NEXT = re.compile(r'href="(/console/postings/610423100201\?[^"]+)">下一页')


async def test_a_long_board_pages_by_key_each_posting_once(
    console: httpx.AsyncClient, dev_stack: Stack
) -> None:
    url = dev_stack.settings.database_url
    assert url is not None
    seed_overdue(url)
    total = POSTINGS_PAGE * 2 + 10
    # All opened at the same moment (one import): the posting ID breaks the tie; the first
    # 150 before review, the rest before approval, so a page ends inside a group.
    dev_stack.sql(
        f"""
        INSERT INTO postings (posting_id, case_id, step_key, stage, village_code, township_code,
            head_name, household_size, category, monthly_amount_fen, opens_at, closes_at,
            outcome)
        SELECT 'P-' || lpad(i::text, 5, '0'), 'DB-OVERDUE00000', 'posting-' || i,
            CASE WHEN i <= 150 THEN 'posting_before_review' ELSE 'posting_before_approval' END,
            '610423100201', '610423100', '户' || lpad(i::text, 5, '0'), 2, 'A', 30000,
            now() - interval '1 day', now() + interval '6 days', 'open'
        FROM generate_series(1, {total}) AS i RETURNING 1
        """
    )
    pages: list[list[tuple[int, str]]] = []
    link: str | None = "/console/postings/610423100201"
    while link is not None:
        page = await console.get(link)
        assert page.status_code == 200, page.text
        pages.append([(int(n), name) for n, name in _ROW.findall(page.text)])
        found = _NEXT.search(page.text)
        link = found.group(1).replace("&amp;", "&") if found else None
    assert [len(p) for p in pages] == [POSTINGS_PAGE, POSTINGS_PAGE, 10]
    names = [name for p in pages for _, name in p]
    assert len(set(names)) == total
    # Each stage's households numbered 1, 2, … on across the pages, as one board.
    numbers: dict[str, list[int]] = {}
    for p in pages:
        for n, name in p:
            stage = "review" if int(name[1:]) <= 150 else "approval"
            numbers.setdefault(stage, []).append(n)
    assert numbers["review"] == list(range(1, 151))
    assert numbers["approval"] == list(range(1, total - 150 + 1))
    # A cursor that is not one shows the board from its start.
    again = await console.get("/console/postings/610423100201", params={"after": "bm90"})
    assert (
        again.status_code == 200
        and [(int(n), name) for n, name in _ROW.findall(again.text)] == pages[0]
    )
