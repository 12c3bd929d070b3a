"""Simultaneous filings of one household: one case, and every request answered with it or a 409
saying why, never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.auth import bearer
from tests.conftest import Stack
from tests.workflows.helpers import another_household


def count(stack: Stack, table: str) -> int:
    return int(stack.sql(f"SELECT count(*) FROM {table}")[0][0])


async def test_ten_simultaneous_filings_with_one_key_make_one_case_and_all_answer_it(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "intake-race-0001"}
    answers = await asyncio.gather(
        *(api.post("/cases", json=sample, headers=key) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [
        a.text[:200] for a in answers if a.status_code >= 300
    ]
    assert len({a.json()["case_id"] for a in answers}) == 1
    assert count(dev_stack, "cases") == 1


async def test_ten_simultaneous_filings_of_one_household_without_key_make_one_case(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    answers = await asyncio.gather(*(api.post("/cases", json=sample) for _ in range(10)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 9, [a.text[:200] for a in answers]
    (created,) = [a.json()["case_id"] for a in answers if a.status_code == 201]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["detail"]["open_case_id"] == created
    assert count(dev_stack, "cases") == 1


async def test_a_key_used_by_a_filing_the_user_cannot_see_is_refused_without_naming_it(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    elsewhere = another_household(sample, 7)
    elsewhere["hukou"]["township_code"] = "610423101"
    elsewhere["hukou"]["village_code"] = "610423101001"
    key = {"Idempotency-Key": "intake-shared-0001"}
    theirs = await api.post("/cases", json=elsewhere, headers={**key, **bearer("wu.fang")})
    assert theirs.status_code == 201, theirs.text
    other_case = theirs.json()["case_id"]

    mine = await api.post("/cases", json=sample, headers=key)

    assert mine.status_code == 422
    (problem,) = mine.json()["detail"]
    assert problem["loc"] == ["header", "Idempotency-Key"]
    assert other_case not in mine.text
    for member in elsewhere["members"]:
        assert member["name"] not in mine.text and member["id_number"] not in mine.text
    assert count(dev_stack, "cases") == 1
