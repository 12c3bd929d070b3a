"""Bad input is a 4xx naming what is wrong, and changes nothing: NUL bytes, control characters,
lone surrogates, unbounded strings, lists and numbers never reach PostgreSQL or a workflow."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.auth import COUNTY, OPS
from tests.conftest import Stack


def count(stack: Stack, table: str) -> int:
    return int(stack.sql(f"SELECT count(*) FROM {table}")[0][0])


def locs(response: httpx.Response) -> list[list[Any]]:
    return [d["loc"] for d in response.json()["detail"]]


async def file(api: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await api.post("/cases", json=body)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


@pytest.mark.parametrize(
    "url",
    [
        "/cases/DB-AB%00CD",
        "/cases/DB-AB%00CD/audit",
        "/notices/N-%00",
        "/cases?township=%00",
        "/staff/zhang%00wei/relatives",
        "/ops/incidents?case_id=%00",
        "/ops/incidents?case_id=DB-%1B",
    ],
)
async def test_a_nul_or_control_character_in_the_url_is_a_4xx(
    api: httpx.AsyncClient, url: str
) -> None:
    response = await api.get(url, headers=OPS)
    assert 400 <= response.status_code < 500, response.text
    assert response.status_code == 422
    assert locs(response)[0][0] in ("path", "query")


@pytest.mark.parametrize(
    ("place", "loc"),
    [
        (lambda b: b["members"][0].__setitem__("name", "王\udc00英"), ["members", 0, "name"]),
        (lambda b: b["hukou"].__setitem__("address", "\ud800"), ["hukou", "address"]),
        (lambda b: b["members"][1].__setitem__("name", "王\x00英"), ["members", 1, "name"]),
    ],
)
async def test_a_lone_surrogate_or_nul_in_a_json_string_is_422_naming_the_field(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any], place: Any, loc: list[Any]
) -> None:
    place(sample)
    # Escaped as JSON text: the surrogate cannot be sent as UTF-8 bytes at all.
    content = json.dumps(sample, ensure_ascii=True)
    response = await api.post(
        "/cases", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert ["body", *loc] in locs(response)
    assert count(dev_stack, "cases") == 0


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x08"])
async def test_a_control_character_in_a_name_or_address_is_422_and_not_stored(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any], char: str
) -> None:
    sample["members"][0]["name"] = f"王{char}秀英"
    sample["hukou"]["address"] = f"示例镇{char}[31m三组"
    response = await api.post("/cases", json=sample)
    assert response.status_code == 422, response.text
    assert ["body", "members", 0, "name"] in locs(response)
    assert ["body", "hukou", "address"] in locs(response)
    assert count(dev_stack, "cases") == 0


async def test_free_text_keeps_its_line_breaks(
    api: httpx.AsyncClient, sample: dict[str, Any]
) -> None:
    case_id = await file(api, sample)
    response = await api.post(
        f"/cases/{case_id}/withdraw", json={"reason": "家庭收入已提高\n申请人自愿撤回"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["withdrawal_reason"] == "家庭收入已提高\n申请人自愿撤回"


async def test_what_an_activity_would_store_is_bounded_before_the_workflow_is_asked(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = await file(api, sample)
    long_key = await api.post(
        f"/cases/{case_id}/materials",
        json={"verification_authorised": True},
        headers={"Idempotency-Key": "k" * 150},
    )
    assert long_key.status_code == 422
    assert locs(long_key) == [["header", "Idempotency-Key"]]
    bad_bank = await api.post(
        f"/cases/{case_id}/payee",
        json={
            "account_holder": "王秀英",
            "bank": "信合\x00支行",
            "account_no": "6228480000000000017",
        },
    )
    assert bad_bank.status_code == 422
    assert locs(bad_bank) == [["body", "bank"]]
    audit = (await api.get(f"/cases/{case_id}/audit", headers=COUNTY)).json()
    assert [e["action"] for e in audit if "payee" in e["action"]] == []


async def test_a_huge_list_item_is_refused(api: httpx.AsyncClient, sample: dict[str, Any]) -> None:
    case_id = await file(api, sample)
    survey = {
        "investigators": ["zhang.wei", "x" * 100_000],
        "surveyed_on": "2026-11-20",
        "members": sample["members"],
        "living_conditions": "土坯房两间",
        "attachments": ["a" * 100_000],
    }
    response = await api.post(f"/cases/{case_id}/survey", json=survey)
    assert response.status_code == 422
    assert ["body", "investigators", 1] in locs(response)
    assert ["body", "attachments", 0] in locs(response)


async def test_an_offset_past_any_listing_is_422(api: httpx.AsyncClient) -> None:
    response = await api.get("/cases", params={"offset": "18446744073709551615"})
    assert response.status_code == 422
    assert locs(response) == [["query", "offset"]]
    response = await api.get("/ops/incidents", params={"offset": 2**63}, headers=OPS)
    assert response.status_code == 422


async def test_filing_without_a_body_is_422(api: httpx.AsyncClient, dev_stack: Stack) -> None:
    response = await api.post("/cases")
    assert response.status_code == 422, response.text
    assert locs(response) == [["body"]]
    response = await api.post("/cases", content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert count(dev_stack, "cases") == 0


async def test_a_calendar_day_is_written_as_a_day(api: httpx.AsyncClient) -> None:
    body = {"is_working_day": False, "note": "test"}
    for day in ("0", "1700000000", "20271001"):
        response = await api.put(f"/calendar/days/{day}", json=body, headers=COUNTY)
        assert response.status_code == 422, (day, response.text)
        assert locs(response) == [["path", "day"]]
    assert (
        await api.put("/calendar/days/2027-10-01", json=body, headers=COUNTY)
    ).status_code == 200
    assert (await api.get("/calendar/1970", headers=COUNTY)).json()["days"] == []


async def test_a_workflow_that_is_no_standard_change_is_404(
    api: httpx.AsyncClient, sample: dict[str, Any]
) -> None:
    case_id = await file(api, sample)
    for other in (case_id, "payroll-610423-2026-11", "SC-nothing"):
        response = await api.get(f"/standard-changes/{other}", headers=COUNTY)
        assert response.status_code == 404, (other, response.text)


async def test_a_date_given_as_a_number_is_refused(
    api: httpx.AsyncClient, sample: dict[str, Any]
) -> None:
    case_id = await file(api, sample)
    survey = {
        "investigators": ["zhang.wei", "zhao.min"],
        "surveyed_on": 0,
        "members": sample["members"],
        "living_conditions": "土坯房两间",
    }
    response = await api.post(f"/cases/{case_id}/survey", json=survey)
    assert response.status_code == 422
    assert locs(response) == [["body", "surveyed_on"]]


async def test_a_body_that_is_not_utf8_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/cases", content=b'{"members": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert locs(response) == [["body"]]
