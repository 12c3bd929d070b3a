"""The console's form for the family's evidence on a failed check (mca-2021 Art. 18)."""

from __future__ import annotations

import asyncio
import re

import httpx

from dibao.db import registry_repo
from dibao.domain.verification import Department, RecordKind, RegistryRecord
from tests.conftest import Stack
from tests.console.test_forms_http import (
    SURVEY,
    _filed_at_survey,
    browser_like,  # noqa: F401  (the fixture)
    hidden,
    signed_in,
)

HEAD_ID = "612522195803120027"  # the filing form's head


async def test_art18_the_township_records_the_familys_evidence_on_its_form(
    browser_like: httpx.AsyncClient,  # noqa: F811
    dev_stack: Stack,
) -> None:
    async with dev_stack.sessions() as session:
        await registry_repo.load_batch(
            session,
            Department.VEHICLES,
            [RegistryRecord(Department.VEHICLES, HEAD_ID, RecordKind.VEHICLE, detail="motorcycle")],
            "vehicles.csv",
            "c" * 64,
            "chen.gang",
            replace=True,
        )
    await signed_in(browser_like, "zhang.wei")
    case_id = await _filed_at_survey(browser_like)
    form = await browser_like.get(f"/console/cases/{case_id}/act/survey")
    answer = await browser_like.post(
        f"/console/cases/{case_id}/act/survey", data={**SURVEY, **hidden(form.text)}
    )
    assert answer.status_code == 303, answer.text[-2000:]
    await browser_like.post("/console/sign-out", data=hidden(form.text))
    browser_like.cookies.clear()
    await signed_in(browser_like, "li.na")
    for _ in range(100):
        page = await browser_like.get(f"/console/cases/{case_id}")
        if f"/console/cases/{case_id}/act/evidence" in page.text:
            break
        await asyncio.sleep(0.1)
    assert "核对结果告知与举证" in page.text and "登记核对异议证明材料" in page.text
    form = await browser_like.get(f"/console/cases/{case_id}/act/evidence")
    assert form.status_code == 200, form.text[-2000:]
    assert 'name="summary"' in form.text and "重新核对家庭经济状况" in form.text
    blank = {"received_on": "2026-11-30", "summary": "", "effect": "recheck"}
    answer = await browser_like.post(
        f"/console/cases/{case_id}/act/evidence", data={**blank, **hidden(form.text)}
    )
    assert answer.status_code == 422
    assert re.search(r'id="f-summary-error"', answer.text)
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'evidence'", case_id
    ) == [(0,)]
    given = {**blank, "summary": "摩托车已报废注销证明", "effect": "findings_stand"}
    answer = await browser_like.post(
        f"/console/cases/{case_id}/act/evidence", data={**given, **hidden(form.text)}
    )
    assert answer.status_code == 303, answer.text[-2000:]
    assert dev_stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'evidence'", case_id
    ) == [(1,)]
