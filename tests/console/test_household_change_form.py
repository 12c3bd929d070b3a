"""The console's 家庭人口变化 form (issue 17 item 6; mca-2021 Arts. 30–32): a head of household
who died is refused without a new head, at that field; with one and 停旧建新 the old case
page links the new case and the new case page links back."""

from __future__ import annotations

import re

import httpx

from tests.api.test_household_change import YESTERDAY, head_and_child, imported_case
from tests.conftest import Stack
from tests.console.test_forms_http import browser_like, hidden, signed_in

__all__ = ["browser_like"]  # the fixture, shared with the other form tests


async def test_the_head_dies_stop_old_open_new_through_the_console(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    case = await imported_case(client, dev_stack, "HC-CONSOLE")
    old_id = case["case_id"]
    head, child = head_and_child(case)
    await signed_in(client, "li.na")
    page = await client.get(f"/console/cases/{old_id}")
    assert f"/console/cases/{old_id}/act/household-change" in page.text
    form = await client.get(f"/console/cases/{old_id}/act/household-change")
    assert form.status_code == 200 and "停旧建新" in form.text
    fields = {"event": "death", "on": YESTERDAY, "member_id_number": head}
    refused = await client.post(
        f"/console/cases/{old_id}/act/household-change", data={**hidden(form.text), **fields}
    )
    assert refused.status_code == 422
    assert re.search(r'class="field invalid">\s*<label for="[^"]*new_head_id_number', refused.text)
    form = await client.get(f"/console/cases/{old_id}/act/household-change")
    done = await client.post(
        f"/console/cases/{old_id}/act/household-change",
        data={
            **hidden(form.text),
            **fields,
            "new_head_id_number": child,
            "successor": "new_case",
        },
    )
    assert done.status_code == 303, done.text
    (new_id,) = dev_stack.sql("SELECT new_case_id FROM case_links WHERE old_case_id = %s", old_id)[
        0
    ]
    dev_stack.started.append(new_id)
    old_page = (await client.get(f"/console/cases/{old_id}")).text
    assert f'href="/console/cases/{new_id}"' in old_page and "接续发放" in old_page
    new_page = (await client.get(f"/console/cases/{new_id}")).text
    assert f'href="/console/cases/{old_id}"' in new_page and "接续原案件" in new_page
