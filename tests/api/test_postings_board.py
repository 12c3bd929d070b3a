"""The public village board (GET /postings): a board of a whole ledger import's postings is
served a page at a time by key, each posting once, numbered on across the pages."""

from __future__ import annotations

import re

import httpx

from api.routes.postings import POSTINGS_PAGE
from tests.conftest import Stack
from tests.db.test_stuck_one_statement import seed_overdue

_ROW = re.compile(r"<tr><td>(\d+)</td><td>(户\d+)</td>")
_NEXT = re.compile(r'href="(/postings\?[^"]+)">下一页')


def seed_board(stack: Stack, total: int, before_review: int) -> None:
    url = stack.settings.database_url
    assert url is not None
    seed_overdue(url)
    # All opened at the same moment (one import): the posting ID breaks the tie.
    stack.sql(
        f"""
        INSERT INTO postings (posting_id, case_id, step_key, stage, village_code, township_code,
            head_name, household_size, category, monthly_amount_fen, opens_at, closes_at,
            outcome)
        SELECT 'Q-' || lpad(i::text, 5, '0'), 'DB-OVERDUE00000', 'board-' || i,
            CASE WHEN i <= {before_review} THEN 'posting_before_review'
                 ELSE 'posting_before_approval' END,
            '610423100202', '610423100', '户' || lpad(i::text, 5, '0'), 2, 'A', 30000,
            now() - interval '1 day', now() + interval '6 days', 'open'
        FROM generate_series(1, {total}) AS i RETURNING 1
        """
    )


async def test_the_printed_board_pages_on_with_its_numbers(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    total, before_review = POSTINGS_PAGE * 2 + 10, 250
    seed_board(dev_stack, total, before_review)
    pages: list[list[tuple[int, str]]] = []
    link: str | None = "/postings?village=610423100202"
    while link is not None:
        page = await api.get(link)
        assert page.status_code == 200, page.text
        pages.append([(int(n), name) for n, name in _ROW.findall(page.text)])
        found = _NEXT.search(page.text)
        link = found.group(1).replace("&amp;", "&") if found else None
    assert [len(p) for p in pages] == [POSTINGS_PAGE, POSTINGS_PAGE, 10]
    names = [name for p in pages for _, name in p]
    assert len(set(names)) == total
    numbers: dict[str, list[int]] = {}
    for p in pages:
        for n, name in p:
            stage = "review" if int(name[1:]) <= before_review else "approval"
            numbers.setdefault(stage, []).append(n)
    # Each stage's households numbered 1, 2, … on across the pages, as one board.
    assert numbers["review"] == list(range(1, before_review + 1))
    assert numbers["approval"] == list(range(1, total - before_review + 1))


async def test_the_board_as_json_is_a_page_with_the_next_key(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    total = POSTINGS_PAGE + 5
    seed_board(dev_stack, total, 0)
    params = {"village": "610423100202", "format": "json"}
    first = (await api.get("/postings", params=params)).json()
    assert len(first["items"]) == POSTINGS_PAGE and first["next"]
    second = (await api.get("/postings", params={**params, "after": first["next"]})).json()
    assert len(second["items"]) == 5 and second["next"] is None
    heads = [i["head_name"] for i in first["items"] + second["items"]]
    assert len(set(heads)) == total
    # A page larger than the largest allowed is a clear 422, not a slow answer.
    refused = await api.get("/postings", params={**params, "limit": 5000})
    assert refused.status_code == 422
