"""The 监督 and 运维 pages over HTTP (no browser): who may open them, the filters' errors in
Chinese, the charts as inline SVG without script, keyed paging, drills and a batch retry."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from dibao.db import ops_repo
from tests.api.notices import until_notice
from tests.auth import VILLAGE, Staff
from tests.conftest import Stack
from tests.console.test_forms_http import hidden, signed_in
from tests.db.test_stuck_one_statement import seed_overdue
from tests.workflows.helpers import complete


@pytest.fixture
async def console(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dev_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test"
        ) as client,
    ):
        yield client


async def _as(console: httpx.AsyncClient, user_id: str) -> None:
    console.cookies.clear()
    await signed_in(console, user_id)


async def _file(
    console: httpx.AsyncClient, sample: dict[str, Any], *, written: bool = False
) -> str:
    filed = await console.post("/cases", json=complete(sample), headers=VILLAGE)
    assert filed.status_code == 201, filed.text
    # The worker's first stage written (filing answers before it), so what a test then sets
    # on the case row is not overwritten.
    if written:
        await until_notice(console, filed, headers=VILLAGE)
    case_id: str = filed.json()["case_id"]
    return case_id


async def test_supervision_page_charts_filters_and_refusals(
    console: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = await _file(console, sample, written=True)
    dev_stack.sql(
        "UPDATE cases SET due_at = now() - interval '2 days' WHERE case_id = %s RETURNING 1",
        case_id,
    )
    await _as(console, "wang.jian")
    page = await console.get("/console/supervision")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<script" not in html and "监督" in html
    assert case_id in html and "超期" in html
    # The overdue-by-stage chart's bar links to the list of exactly those cases.
    link = re.search(r'<a href="(/console/supervision\?stage=survey&amp;reason=overdue)">', html)
    assert link, html[:3000]
    narrowed = await console.get(link.group(1).replace("&amp;", "&"))
    assert case_id in narrowed.text
    assert "/console/cases/" + case_id in narrowed.text
    # A wrong filter: the reason beside its field, nothing looked up beyond the page.
    wrong = await console.get("/console/supervision", params={"township": "12"})
    assert wrong.status_code == 422 and "乡镇区划代码应为9位数字" in wrong.text
    # Outside the jurisdiction: refused, as the API refuses it.
    outside = await console.get("/console/supervision", params={"county": "610424"})
    assert outside.status_code == 403 and "无权办理" in outside.text

    # The auditor reads it too; a caseworker and ops do not.
    await _as(console, "liu.yang")
    assert (await console.get("/console/supervision")).status_code == 200
    await _as(console, "zhang.wei")
    refused = await console.get("/console/supervision")
    assert refused.status_code == 403 and "无权办理" in refused.text
    assert 'href="/console/supervision"' not in refused.text  # not in the navigation either


async def test_supervision_list_pages_by_key(
    console: httpx.AsyncClient, dev_stack: Stack, staff: Staff
) -> None:
    dev_stack.sql(
        """
        INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id,
            rule_pack_version, area_type, province_code, county_code, township_code,
            village_code, stage_entered_at, due_at, filed_at, waiting_role)
        SELECT 'DB-P' || lpad(i::text, 11, '0'), left(md5(i::text), 18), 'survey',
            'in_progress', 'seed-default', 1, 'rural', '61', '610423', '610423100',
            '610423100201', now() - i * interval '1 hour', now() - i * interval '1 hour',
            now() - interval '3 days', 'village_caseworker'
        FROM generate_series(1, 60) AS i RETURNING 1
        """
    )
    await _as(console, "wang.jian")
    first = await console.get("/console/supervision", params={"reason": "overdue"})
    ids = re.findall(r'<td data-label="案件编号"><a href="/console/cases/(DB-P\d+)"', first.text)
    assert len(ids) == 50 and ids[0] == "DB-P00000000060"  # longest waiting first
    after = re.search(r'href="(/console/supervision\?[^"]*after=[^"]+)">下一页', first.text)
    assert after
    second = await console.get(after.group(1).replace("&amp;", "&"))
    more = re.findall(r'<td data-label="案件编号"><a href="/console/cases/(DB-P\d+)"', second.text)
    assert len(more) == 10 and not set(more) & set(ids)
    assert "下一页" not in second.text


async def test_ops_drill_incident_batch_retry_succeeds(
    console: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    await _as(console, "ma.chao")
    ops = await console.get("/console/ops")
    assert ops.status_code == 200, ops.text
    # A drill started from the page, with a wrong field first.
    bad = await console.post(
        "/console/ops/drills", data={**hidden(ops.text), "activity_type": "Issue Notice!"}
    )
    assert bad.status_code == 422 and "请填写步骤（活动）名称" in bad.text
    started = await console.post(
        "/console/ops/drills",
        data={**hidden(ops.text), "activity_type": "issue_notice", "message": "printer offline"},
    )
    assert started.status_code == 303
    assert dev_stack.sql("SELECT activity_type FROM ops_drills") == [("issue_notice",)]

    case_id = await _file(console, sample)
    for _ in range(250):
        ops = await console.get("/console/ops")
        if 'name="incident"' in ops.text:
            break
        await asyncio.sleep(0.05)
    assert case_id in ops.text and "printer offline" in ops.text
    incident_id = re.search(r'name="incident" value="([^"]+)"', ops.text)
    assert incident_id
    described = await console.get(f"/console/ops/cases/{case_id}")
    assert described.status_code == 200 and "Temporal Web UI" in described.text
    assert f"/workflows/{case_id}" in described.text

    # Retried while the drill still runs: the step fails again, a new incident, never
    # "resolved".
    again = await console.post(
        "/console/ops/retry-selected",
        data={**hidden(ops.text), "incident": incident_id.group(1), "reason": "先试一次"},
    )
    assert again.status_code == 303
    for _ in range(250):
        result = await console.get(again.headers["location"])
        if "outcome-failed_again" in result.text:
            break
        await asyncio.sleep(0.05)
    assert 'outcome-failed_again">再次失败' in result.text and "已成功" not in result.text
    for _ in range(250):
        ops = await console.get("/console/ops")
        incident_id = re.search(r'name="incident" value="([^"]+)"', ops.text)
        if incident_id:
            break
        await asyncio.sleep(0.05)
    assert incident_id

    # The filters: by step and by age.
    assert case_id not in (await console.get("/console/ops?activity=append_audit")).text
    assert case_id not in (await console.get("/console/ops?older_than=168")).text
    assert case_id in (await console.get("/console/ops?activity=issue_notice")).text

    # Stop the drill, then retry the selection: no reason first, refused at its field.
    stop = await console.post(
        "/console/ops/drills/stop", data={**hidden(ops.text), "activity_type": "issue_notice"}
    )
    assert stop.status_code == 303 and dev_stack.sql("SELECT 1 FROM ops_drills") == []
    ops = await console.get("/console/ops")
    no_reason = await console.post(
        "/console/ops/retry-selected",
        data={**hidden(ops.text), "incident": incident_id.group(1), "reason": ""},
    )
    assert no_reason.status_code == 422 and "请填写重试原因" in no_reason.text
    retried = await console.post(
        "/console/ops/retry-selected",
        data={**hidden(ops.text), "incident": incident_id.group(1), "reason": "打印机已恢复"},
    )
    assert retried.status_code == 303, retried.text
    result_url = retried.headers["location"]
    for _ in range(250):
        result = await console.get(result_url)
        if "outcome-succeeded" in result.text:
            break
        await asyncio.sleep(0.05)
    assert 'outcome-succeeded">已成功' in result.text and case_id in result.text
    assert 'http-equiv="refresh"' not in result.text  # settled: no more refreshing

    # Other roles are refused the page and its forms.
    await _as(console, "wang.jian")
    assert (await console.get("/console/ops")).status_code == 403


async def test_ops_skip_a_notice_with_a_reason(
    console: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    dev_stack.sql(
        "INSERT INTO ops_drills (activity_type, case_id, retryable, message, started_by) "
        "VALUES ('issue_notice', NULL, false, 'printer offline', 'test') RETURNING 1"
    )
    case_id = await _file(console, sample)
    await _as(console, "ma.chao")
    for _ in range(250):
        page = await console.get(f"/console/ops/cases/{case_id}")
        if "跳过此步骤" in page.text:
            break
        await asyncio.sleep(0.05)
    incident_id = re.search(r'name="incident_id" value="([^"]+)"', page.text)
    assert incident_id
    form = {**hidden(page.text), "incident_id": incident_id.group(1)}
    blank = await console.post(f"/console/ops/cases/{case_id}/skip", data=form)
    assert blank.status_code == 422 and "请填写此项" in blank.text
    assert dev_stack.sql("SELECT status FROM step_failures") == [("incident",)]
    skipped = await console.post(
        f"/console/ops/cases/{case_id}/skip", data={**form, "skip_reason": "通知书已纸质送达"}
    )
    assert skipped.status_code == 303, skipped.text
    assert dev_stack.sql("SELECT status, resolution FROM step_failures") == [
        ("skipped", "通知书已纸质送达")
    ]


async def test_ops_count_says_more_than_the_cap_not_a_false_number(
    console: httpx.AsyncClient, dev_stack: Stack, staff: Staff
) -> None:
    url = dev_stack.settings.database_url
    assert url is not None
    seed_overdue(url)
    dev_stack.sql(
        """
        INSERT INTO step_failures (workflow_id, run_id, activity_id, case_id, activity_type,
            status, attempts, first_failed_at, last_failed_at, last_error)
        SELECT 'DB-OVERDUE00000', 'r', i::text, 'DB-OVERDUE00000', 'issue_notice', 'incident',
            5, now() - i * interval '1 second', now(), 'down'
        FROM generate_series(1, 1003) AS i RETURNING 1
        """
    )
    await _as(console, "ma.chao")
    ops = await console.get("/console/ops")
    assert ops.status_code == 200
    assert f"故障与失败步骤（{ops_repo.TOTAL_CAP} 项以上）" in ops.text
    assert "1003 项" not in ops.text and "1001 项" not in ops.text
