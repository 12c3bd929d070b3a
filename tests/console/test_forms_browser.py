"""The console's forms in a real browser: a household filed and walked to the recipient phase by
three users, a refusal, a survey on a phone, an error shown at its field, a double submission
acting once, a wrong role offered nothing and refused when it forges the form.

Postings last a few seconds: the county is on the training pack, published with a short
posting period as README's walkthrough does with 60 seconds.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from typing import Any

import httpx

from dibao.db import rulepacks_repo
from tests.auth import bearer
from tests.conftest import Stack
from tests.console.conftest import PHONE, file_case, screenshot, sign_in

POSTING_SECONDS = 3
CASE_URL = re.compile(r".*/console/cases/(DB-[0-9A-Z]+)$")


async def short_postings(stack: Stack) -> None:
    async with stack.sessions() as session:
        await rulepacks_repo.publish_version(
            session, "training-seed-default", {"posting_seconds": POSTING_SECONDS}, "chen.gang"
        )
    async with stack.sessions() as session:
        await rulepacks_repo.assign_county(session, "610423", "training-seed-default", "chen.gang")
        await session.commit()


def action_link(page: Any, case_id: str, slug: str) -> Any:
    return page.locator(f'a[href="/console/cases/{case_id}/act/{slug}"]')


async def until_offered(page: Any, case_id: str, slug: str, within: float = 60) -> None:
    """Reload the case page until it offers the action (the workflow moves on by itself)."""
    deadline = time.monotonic() + within
    while True:
        await page.goto(f"/console/cases/{case_id}")
        if await action_link(page, case_id, slug).count():
            return
        assert time.monotonic() < deadline, f"{slug} not offered on {case_id} in {within} s"
        await asyncio.sleep(0.5)


async def until_text(page: Any, case_id: str, text: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        await page.goto(f"/console/cases/{case_id}")
        if text in await page.inner_text("main"):
            return
        assert time.monotonic() < deadline, f"{text!r} not on {case_id} in {within} s"
        await asyncio.sleep(0.5)


async def fill(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)


async def tick(page: Any, name: str, value: str = "true") -> None:
    await page.locator(f'[name="{name}"][value="{value}"]').check()


async def submit(page: Any, label: str) -> None:
    await page.locator("main form.form button.primary", has_text=label).click()
    await page.wait_for_load_state("load")


async def visit_if_drawn(county: Any, case_id: str) -> None:
    """The county's home visit, where the case was drawn for one (seeded spot checks)."""
    if await action_link(county, case_id, "county-visit").count():
        await action_link(county, case_id, "county-visit").click()
        if (
            "县级入户核查" in await county.inner_text("h1")
            and await county.locator('[name="findings"]').count()
        ):
            await fill(county, {"visitors": "chen.gang sun.li", "findings": "入户核查，情况属实"})
            await submit(county, "县级入户核查")
        await county.goto(f"/console/cases/{case_id}")


EVALUATION = {
    "attendees": "21",
    "composition.township_staff": "2",
    "composition.village_committee": "5",
    "composition.group_leaders": "4",
    "composition.villager_representatives": "10",
    "votes_for": "19",
    "votes_against": "1",
    "votes_abstain": "1",
    "notes": "无记名投票，当场计票",
}


async def survey_and_evaluate(page: Any, case_id: str, *, shots: str = "") -> None:
    await until_offered(page, case_id, "survey")
    await action_link(page, case_id, "survey").click()
    await fill(
        page,
        {
            "investigators": "zhang.wei zhao.min",
            "living_conditions": "土坯房两间，家具简陋；户主长期服药。",
            "neighbour_visits.0.neighbour": "东邻 刘某",
            "neighbour_visits.0.summary": "反映该户情况属实",
        },
    )
    await tick(page, "family_member_signed")
    if shots:
        await screenshot(page, f"{shots}-survey")
    await submit(page, "入户调查")
    assert CASE_URL.match(page.url), page.url
    await until_offered(page, case_id, "evaluation")
    await action_link(page, case_id, "evaluation").click()
    await fill(page, EVALUATION)
    await submit(page, "民主评议")
    assert CASE_URL.match(page.url), page.url


