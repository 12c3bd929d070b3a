"""The policy router on a small app of its own: real PostgreSQL, no Temporal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.routes import policy
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings
from tests.auth import COUNTY, VILLAGE, Staff, bearer

CLERK = COUNTY  # chen.gang, county approver of 610423


@pytest.fixture
async def api(database_url: str, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, default_rule_pack="seed-default")
    engine = make_engine(settings)
    app = FastAPI()
    app.include_router(policy.router)
    app.state.settings = settings
    app.state.sessions = make_sessionmaker(engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", headers=VILLAGE
    ) as client:
        yield client
    await engine.dispose()


# --- calendar -------------------------------------------------------------------------------


async def test_an_uncovered_year_says_so_with_a_warning(api: httpx.AsyncClient) -> None:
    response = await api.get("/calendar/2027")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "not_covered"
    assert "2027" in body["warning"]
    assert body["days"] == []


async def test_an_official_year_lists_its_holidays_and_make_up_days(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.get("/calendar/2026")).json()
    assert body["status"] == "official"
    assert body["warning"] is None
    days = {d["day"]: d for d in body["days"]}
    assert days["2026-10-01"] == {
        "day": "2026-10-01",
        "is_working_day": False,
        "note": "国庆节",
        "source": "official",
        "updated_by": None,
        "updated_at": None,
    }
    assert days["2026-10-10"]["is_working_day"] is True
    assert "2026-10-17" not in days  # an ordinary Saturday


async def test_put_a_day_records_the_actor(api: httpx.AsyncClient) -> None:
    response = await api.put(
        "/calendar/days/2027-10-01",
        json={"is_working_day": False, "note": "国庆节"},
        headers=CLERK,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["day"]["updated_by"] == "chen.gang"
    assert body["day"]["source"] == "office"
    assert body["year_status"] == "not_covered"
    assert "not used until" in body["warning"]

    listed = (await api.get("/calendar/2027")).json()
    assert [(d["day"], d["note"]) for d in listed["days"]] == [("2027-10-01", "国庆节")]

    # A correction of an official year.
    response = await api.put(
        "/calendar/days/2026-10-09", json={"is_working_day": False, "note": "更正"}, headers=CLERK
    )
    assert response.status_code == 200
    assert response.json()["year_status"] == "official"
    assert response.json()["warning"] is None
    days = {d["day"]: d for d in (await api.get("/calendar/2026")).json()["days"]}
    assert days["2026-10-09"]["source"] == "office"


async def test_put_a_day_needs_a_signed_in_office_role(api: httpx.AsyncClient) -> None:
    body = {"is_working_day": False}
    response = await api.put("/calendar/days/2027-10-01", json=body, headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = await api.put("/calendar/days/2027-10-01", json=body)  # a village caseworker
    assert response.status_code == 403
    assert "edit the holiday calendar" in response.json()["detail"]["message"]
    assert (await api.get("/calendar/2027")).json()["days"] == []


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/calendar/days/2027-02-30", {"is_working_day": False}, ["path", "day"]),
        ("/calendar/days/2027-10-01", {"is_working_day": "no"}, ["body", "is_working_day"]),
        ("/calendar/days/2027-10-01", {"is_working_day": 0}, ["body", "is_working_day"]),
        ("/calendar/days/2027-10-01", {}, ["body", "is_working_day"]),
        ("/calendar/days/2027-10-01", {"is_working_day": False, "x": 1}, ["body", "x"]),
    ],
)
async def test_put_a_day_rejects_bad_input(
    api: httpx.AsyncClient, path: str, body: dict[str, object], loc: list[str]
) -> None:
    response = await api.put(path, json=body, headers=CLERK)
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]
    assert (await api.get("/calendar/2027")).json()["days"] == []


# --- rule packs -----------------------------------------------------------------------------


async def test_rule_packs_are_listed_and_readable(api: httpx.AsyncClient) -> None:
    listed = (await api.get("/rule-packs")).json()
    assert [(p["id"], p["version"]) for p in listed] == [
        ("mca-2021", 1),
        ("seed-default", 1),
        ("training-seed-default", 1),
    ]

    latest = (await api.get("/rule-packs/mca-2021")).json()
    assert latest["version"] == 1
    assert latest["params"]["county_approval_working_days"] == 10
    assert latest["created_by"] == "system"

    v1 = await api.get("/rule-packs/seed-default/versions/1")
    assert v1.status_code == 200
    assert v1.json()["params"]["posting_days"] == 7

    assert (await api.get("/rule-packs/no-such-pack")).status_code == 404
    assert (await api.get("/rule-packs/seed-default/versions/2")).status_code == 404
    assert (await api.get("/rule-packs/seed-default/versions/0")).status_code == 422


# --- counties -------------------------------------------------------------------------------


async def test_county_uses_the_default_until_assigned(api: httpx.AsyncClient) -> None:
    before = (await api.get("/counties/610423/rule-pack")).json()
    assert before["assigned"] is False
    assert (before["pack_id"], before["version"]) == ("seed-default", 1)

    response = await api.put(
        "/counties/610423/rule-pack", json={"pack_id": "mca-2021"}, headers=CLERK
    )
    assert response.status_code == 200, response.text
    assert response.json()["assigned_by"] == "chen.gang"

    after = (await api.get("/counties/610423/rule-pack")).json()
    assert after["assigned"] is True
    assert (after["pack_id"], after["version"]) == ("mca-2021", 1)


async def test_assigning_an_unknown_pack_is_422(api: httpx.AsyncClient) -> None:
    response = await api.put(
        "/counties/610423/rule-pack", json={"pack_id": "no-such-pack"}, headers=CLERK
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "pack_id"]
    assert "no-such-pack" in error["msg"]
    assert "mca-2021" in error["msg"]
    assert (await api.get("/counties/610423/rule-pack")).json()["assigned"] is False


@pytest.mark.parametrize("county", ["61042", "6104230", "61042x"])
async def test_malformed_county_code_is_422(api: httpx.AsyncClient, county: str) -> None:
    response = await api.put(
        f"/counties/{county}/rule-pack", json={"pack_id": "mca-2021"}, headers=CLERK
    )
    assert response.status_code == 422
    assert ["path", "county_code"] in [e["loc"] for e in response.json()["detail"]]
    response = await api.get(f"/counties/{county}/rule-pack")
    assert response.status_code == 422


async def test_assigning_is_for_the_county_approver_of_that_county(api: httpx.AsyncClient) -> None:
    body = {"pack_id": "mca-2021"}
    response = await api.put("/counties/610423/rule-pack", json=body, headers={"Authorization": ""})
    assert response.status_code == 401
    assert (await api.put("/counties/610423/rule-pack", json=body)).status_code == 403
    other_county = await api.put("/counties/610423/rule-pack", json=body, headers=bearer("he.jun"))
    assert other_county.status_code == 403
    assert "outside your jurisdiction" in other_county.json()["detail"]["message"]
