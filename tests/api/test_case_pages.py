"""GET /cases by key: `after=` walks every case once, newest filing first, however deep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from dibao.db import cases_repo
from tests.auth import COUNTY
from tests.conftest import Stack

FILED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def seed(stack: Stack, n: int) -> list[str]:
    """`n` case rows, two of each filing moment (the case ID breaks the tie), newest first."""
    with psycopg.connect(stack.settings.database_url or "") as conn:
        for i in range(n):
            conn.execute(
                "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
                "rule_pack_version, area_type, province_code, county_code, township_code, "
                "village_code, stage_entered_at, filed_at) VALUES (%s, %s, 'application', "
                "'filed', 'seed-default', 1, 'rural', '61', '610423', '610423100', "
                "'610423100201', %s, %s)",
                (f"DB-PAGE{i:07d}", f"P{i:017d}", FILED, FILED - timedelta(minutes=i // 2)),
            )
    return [f"DB-PAGE{i:07d}" for i in range(n)]


async def test_pages_by_key_list_every_case_once_in_order(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    expected = seed(dev_stack, 7)
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 3, "county": "610423"}
    pages = 0
    while True:
        page = (await api.get("/cases", params=params, headers=COUNTY)).json()
        pages += 1
        assert (page["total"], page["total_capped"]) == (7, False)
        seen += [c["case_id"] for c in page["items"]]
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert (seen, pages) == (expected, 3)
    # Old clients' offset still works.
    old = (await api.get("/cases", params={"limit": 3, "offset": 3}, headers=COUNTY)).json()
    assert [c["case_id"] for c in old["items"]] == expected[3:6]


async def test_a_cursor_not_given_by_the_listing_is_refused_naming_it(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    response = await api.get("/cases", params={"after": "bm90LWEtY3Vyc29y"}, headers=COUNTY)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "after"]


async def test_a_count_beyond_the_cap_says_so(
    api: httpx.AsyncClient, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cases_repo, "TOTAL_CAP", 4)
    seed(dev_stack, 6)
    page = (await api.get("/cases", params={"limit": 2}, headers=COUNTY)).json()
    assert (page["total"], page["total_capped"], len(page["items"])) == (4, True, 2)


async def test_cases_filed_at_one_instant_page_by_id_then_on_to_older_ones(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    # A ledger import files thousands at one instant: a page in the middle of them continues
    # by case ID within it, and the page that reaches its end goes on to older filings.
    with psycopg.connect(dev_stack.settings.database_url or "") as conn:
        for i in range(7):
            conn.execute(
                "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
                "rule_pack_version, area_type, province_code, county_code, township_code, "
                "village_code, stage_entered_at, filed_at) VALUES (%s, %s, 'application', "
                "'filed', 'seed-default', 1, 'rural', '61', '610423', '610423100', "
                "'610423100201', %s, %s)",
                (f"DB-TIED{i:07d}", f"T{i:017d}", FILED, FILED - timedelta(days=i // 5)),
            )
    expected = [f"DB-TIED{i:07d}" for i in range(7)]
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = (await api.get("/cases", params=params, headers=COUNTY)).json()
        assert (page["total"], page["total_capped"]) == (7, False)
        seen += [c["case_id"] for c in page["items"]]
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert seen == expected
    # Offset after a key skips within what follows the key; past the end, the count stays.
    params = {
        "limit": 2,
        "after": first_next(await api.get("/cases", params={"limit": 2}, headers=COUNTY)),
    }
    skipped = (await api.get("/cases", params={**params, "offset": 2}, headers=COUNTY)).json()
    assert [c["case_id"] for c in skipped["items"]] == expected[4:6]
    beyond = (await api.get("/cases", params={**params, "offset": 10}, headers=COUNTY)).json()
    assert (beyond["items"], beyond["total"], beyond["next"]) == ([], 7, None)


def first_next(response: httpx.Response) -> str:
    cursor: str = response.json()["next"]
    return cursor
