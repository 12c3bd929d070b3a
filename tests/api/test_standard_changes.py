"""POST /counties/{county}/standard-changes: months and standards bounded by the county's pack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from dibao.domain.calendar import china_date
from dibao.domain.recipient import add_months, month_of
from tests.auth import COUNTY
from tests.conftest import Stack

URL = "/counties/610423/standard-changes"


def this_month() -> str:
    return month_of(china_date(datetime.now(UTC)))


def body(**changes: str) -> dict[str, str]:
    return {
        "urban_standard": "600.00",
        "rural_standard": "4000.00",
        "effective_month": this_month(),
        **changes,
    }


@pytest.mark.parametrize(
    "month",
    ["0000-01", "9999-12", "2019-12", "later"],
    ids=["year-zero", "year-9999", "before-go-live", "beyond-horizon"],
)
async def test_a_month_outside_the_packs_bounds_is_refused_naming_the_field(
    api: httpx.AsyncClient, dev_stack: Stack, month: str
) -> None:
    # Issue 10: a change from 0000-01 with a standard of 0.08 元 stopped 48 households.
    if month == "later":
        month = add_months(this_month(), 25)  # the seed packs look 24 months ahead
    response = await api.post(URL, json=body(effective_month=month), headers=COUNTY)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "effective_month"]]
    assert month in detail[0]["msg"]
    # Nothing was recorded: only the seeded standards exist.
    assert dev_stack.sql("SELECT source FROM county_standards ORDER BY id") == [
        ("seed",),
        ("seed",),
    ]


async def test_a_standard_no_county_could_mean_is_refused(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    response = await api.post(
        URL, json=body(urban_standard="0.08", rural_standard="999999.00"), headers=COUNTY
    )
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [
        ["body", "urban_standard"],
        ["body", "rural_standard"],
    ]
    assert len(dev_stack.sql("SELECT 1 FROM county_standards")) == 2


async def test_an_accepted_standard_change_records_the_countys_dated_standard(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    response = await api.post(URL, json=body(), headers=COUNTY)
    assert response.status_code == 202, response.text
    batch_id = response.json()["batch_id"]
    dev_stack.started.append(batch_id)
    for _ in range(250):
        progress = await api.get(f"/standard-changes/{batch_id}", headers=COUNTY)
        if progress.json()["finished"]:
            break
        await asyncio.sleep(0.02)
    # The progress says how far it is: no recipient in this county, so done at once.
    shown = progress.json()
    assert (shown["finished"], shown["total"], shown["done"], shown["runs"]) == (True, 0, 0, 1)
    assert (shown["skipped_count"], shown["skipped_by_reason"], shown["in_flight"]) == (0, [], 0)
    rows = dev_stack.sql(
        "SELECT county_code, area_type, from_month, amount_fen, source FROM county_standards "
        "WHERE source <> 'seed' ORDER BY area_type"
    )
    assert rows == [
        ("610423", "rural", this_month(), 400_000, batch_id),
        ("610423", "urban", this_month(), 60_000, batch_id),
    ]


async def test_a_payroll_period_beyond_the_horizon_is_refused(api: httpx.AsyncClient) -> None:
    far = add_months(this_month(), 25)
    response = await api.post(
        "/payroll/runs", json={"county_code": "610423", "period": far}, headers=COUNTY
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "period"]