async def test_walkthrough_from_filing_to_recipient_by_three_users(
    new_page: Any, dev_stack: Stack
) -> None:
    await short_postings(dev_stack)
    village = await new_page()
    await sign_in(village, "zhang.wei")
    await village.goto("/console/cases/new")
    await fill(
        village,
        {
            "members.0.name": "王秀英",
            "members.0.id_number": "612522195803120027",
            "members.0.relation": "head",
            "members.1.name": "王建军",
            "members.1.id_number": "61042319850101001X",
            "members.1.relation": "child",
            "members.1.disability_grade": "2",
            "members.2.name": "王小明",
            "members.2.id_number": "610423201205060033",
            "members.2.relation": "grandchild",
            "hukou.address": "示例镇示例村三组12号",
            "incomes.0.category": "transfer",
            "incomes.0.monthly_amount": "200.00",
            "incomes.1.category": "student_aid",
            "incomes.1.monthly_amount": "100.00",
            "assets.deposits": "3000",
            "assets.homes": "1",
            "phone": "029-12345678",
            "payee.account_holder": "王秀英",
            "payee.bank": "示例县农村信用合作联社",
            "payee.account_no": "6228480000000000017",
        },
    )
    await tick(village, "members.0.chronic_illness")
    await tick(village, "assets.vehicles", "tricycle")
    for material in ("application_form", "household_register", "id_cards", "medical_records"):
        await tick(village, "materials", material)
    await tick(village, "declaration_signed")
    await screenshot(village, "filing")
    await submit(village, "登记申请")
    matched = CASE_URL.match(village.url)
    assert matched, village.url
    case_id = matched.group(1)
    # The one-time notice of missing materials, on the case page.
    await until_text(village, case_id, "一次性告知书")
    await screenshot(village, "case-after-filing")

    await action_link(village, case_id, "materials").click()
    await tick(village, "materials", "disability_certificate")
    await tick(village, "verification_authorised")
    await submit(village, "补齐材料")
    assert CASE_URL.match(village.url)
    await survey_and_evaluate(village, case_id, shots="walkthrough")

    township = await new_page()
    await sign_in(township, "li.na")
    await until_offered(township, case_id, "township-review")
    await action_link(township, case_id, "township-review").click()
    await tick(township, "opinion", "approve")
    await screenshot(township, "township-review")
    await submit(township, "乡镇审核")
    assert CASE_URL.match(township.url)

    county = await new_page()
    await sign_in(county, "chen.gang")
    await until_offered(county, case_id, "county-decision")
    await visit_if_drawn(county, case_id)
    await action_link(county, case_id, "county-decision").click()
    await tick(county, "opinion", "approve")
    await screenshot(county, "county-decision")
    await submit(county, "县级审批")
    assert CASE_URL.match(county.url)
    await until_text(county, case_id, "审批通知书")
    # After the third posting the household receives benefit: the recipient forms are offered.
    await until_offered(village, case_id, "sign-in")
    await screenshot(village, "case-recipient")
    assert dev_stack.sql("SELECT status FROM cases WHERE case_id = %s", case_id) == [("receiving",)]
    # Every form of the recipient phase opens for the village caseworker.
    for slug in (
        "labour-absence",
        "reemployment",
        "work-refusal",
        "payee",
        "circumstance",
        "household-change",
    ):
        opened = await village.goto(f"/console/cases/{case_id}/act/{slug}")
        assert opened is not None and opened.status == 200, slug
    await village.goto(f"/console/cases/{case_id}/act/sign-in")
    await tick(village, "done", "true")
    await submit(village, "月度签到")
    assert CASE_URL.match(village.url), await village.inner_text("main")
    # No re-review is due right after approval; a change of income makes one due at once.
    early = await village.goto(f"/console/cases/{case_id}/act/review")
    assert early is not None and early.status == 409
    await village.goto(f"/console/cases/{case_id}/act/circumstance")
    await fill(village, {"kind": "income_change", "details": "户主打零工收入增加"})
    await submit(village, "家庭情况变化")
    assert CASE_URL.match(village.url), await village.inner_text("main")
    deadline = time.monotonic() + 30
    while (due := await village.goto(f"/console/cases/{case_id}/act/review")) and due.status != 200:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.3)
    await screenshot(village, "review-form")
    recorded = dev_stack.sql(
        "SELECT action FROM audit_log WHERE case_id = %s AND action IN "
        "('sign_in', 'labour_absence', 'circumstance', 'household_change', 'reemployment', "
        "'work_refusal') ORDER BY id",
        case_id,
    )
    assert recorded == [("sign_in",), ("circumstance",)]
    # No script error and nothing the Content-Security-Policy refused, on any page.
    assert village.console_errors == township.console_errors == county.console_errors == []


