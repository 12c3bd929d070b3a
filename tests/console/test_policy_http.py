"""政策与基础数据 over HTTP (no browser): uploads are all or nothing with their errors by line in
Chinese, rule packs compare side by side, the calendar takes a day, roles are the API's."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Stack
from tests.console.test_forms_http import browser_like, hidden, signed_in

__all__ = ["browser_like"]

GOOD = "61042319850101001X"
EXTRACT_HEADER = "id_number,kind,amount_yuan,detail,as_of\n"


async def test_a_registry_extract_with_one_bad_line_loads_nothing_and_names_the_line(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "chen.gang")
    page = await client.get("/console/policy/registry")
    assert page.status_code == 200 and "载入部门核对数据" in page.text
    bad = EXTRACT_HEADER + (
        f"{GOOD},wage_income,3200.00,某某建材有限公司,2026-10-31\n"
        "612522195803120027,home,12.345,某县某镇,2026-10-31\n"
    )
    refused = await client.post(
        "/console/policy/registry",
        data={**hidden(page.text), "department": "tax"},
        files={"file": ("tax.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "第 3 行，金额（amount_yuan）" in refused.text
    assert "未载入任何记录" in refused.text
    assert dev_stack.sql("SELECT count(*) FROM registry_records") == [(0,)]

    good = bad.replace("12.345", "")
    loaded = await client.post(
        "/console/policy/registry",
        data={**hidden(page.text), "department": "tax"},
        files={"file": ("tax.csv", good.encode(), "text/csv")},
    )
    assert loaded.status_code == 303
    result = await client.get(loaded.headers["location"])
    assert "已载入" in result.text and "2 条" in result.text and "税务部门" in result.text
    assert dev_stack.sql("SELECT count(*) FROM registry_records") == [(2,)]


async def test_a_village_caseworker_may_read_policy_but_not_load_or_forge(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "zhang.wei")
    page = await client.get("/console/policy/registry")
    assert page.status_code == 200 and "由县级审批人员或运维人员办理" in page.text
    forged = await client.post(
        "/console/policy/registry",
        data={**hidden(page.text), "department": "tax"},
        files={"file": ("tax.csv", (EXTRACT_HEADER + f"{GOOD},pension,100,,\n").encode())},
    )
    assert forged.status_code == 403
    no_csrf = await client.post("/console/policy/calendar/day", data={"day": "2027-10-01"})
    assert no_csrf.status_code == 403
    assert dev_stack.sql("SELECT count(*) FROM registry_records") == [(0,)]


async def test_rule_packs_compare_side_by_side_and_the_county_gets_one(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "chen.gang")
    (pack_a, pack_b) = [r[0] for r in dev_stack.sql("SELECT DISTINCT id FROM rule_packs")][:2]
    index = await client.get("/console/policy")
    assert index.status_code == 200 and "本县使用的规则包" in index.text
    compared = await client.get(f"/console/policy/compare?a={pack_a}:1&b={pack_b}:1")
    assert compared.status_code == 200
    changed = int(re.search(r"：(\d+) 项参数不同", compared.text).group(1))  # type: ignore[union-attr]
    assert changed == compared.text.count('<tr class="differs">') and changed > 0
    missing = await client.get(f"/console/policy/compare?a={pack_a}:999&b={pack_b}:1")
    assert missing.status_code == 422 and "没有这个规则包版本" in missing.text

    assigned = await client.post(
        "/console/policy/rule-pack", data={**hidden(index.text), "pack_id": pack_b}
    )
    assert assigned.status_code == 303
    assert dev_stack.sql("SELECT pack_id FROM county_rule_packs WHERE county_code = '610423'") == [
        (pack_b,)
    ]
    unknown = await client.post(
        "/console/policy/rule-pack", data={**hidden(index.text), "pack_id": "no-such-pack"}
    )
    assert unknown.status_code == 422 and "请选择一个已有的规则包" in unknown.text


async def test_calendar_marks_a_day_and_a_year_upload_is_all_or_nothing(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "chen.gang")
    page = await client.get("/console/policy/calendar?year=2040")
    assert "尚未录入" in page.text
    marked = await client.post(
        "/console/policy/calendar/day",
        data={**hidden(page.text), "day": "2040-10-02", "kind": "holiday", "note": "国庆节"},
    )
    assert marked.status_code == 303
    shown = await client.get(marked.headers["location"])
    assert "2040-10-02" in shown.text and "国庆节" in shown.text

    bad = "day,is_working_day,note\n2040-10-01,0,国庆节\n2040-10-03,maybe,国庆节\n"
    refused = await client.post(
        "/console/policy/calendar/upload",
        data={**hidden(page.text), "year": "2040"},
        files={"file": ("2040.csv", bad.encode())},
    )
    assert refused.status_code == 422
    assert "第 3 行：is_working_day 应为 1/0/是/否" in refused.text
    assert dev_stack.sql("SELECT count(*) FROM calendar_days WHERE day >= '2040-01-01'") == [(1,)]
    good = bad.replace("maybe", "0")
    loaded = await client.post(
        "/console/policy/calendar/upload",
        data={**hidden(page.text), "year": "2040"},
        files={"file": ("2040.csv", good.encode())},
    )
    assert loaded.status_code == 303
    assert dev_stack.sql("SELECT count(*) FROM calendar_days WHERE day >= '2040-01-01'") == [(2,)]


async def test_regions_spot_checks_and_relatives_pages(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "chen.gang")
    page = await client.get("/console/policy/regions")
    assert page.status_code == 200 and "610423100201" in page.text
    refused = await client.post(
        "/console/policy/regions",
        data=hidden(page.text),
        files={"file": ("r.csv", "code,name\n6104231002,某地\n".encode())},
    )
    assert refused.status_code == 422 and "第 2 行：代码应为6位" in refused.text
    loaded = await client.post(
        "/console/policy/regions",
        data=hidden(page.text),
        files={"file": ("r.csv", "code,name\n610423100209,新建村\n".encode())},
    )
    assert loaded.status_code == 303
    assert "新建村" in (await client.get("/console/policy/regions")).text

    spot = await client.get("/console/policy/spot-checks?year=2026")
    assert "本年尚未抽取" in spot.text
    drawn = await client.post(
        "/console/policy/spot-checks", data={**hidden(spot.text), "year": "2026"}
    )
    assert drawn.status_code == 303

    rel = await client.get("/console/policy/relatives")
    bad = await client.post(
        "/console/policy/relatives",
        data={
            **hidden(rel.text),
            "staff_id": "zhang.wei",
            "staff_role": "村级经办人",
            "relative_name": "张父",
            "relative_id_number": "612522195803120028",
            "relation": "父母",
        },
    )
    assert bad.status_code == 422 and "身份证号校验位" in bad.text
    ok = await client.post(
        "/console/policy/relatives",
        data={
            **hidden(rel.text),
            "staff_id": "zhang.wei",
            "staff_role": "村级经办人",
            "relative_name": "张父",
            "relative_id_number": "612522195803120027",
            "relation": "父母",
        },
    )
    assert ok.status_code == 303
    listed = await client.get(ok.headers["location"])
    assert "已备案" in listed.text and "张父" in listed.text and "612522********0027" in listed.text


async def test_a_township_caseworker_reads_the_sections_without_their_buttons(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "li.na")
    for path in (
        "/console/policy",
        "/console/policy/standards",
        "/console/policy/calendar",
        "/console/policy/registry",
        "/console/policy/relatives",
        "/console/policy/spot-checks",
        "/console/policy/regions",
    ):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "指定给本县" not in page.text and "上传全年安排" not in page.text
    assert (
        "由县级审批人员、监督人员和审计人员查看"
        in (await client.get("/console/policy/spot-checks")).text
    )
    refused = await client.post(
        "/console/policy/spot-checks",
        data={**hidden((await client.get("/console/policy")).text), "year": "2026"},
    )
    assert refused.status_code == 403
