"""The console's 举报投诉 pages over HTTP (mca-2021 Arts. 36–37; 000 篇3 line 54: 专人受理、专人
核实处理): record, assign, investigate and answer in writing; a bad form is refused at its
field in Chinese and changes nothing; a double submission records once; the supervisor reads
the complaint without the reporter, the village caseworker not at all."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Stack
from tests.console.test_forms_http import browser_like, hidden, signed_in  # noqa: F401

REPORTER = "钱举报"


async def test_record_assign_investigate_answer_in_the_console_keeps_the_reporter_private(
    browser_like: httpx.AsyncClient,  # noqa: F811
    dev_stack: Stack,
) -> None:
    client = browser_like
    await signed_in(client, "li.na")
    page = await client.get("/console/complaints")
    assert page.status_code == 200 and "登记举报投诉" in page.text
    assert 'href="/console/complaints"' in page.text  # in the navigation
    form = {
        **hidden(page.text),
        "kind": "general",
        "case_id": "",
        "county_code": "610423",
        "township_code": "610423100",
        "village_code": "",
        "channel": "anonymous",
        "source": "visit",
        "summary": "来访反映示例村低保户名单未张榜公示",
        "complainant_name": REPORTER,
        "complainant_contact": "",
    }
    refused = await client.post("/console/complaints", data=form)
    assert refused.status_code == 422
    assert "匿名举报不登记姓名和联系方式" in refused.text
    assert dev_stack.sql("SELECT count(*) FROM complaints") == [(0,)]
    # Art. 37: a real-name report without a way to answer it.
    form["channel"] = "real_name"
    refused = await client.post("/console/complaints", data=form)
    assert refused.status_code == 422 and "第三十七条" in refused.text
    form["complainant_contact"] = "13600000000"
    first = await client.post("/console/complaints", data=form)
    second = await client.post("/console/complaints", data=form)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert dev_stack.sql("SELECT count(*) FROM complaints") == [(1,)]
    url = first.headers["location"]
    detail = await client.get(url)
    assert REPORTER in detail.text and "已登记" in detail.text

    for step, data in (
        ("assign", {"level": "township", "township_code": ""}),
        (
            "investigation",
            {"finding": "founded", "summary": "经查，未按规定张榜", "follow_up": "none"},
        ),
        ("answer", {"text": "经核查，你反映的问题属实，已责令该村补充公示。"}),
    ):
        page = await client.get(url)
        answer = await client.post(f"{url}/{step}", data={**hidden(page.text), **data})
        assert answer.status_code == 303, (step, answer.text)
    page = await client.get(url)
    assert "已书面答复" in page.text
    document = await client.get(f"{url}/document")
    assert document.status_code == 200
    assert "举报（投诉）核查处理结果告知书" in document.text and f"{REPORTER}：" in document.text

    client.cookies.clear()
    await signed_in(client, "wang.jian")  # supervisor
    page = await client.get(url)
    assert page.status_code == 200
    assert REPORTER not in page.text and "实名（对本角色保密）" in page.text
    assert "登记举报投诉" not in (await client.get("/console/complaints")).text
    assert (await client.get(f"{url}/document")).status_code == 403

    client.cookies.clear()
    await signed_in(client, "zhang.wei")  # village caseworker
    listing = await client.get("/console/complaints")
    assert "第三十六条" in listing.text and REPORTER not in listing.text
    assert re.search(r'href="/console/complaints"', listing.text) is None
    assert (await client.get(url)).status_code == 403