async def _to_county_approval(base_url: str, stack: Stack, application: dict[str, Any]) -> str:
    """A case walked through the API to the county's decision (the browser test acts there)."""
    case_id = await file_case(base_url, application)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:

        async def post(user: str, path: str, body: dict[str, Any]) -> None:
            answer = await api.post(f"/cases/{case_id}/{path}", json=body, headers=bearer(user))
            assert answer.status_code == 200, answer.text

        await post(
            "zhang.wei",
            "materials",
            {"materials": ["disability_certificate"], "verification_authorised": True},
        )
        survey = {
            "investigators": ["zhang.wei", "zhao.min"],
            "surveyed_on": "2026-11-20",
            "members": application["members"],
            "incomes": application["incomes"],
            "assets": application["assets"],
            "living_conditions": "家有小轿车一辆",
        }
        await post("zhang.wei", "survey", survey)
        deadline = time.monotonic() + 60
        while True:
            case = (await api.get(f"/cases/{case_id}", headers=bearer("zhang.wei"))).json()
            if case["stage"] == "evaluation":
                break
            assert time.monotonic() < deadline, case["stage"]
            await asyncio.sleep(0.3)
        evaluation = {
            "held_on": "2026-11-21",
            "attendees": 21,
            "composition": {
                "township_staff": 2,
                "village_committee": 5,
                "group_leaders": 4,
                "villager_representatives": 10,
            },
            "votes_for": 2,
            "votes_against": 18,
            "votes_abstain": 1,
        }
        await post("zhang.wei", "evaluation", evaluation)
        while True:
            case = (await api.get(f"/cases/{case_id}", headers=bearer("li.na"))).json()
            if case["stage"] == "township_review":
                break
            assert time.monotonic() < deadline, case["stage"]
            await asyncio.sleep(0.3)
        await post("li.na", "township-review", {"opinion": "reject", "reasons": ["家有小轿车"]})
        while True:
            case = (await api.get(f"/cases/{case_id}", headers=bearer("chen.gang"))).json()
            if case["stage"] == "county_approval":
                break
            assert time.monotonic() < deadline, case["stage"]
            await asyncio.sleep(0.3)
    return case_id


async def test_a_refusal_and_a_wrong_role_offered_no_approval_and_refused_when_forging(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    await short_postings(dev_stack)
    household = copy.deepcopy(sample)
    household["assets"]["vehicles"] = ["car"]
    case_id = await _to_county_approval(served, dev_stack, household)

    village = await new_page()
    await sign_in(village, "zhang.wei")
    await village.goto(f"/console/cases/{case_id}")
    assert await action_link(village, case_id, "county-decision").count() == 0
    forged = await village.goto(f"/console/cases/{case_id}/act/county-decision")
    assert forged is not None and forged.status == 403
    assert "不能" in await village.inner_text("main")
    # The form forged with the user's own CSRF token and a request ID: the API's refusal.
    token = await village.locator('header input[name="csrf"]').get_attribute("value")
    answer = await village.request.post(
        f"/console/cases/{case_id}/act/county-decision",
        form={
            "csrf": token or "",
            "request_id": "8d0b7c2e-3a59-4c1e-9a43-2f2c4b1d8e90",
            "opinion": "approve",
        },
    )
    assert answer.status == 403
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'county_decision'",
        case_id,
    ) == [(0,)]

    county = await new_page()
    await sign_in(county, "chen.gang")
    await until_offered(county, case_id, "county-decision")
    await visit_if_drawn(county, case_id)
    await action_link(county, case_id, "county-decision").click()
    # Approving against the assessment without a reason: the workflow's refusal, at its field.
    await tick(county, "opinion", "approve")
    await fill(county, {"monthly_amount": "300"})
    await submit(county, "县级审批")
    assert county.url.endswith("/act/county-decision")
    assert "调整理由" in await county.locator("#f-override_reason-error").inner_text()
    assert await county.locator('[name="monthly_amount"]').input_value() == "300"
    await screenshot(county, "county-decision-error")
    await fill(county, {"monthly_amount": ""})
    await tick(county, "opinion", "reject")
    await submit(county, "县级审批")
    assert CASE_URL.match(county.url), county.url
    await until_text(county, case_id, "不予批准通知书")
    await screenshot(county, "case-refused")
    assert dev_stack.sql("SELECT status FROM cases WHERE case_id = %s", case_id) == [("refused",)]


