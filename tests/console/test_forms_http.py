"""The console's forms over HTTP (no browser): filing and actions go through the API's models
and service layer, errors come back at their fields in Chinese, a repeat acts once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from tests.auth import PASSWORD, Staff
from tests.conftest import Stack


async def signed_in(client: httpx.AsyncClient, user_id: str) -> None:
    page = await client.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    answer = await client.post(
        "/console/sign-in",
        data={"csrf": csrf.group(1), "user_id": user_id, "password": PASSWORD, "next": "/console"},
    )
    assert answer.status_code == 303, answer.text


def hidden(page: str) -> dict[str, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    rid = re.search(r'name="request_id" value="([^"]+)"', page)
    assert csrf and rid
    return {"csrf": csrf.group(1), "request_id": rid.group(1)}


@pytest.fixture
async def browser_like(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dev_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test"
        ) as client,
    ):
        yield client


FILING = {
    "members.0.name": "王秀英",
    "members.0.id_number": "612522195803120027",
    "members.0.relation": "head",
    "members.0.chronic_illness": "true",
    "members.1.name": "王建军",
    "members.1.id_number": "61042319850101001X",
    "members.1.relation": "child",
    "members.1.disability_grade": "2",
    "members.2.name": "",
    "members.2.id_number": "",
    "members.2.relation": "",
    "hukou.village_code": "610423100201",
    "hukou.address": "示例镇示例村三组12号",
    "area_type": "rural",
    "incomes.0.category": "transfer",
    "incomes.0.monthly_amount": "200.00",
    "incomes.1.category": "",
    "incomes.1.monthly_amount": "",
    "assets.deposits": "3000",
    "assets.homes": "1",
    "declaration_signed": "true",
    "payee.account_holder": "王秀英",
    "payee.bank": "示例县农村信用合作联社",
    "payee.account_no": "6228480000000000017",
}


async def file_one(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    form = await client.get("/console/cases/new")
    assert form.status_code == 200, form.text
    data = {**FILING, **changes, **hidden(form.text)}
    body: dict[str, str | list[str]] = {**data, "materials": ["application_form", "id_cards"]}
    return await client.post("/console/cases/new", data=body)


async def test_filing_form_files_the_case_and_shows_it(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    answer = await file_one(browser_like)
    assert answer.status_code == 303, answer.text[-3000:]
    case_id = answer.headers["location"].rsplit("/", 1)[1]
    (row,) = dev_stack.sql("SELECT case_id FROM cases")
    assert row[0] == case_id
    (payload,) = dev_stack.sql("SELECT payload FROM applications WHERE case_id = %s", case_id)
    assert [m["name"] for m in payload[0]["members"]] == ["王秀英", "王建军"]
    assert payload[0]["hukou"]["township_code"] == "610423100"


async def test_a_wrong_id_number_is_shown_at_its_row_and_nothing_is_filed(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    answer = await file_one(browser_like, **{"members.1.id_number": "610423198501010018"})
    assert answer.status_code == 422
    error = re.search(r'id="f-members-1-id_number-error"[^>]*>([^<]+)<', answer.text)
    assert error and "校验位" in error.group(1)
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]
    # What was typed is shown again.
    assert "王建军" in answer.text


async def test_adding_a_row_without_a_script_shows_the_form_again(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    form = await browser_like.get("/console/cases/new")
    shown = form.text.count('data-row="members"')
    data = {**FILING, "op": "add:members", **hidden(form.text)}
    answer = await browser_like.post("/console/cases/new", data=data)
    assert answer.status_code == 200
    assert answer.text.count('data-row="members"') == shown + 1
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]
