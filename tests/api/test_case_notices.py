"""一户一档: after re-reviews (each a new workflow run) the case still lists every notice issued
to the household, once each and in order, as PostgreSQL holds them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from dibao.domain.application import IncomeItem
from dibao.domain.enums import IncomeCategory
from tests.conftest import Stack
from tests.workflows.helpers import wait_for
from tests.workflows.test_recipient import approved_case, pass_change_posting, review


async def test_case_lists_every_notice_once_in_order_across_review_cycles(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-NOTICES00001")
    for cycle, rid in ((2, "r1"), (3, "r2")):
        await ts_stack.env.sleep(timedelta(days=370))
        view = await wait_for(handle, lambda v: v.review_due, f"review {rid} due")
        wages = IncomeItem(category=IncomeCategory.WAGES, monthly_fen=10000 * cycle)
        await review(handle, view, rid, incomes=(*view.application.incomes, wages))
        await pass_change_posting(ts_stack, count=cycle - 1)
        handle = ts_stack.client.get_workflow_handle(handle.id)
        await wait_for(
            handle,
            lambda v, c=cycle: v.recipient is not None and v.recipient.cycle == c,
            f"cycle {cycle}",
        )

    stored = ts_stack.sql(
        "SELECT notice_id, kind FROM notices WHERE case_id = %s ORDER BY issued_at", handle.id
    )
    kinds = [k for _, k in stored]
    assert kinds[:2] == ["acceptance", "approval"] and kinds.count("payment_change") == 2

    case = (await ts_api.get(f"/cases/{handle.id}")).json()
    assert [(n["notice_id"], n["kind"]) for n in case["notices"]] == [tuple(r) for r in stored]
    notice_ids = case["recipient"]["notice_ids"]
    assert len(notice_ids) == len(set(notice_ids)), "a notice listed twice"
    assert notice_ids == [n for n, _ in stored]