async def test_a_survey_on_a_phone(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    sample["verification_authorised"] = True
    sample["materials"].append("disability_certificate")
    case_id = await file_case(served, sample)
    phone = await new_page(viewport=PHONE)
    await sign_in(phone, "zhang.wei")
    await until_offered(phone, case_id, "survey")
    await action_link(phone, case_id, "survey").click()
    # The household as filed is there to confirm; nothing is wider than the phone.
    assert await phone.locator('[name="members.1.name"]').input_value() == "王建军"
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await fill(
        phone,
        {"investigators": "zhang.wei zhao.min", "living_conditions": "土坯房两间，家具简陋"},
    )
    await tick(phone, "family_member_signed")
    await screenshot(phone, "survey-phone")
    await submit(phone, "入户调查")
    assert CASE_URL.match(phone.url), phone.url
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'survey'", case_id
    ) == [(1,)]


async def test_a_wrong_id_number_is_flagged_as_typed_and_refused_at_its_field(
    new_page: Any, dev_stack: Stack
) -> None:
    page = await new_page()
    await sign_in(page, "zhang.wei")
    await page.goto("/console/cases/new")
    await fill(
        page,
        {
            "members.0.name": "王秀英",
            "members.0.id_number": "612522195803120027",
            "members.0.relation": "head",
            "members.1.name": "王建军",
            "members.1.relation": "child",
        },
    )
    wrong = page.locator('[name="members.1.id_number"]')
    await wrong.press_sequentially("610423198501010018")  # the check digit is X
    typed = page.locator("#f-members-1-id_number-check")
    assert "校验位" in await typed.inner_text()
    # One row removed in the page, by the script: the rows left are sent.
    await page.locator('button[value="remove:members.3"]').click()
    assert await page.locator('[data-row="members"]').count() == 3
    await submit(page, "登记申请")
    assert page.url.endswith("/console/cases/new")
    error = page.locator("#f-members-1-id_number-error")
    assert "校验位" in await error.inner_text()
    assert await wrong.input_value() == "610423198501010018"
    await screenshot(page, "filing-error")
    assert page.console_errors == []
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]


async def test_a_form_sent_twice_acts_once(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = await file_case(served, sample)
    page = await new_page()
    await sign_in(page, "zhang.wei")
    await until_offered(page, case_id, "materials")
    await action_link(page, case_id, "materials").click()
    await tick(page, "materials", "disability_certificate")
    await tick(page, "verification_authorised")
    # Sent twice from the page, as a double click without the script or a reload would.
    statuses = await page.evaluate(
        """async () => {
            const form = document.querySelector("main form.form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form),
                                                   redirect: "manual"});
            const answers = await Promise.all([send(), send()]);
            return answers.map(a => a.type === "opaqueredirect" ? 303 : a.status);
        }"""
    )
    assert statuses[0] == 303, statuses
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'materials'",
        case_id,
    ) == [(1,)]
    await page.goto(f"/console/cases/{case_id}")
    assert await action_link(page, case_id, "materials").count() == 0
