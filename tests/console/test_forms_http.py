"""The console's forms over HTTP (no browser): filing and actions go through the API's models
and service layer, errors come back at their fields in Chinese, a repeat acts once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from tests.auth import PASSWORD, Staff
from tests.conftest import Stack, make_settings


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


async def file_one(
    client: httpx.AsyncClient,
    materials: tuple[str, ...] = ("application_form", "id_cards"),
    changes: dict[str, str] | None = None,
) -> httpx.Response:
    form = await client.get("/console/cases/new")
    assert form.status_code == 200, form.text
    data = {**FILING, **(changes or {}), **hidden(form.text)}
    body: dict[str, str | list[str]] = {**data, "materials": list(materials)}
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
    answer = await file_one(browser_like, changes={"members.1.id_number": "610423198501010018"})
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


async def _filed_at_survey(client: httpx.AsyncClient) -> str:
    everything = (
        "application_form",
        "household_register",
        "id_cards",
        "disability_certificate",
        "medical_records",
    )
    answer = await file_one(client, everything, {"verification_authorised": "true"})
    assert answer.status_code == 303, answer.text[-2000:]
    case_id = answer.headers["location"].rsplit("/", 1)[1]
    for _ in range(100):  # accepted: the survey is due
        if (await client.get(f"/console/cases/{case_id}/act/survey")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    return case_id


SURVEY = {
    "investigators": "zhang.wei zhao.min",
    "surveyed_on": "2026-11-20",
    "members.0.name": "王秀英",
    "members.0.id_number": "612522195803120027",
    "members.0.relation": "head",
    "living_conditions": "土坯房两间",
}


async def test_an_invalid_action_form_shows_errors_at_fields_and_changes_nothing(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    case_id = await _filed_at_survey(browser_like)
    form = await browser_like.get(f"/console/cases/{case_id}/act/survey")
    assert form.status_code == 200, form.text[-2000:]
    # One investigator only (the workflow's rule) and a day that is no day (the model's).
    data = {**SURVEY, "investigators": "zhang.wei", **hidden(form.text)}
    answer = await browser_like.post(f"/console/cases/{case_id}/act/survey", data=data)
    assert answer.status_code == 422
    assert "至少须有 2 名不同的调查人员" in answer.text
    data = {**SURVEY, "surveyed_on": "20.11.2026", **hidden(form.text)}
    answer = await browser_like.post(f"/console/cases/{case_id}/act/survey", data=data)
    assert answer.status_code == 422
    error = re.search(r'id="f-surveyed_on-error"[^>]*>([^<]+)<', answer.text)
    assert error and "YYYY-MM-DD" in error.group(1)
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'survey'", case_id
    ) == [(0,)]


async def test_a_workflow_refusal_is_shown_in_chinese_on_the_page(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    case_id = await _filed_at_survey(browser_like)
    form = await browser_like.get(f"/console/cases/{case_id}/act/survey")
    first = await browser_like.post(
        f"/console/cases/{case_id}/act/survey", data={**SURVEY, **hidden(form.text)}
    )
    assert first.status_code == 303, first.text[-2000:]
    # The same form again, opened before the first was sent (another request ID): refused.
    second = await browser_like.post(
        f"/console/cases/{case_id}/act/survey",
        data={**SURVEY, **hidden(form.text), "request_id": "0f9d6c4e-1b7a-4e5f-8c2d-3a4b5c6d7e8f"},
    )
    assert second.status_code == 409
    assert "入户调查已提交过" in second.text or "环节" in second.text
    # A form the case is past is not shown at all.
    again = await browser_like.get(f"/console/cases/{case_id}/act/survey")
    assert again.status_code == 409
    assert 'name="living_conditions"' not in again.text


async def test_a_role_the_table_refuses_gets_a_page_not_a_form(
    browser_like: httpx.AsyncClient,
) -> None:
    await signed_in(browser_like, "chen.gang")
    answer = await browser_like.get("/console/cases/new")
    assert answer.status_code == 403
    assert "不能办理" in answer.text


async def _action(
    client: httpx.AsyncClient, case_id: str, slug: str, data: Mapping[str, str]
) -> httpx.Response:
    form = await client.get(f"/console/cases/{case_id}/act/{slug}")
    assert form.status_code == 200, form.text[-2000:]
    return await client.post(
        f"/console/cases/{case_id}/act/{slug}", data={**data, **hidden(form.text)}
    )


async def test_an_objection_during_the_posting_sends_the_case_back_to_the_survey(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    case_id = await _filed_at_survey(browser_like)
    answer = await _action(browser_like, case_id, "survey", SURVEY)
    assert answer.status_code == 303, answer.text[-2000:]
    evaluation = {
        "held_on": "2026-11-21",
        "attendees": "21",
        "composition.township_staff": "2",
        "composition.village_committee": "5",
        "composition.group_leaders": "4",
        "composition.villager_representatives": "10",
        "votes_for": "19",
        "votes_against": "1",
        "votes_abstain": "1",
    }
    for _ in range(100):  # verification runs by itself
        if (await browser_like.get(f"/console/cases/{case_id}/act/evaluation")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    answer = await _action(browser_like, case_id, "evaluation", evaluation)
    assert answer.status_code == 303, answer.text[-2000:]
    for _ in range(100):  # the first posting opens (seven days: still open)
        if (await browser_like.get(f"/console/cases/{case_id}/act/objection")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    answer = await _action(
        browser_like,
        case_id,
        "objection",
        {"summary": "该户有小轿车", "objector_name": "李某", "objector_contact": "13900000000"},
    )
    assert answer.status_code == 303, answer.text[-2000:]
    # The objector is kept in PostgreSQL only.
    assert dev_stack.sql("SELECT objector_name FROM objections WHERE case_id = %s", case_id) == [
        ("李某",)
    ]
    for _ in range(100):
        if (await browser_like.get(f"/console/cases/{case_id}/act/survey")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the case did not go back to the survey")


async def test_a_payee_outside_the_household_needs_the_agent_reason(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    answer = await file_one(browser_like)
    case_id = answer.headers["location"].rsplit("/", 1)[1]
    payee = {"account_holder": "张三", "bank": "示例县信用社", "account_no": "6228480000000000025"}
    answer = await _action(browser_like, case_id, "payee", payee)
    assert answer.status_code == 422
    error = re.search(r'id="f-account_holder-error"[^>]*>([^<]+)<', answer.text)
    assert error and "本户成员" in error.group(1)
    answer = await _action(
        browser_like, case_id, "payee", {**payee, "agent": "true", "agent_reason": "户主年老体弱"}
    )
    assert answer.status_code == 303, answer.text[-2000:]
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'payee'", case_id
    ) == [(1,)]


async def test_a_withdrawal_closes_the_case(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(browser_like, "zhang.wei")
    answer = await file_one(browser_like)
    case_id = answer.headers["location"].rsplit("/", 1)[1]
    empty = await _action(browser_like, case_id, "withdraw", {"reason": ""})
    assert empty.status_code == 422
    assert re.search(r'id="f-reason-error"[^>]*>必填<', empty.text)
    answer = await _action(browser_like, case_id, "withdraw", {"reason": "家庭收入已提高"})
    assert answer.status_code == 303, answer.text[-2000:]
    for _ in range(100):
        (status,) = dev_stack.sql("SELECT status FROM cases WHERE case_id = %s", case_id)
        if status == ("withdrawn",):
            break
        await asyncio.sleep(0.1)
    assert status == ("withdrawn",)


async def test_a_township_caseworker_chooses_the_village_by_name(
    browser_like: httpx.AsyncClient,
) -> None:
    await signed_in(browser_like, "li.na")
    page = await browser_like.get("/console/cases/new")
    assert page.status_code == 200
    options = re.findall(r'<option value="(\d{12})"[^>]*>([^<]+)</option>', page.text)
    assert options == [("610423100201", "示例村"), ("610423100202", "示例二村")]


async def test_filing_answers_without_waiting_for_the_notice_and_the_page_says_it_is_coming(
    dev_env: WorkflowEnvironment, database_url: str, staff: Staff
) -> None:
    # No worker yet: nobody issues the notice, and the filing is answered all the same.
    stack = Stack(dev_env, make_settings(database_url, dev_env.client))
    app = create_app(stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", timeout=60
        ) as client,
    ):
        await signed_in(client, "zhang.wei")
        answer = await file_one(client)
        assert answer.status_code == 303, answer.text[-2000:]
        page_url = answer.headers["location"]
        stack.started.append(page_url.rsplit("/", 1)[1])
        waiting = await client.get(page_url)
        assert waiting.status_code == 200
        assert "告知书生成中" in waiting.text
        assert '<meta http-equiv="refresh"' in waiting.text

        async with stack.worker():
            for _ in range(300):
                page = await client.get(page_url)
                if 'href="/console/notices/' in page.text:
                    break
                await asyncio.sleep(0.1)
        assert 'href="/console/notices/' in page.text and "一次性告知书" in page.text
        assert "告知书生成中" not in page.text and 'http-equiv="refresh"' not in page.text
    await stack.settle()
    await stack.engine.dispose()
