"""Family changes over HTTP (动态管理, issue 17 item 6): a member dies → reduction with a
reasoned notice (mca-2021 Arts. 31–32; 003 line 228 (7)); a birth → increase; the head dies →
a new head on the same case, or 停旧建新 with the cases linked both ways and the payment
continuous (no month paid twice, none lost). Every change is posted (001 陕西 第十条(四)).

The households come in through a ledger import (the quickest way to a recipient case): one
urban household of a head and a child, paid 300.00 元 a month up to 2026-10."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from stdnum.cn import ric

from dibao.db import payroll_repo
from dibao.domain.calendar import china_date
from dibao.domain.recipient import next_month
from dibao.ledger_files import ledger_csv
from tests.api.test_ledger_import import until_started, upload
from tests.auth import COUNTY, TOWNSHIP, VILLAGE
from tests.conftest import Stack
from tests.golive import ledger_rows

TODAY = china_date(datetime.now(UTC))
YESTERDAY = date.fromordinal(TODAY.toordinal() - 1).isoformat()


async def imported_case(api: httpx.AsyncClient, stack: Stack, certificate: str) -> dict[str, Any]:
    rows = ledger_rows(1, paid_up_to="2026-10")
    rows[0]["certificate_no"] = rows[1]["certificate_no"] = certificate  # a file of its own
    response = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files=upload(ledger_csv(rows), f"{certificate}.csv"),
        headers=COUNTY,
    )
    assert response.status_code == 202, response.text
    await until_started(api, response.json()["import_id"])
    (case_id,) = stack.sql(
        "SELECT case_id FROM entitlement_changes WHERE certificate_no = %s", certificate
    )[0]
    stack.started.append(case_id)
    case = await until(api, case_id, lambda c: c["recipient"] is not None)
    return case


async def until(api: httpx.AsyncClient, case_id: str, ok: Any) -> dict[str, Any]:
    for _ in range(300):
        body: dict[str, Any] = (await api.get(f"/cases/{case_id}", headers=COUNTY)).json()
        if body.get("stage") and ok(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"case {case_id} never got there: {body}")


def ledger(stack: Stack, case_id: str) -> list[tuple[Any, ...]]:
    return stack.sql(
        "SELECT change_kind, effective_month, monthly_amount_fen FROM entitlement_changes "
        "WHERE case_id = %s ORDER BY id",
        case_id,
    )


async def until_ledger(stack: Stack, case_id: str, rows: int) -> list[tuple[Any, ...]]:
    for _ in range(300):
        found = ledger(stack, case_id)
        if len(found) >= rows:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"ledger of {case_id}: {ledger(stack, case_id)}")


async def until_posted(stack: Stack, case_id: str) -> None:
    for _ in range(200):
        if stack.sql("SELECT count(*) FROM postings WHERE case_id = %s", case_id)[0][0]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no posting of {case_id}")


def members(case: dict[str, Any]) -> dict[str, str]:
    return {m["id_number"]: m["relation"] for m in case["recipient"]["members"]}


async def change(
    api: httpx.AsyncClient, case_id: str, body: dict[str, Any], who: dict[str, str] = TOWNSHIP
) -> httpx.Response:
    return await api.post(
        f"/cases/{case_id}/household-change",
        json=body,
        headers={**who, "Idempotency-Key": body["event"] + case_id},
    )


def head_and_child(case: dict[str, Any]) -> tuple[str, str]:
    ids = members(case)
    head = next(i for i, r in ids.items() if r == "head")
    return head, next(i for i in ids if i != head)


async def test_a_member_dies_the_amount_is_reduced_from_the_month_after_with_a_notice(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    # mca-2021 Arts. 31–32: a reduction, with its reason told; 003 line 228 (7).
    case = await imported_case(api, dev_stack, "HC-DEATH")
    case_id = case["case_id"]
    head, child = head_and_child(case)
    body = {
        "event": "death",
        "on": YESTERDAY,
        "member_id_number": child,
        "incomes": [{"category": "wages", "monthly_amount": "400"}],
    }
    # A village caseworker may report recipients' changes too (role table: HOUSEHOLD_CHANGE).
    response = await change(api, case_id, body, VILLAGE)
    assert response.status_code == 200, response.text
    out = response.json()
    assert list(members(out)) == [head]
    month = next_month(date.fromisoformat(YESTERDAY))
    rows = await until_ledger(dev_stack, case_id, 2)
    # Urban standard 530.00 元 for one person with 400.00 元 wages: 130.00 元.
    assert rows[-1] == ("decrease", max(month, "2026-11"), 13_000)
    case = await until(
        api, case_id, lambda c: bool(c["notices"]) and c["notices"][-1]["kind"] == "payment_change"
    )
    notice = (await api.get(case["notices"][-1]["url"], headers=COUNTY)).text
    assert "减发" in notice and "死亡" in notice and "家庭人口由 2 人变为 1 人" in notice
    assert "行政复议" in notice  # a reduction states the remedies (Art. 38)
    # Posted like every payment change (001 陕西 第十条(四)).
    await until_posted(dev_stack, case_id)
    assert dev_stack.sql(
        "SELECT household_size, monthly_amount_fen FROM postings WHERE case_id = %s AND stage = 'recipient'",
        case_id,
    ) == [(1, 13_000)]
    # The same request again changes nothing.
    again = await change(api, case_id, body, VILLAGE)
    assert again.status_code == 200
    await asyncio.sleep(0.3)
    assert len(ledger(dev_stack, case_id)) == 2


async def test_a_birth_increases_the_amount_and_a_bad_change_is_refused_by_field(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    case = await imported_case(api, dev_stack, "HC-BIRTH")
    case_id = case["case_id"]
    born = date.fromisoformat(YESTERDAY)
    body = f"610423{born:%Y%m%d}005"
    newborn = body + ric.calc_check_digit(body + "0")
    wrong_day = await change(
        api,
        case_id,
        {
            "event": "birth",
            "on": date.fromordinal(born.toordinal() - 3).isoformat(),
            "joining": {"name": "小宝", "id_number": newborn, "relation": "grandchild"},
        },
    )
    assert wrong_day.status_code == 422
    assert "joining" in wrong_day.text and "birth date" in wrong_day.text
    response = await change(
        api,
        case_id,
        {
            "event": "birth",
            "on": YESTERDAY,
            "joining": {"name": "小宝", "id_number": newborn, "relation": "grandchild"},
        },
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["recipient"]["members"]) == 3
    rows = await until_ledger(dev_stack, case_id, 2)
    # Three people, no counted income: 3 × 530.00 元, from the month after the report.
    assert rows[-1] == ("increase", next_month(TODAY), 159_000)


async def test_the_head_dies_and_the_child_becomes_head_on_the_same_case(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    case = await imported_case(api, dev_stack, "HC-HEAD")
    case_id = case["case_id"]
    head, child = head_and_child(case)
    no_head = await change(
        api, case_id, {"event": "death", "on": YESTERDAY, "member_id_number": head}
    )
    assert no_head.status_code == 422 and "new_head_id_number" in no_head.text
    response = await change(
        api,
        case_id,
        {
            "event": "death",
            "on": YESTERDAY,
            "member_id_number": head,
            "new_head_id_number": child,
        },
    )
    assert response.status_code == 200, response.text
    assert members(response.json()) == {child: "head"}
    assert response.json()["status"] == "receiving"
    assert response.json()["links"] == {"continues": None, "continued_by": None, "from_month": None}
    # The file records the household as it now is: the case is the new head's, and the
    # change's notice is addressed to them (one person now, no counted income: 530.00 元).
    assert dev_stack.sql("SELECT head_id_number FROM cases WHERE case_id = %s", case_id) == [
        (child,)
    ]
    assert dev_stack.sql(
        "SELECT event, jsonb_array_length(members) FROM household_changes WHERE case_id = %s",
        case_id,
    ) == [("death", 1)]
    rows = await until_ledger(dev_stack, case_id, 2)
    assert rows[-1][0] == "increase" and rows[-1][2] == 53_000
    case = await until(
        api, case_id, lambda c: bool(c["notices"]) and c["notices"][-1]["kind"] == "payment_change"
    )
    notice = (await api.get(case["notices"][-1]["url"], headers=COUNTY)).text
    assert "<p>子女0：</p>" in notice and "户主变更为身份证号尾号" in notice
    # The account was the late head's: the family is told to record another.
    assert "请及时到乡镇（街道）登记新的收款账户" in notice


async def test_the_head_dies_stop_old_open_new_links_the_cases_and_pays_every_month_once(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    case = await imported_case(api, dev_stack, "HC-NEW")
    old_id = case["case_id"]
    head, child = head_and_child(case)
    body = {
        "event": "death",
        "on": YESTERDAY,
        "member_id_number": head,
        "new_head_id_number": child,
        "successor": "new_case",
    }
    response = await change(api, old_id, body)
    assert response.status_code == 200, response.text
    links = response.json()["links"]
    new_id = links["continued_by"]
    assert new_id and new_id != old_id
    dev_stack.started.append(new_id)
    month = max(next_month(date.fromisoformat(YESTERDAY)), "2026-11")
    assert links["from_month"] == month
    # The link both ways, on GET /cases/{id}.
    new = await until(api, new_id, lambda c: c["recipient"] is not None)
    assert new["links"]["continues"] == old_id
    assert (new["stage"], new["status"]) == ("recipient", "receiving")
    assert members(new) == {child: "head"}
    old = (await api.get(f"/cases/{old_id}", headers=COUNTY)).json()
    assert old["links"]["continued_by"] == new_id
    # The old case stops from the month the new one starts: one ledger continues the other.
    old_rows = await until_ledger(dev_stack, old_id, 2)
    assert old_rows[-1][:2] == ("stop", month)
    assert ledger(dev_stack, new_id) == [("start", month, 53_000)]
    # The same request again opens no second case.
    assert (await change(api, old_id, body)).json()["links"]["continued_by"] == new_id
    assert dev_stack.sql("SELECT count(*) FROM case_links") == [(1,)]
    # Every month from the old case's first to December owed once, by one case or the other
    # (the roster; the new case is paid into an account once the office records one, its
    # holder having died).
    async with dev_stack.sessions() as session:
        roster = await payroll_repo.roster(session, "610423", "2026-12")
    owed = sorted(
        (line.month, pay.case_id, line.amount_fen)
        for pay in roster
        if pay.case_id in (old_id, new_id)
        for line in pay.lines
    )
    assert [o[0] for o in owed] == ["2026-11", "2026-12"]
    assert all(o[1] == (old_id if o[0] < month else new_id) for o in owed)
    assert new["payee"] is None


async def test_stop_old_open_new_closes_the_old_case_once_its_stop_was_posted(
    ts_api: httpx.AsyncClient, ts_stack: Stack
) -> None:
    # 001 陕西 第十条(四): the stop is posted 7 days like every change; then the old case is
    # closed (exited) with a notice saying which case continues it, the new one receiving.
    case = await imported_case(ts_api, ts_stack, "HC-CLOSE")
    old_id = case["case_id"]
    head, child = head_and_child(case)
    body = {
        "event": "death",
        "on": YESTERDAY,
        "member_id_number": head,
        "new_head_id_number": child,
        "successor": "new_case",
    }
    response = await change(ts_api, old_id, body)
    assert response.status_code == 200, response.text
    new_id = response.json()["links"]["continued_by"]
    ts_stack.started.append(new_id)
    await until_ledger(ts_stack, old_id, 2)
    await until_posted(ts_stack, old_id)
    await ts_stack.env.sleep(timedelta(days=7, minutes=1))
    old = await until(ts_api, old_id, lambda c: c["status"] == "exited")
    notice = (await ts_api.get(old["notices"][-1]["url"], headers=COUNTY)).text
    assert "停发" in notice and "停旧建新" in notice
    new = (await ts_api.get(f"/cases/{new_id}", headers=COUNTY)).json()
    assert new["status"] == "receiving" and new["links"]["continues"] == old_id


async def test_stop_old_open_new_waits_for_a_change_being_posted_so_no_month_is_paid_twice(
    ts_api: httpx.AsyncClient, ts_stack: Stack
) -> None:
    # The new case is paid from the month the old one stops: the old one's stop must be in its
    # ledger first, and a change being posted (001 陕西 第十条(四), 7 days) holds it back.
    case = await imported_case(ts_api, ts_stack, "HC-WAIT")
    old_id = case["case_id"]
    head, child = head_and_child(case)
    born = date.fromisoformat(YESTERDAY)
    body = f"610423{born:%Y%m%d}006"
    newborn = body + ric.calc_check_digit(body + "0")
    birth = {
        "event": "birth",
        "on": YESTERDAY,
        "joining": {"name": "小宝", "id_number": newborn, "relation": "grandchild"},
    }
    assert (await change(ts_api, old_id, birth)).status_code == 200
    await until_posted(ts_stack, old_id)
    death = {
        "event": "death",
        "on": YESTERDAY,
        "member_id_number": head,
        "new_head_id_number": child,
        "successor": "new_case",
    }
    refused = await change(ts_api, old_id, death)
    assert refused.status_code == 409, refused.text
    assert "停旧建新" in refused.text and "name the new head on this case now" in refused.text
    assert ts_stack.sql("SELECT count(*) FROM case_links") == [(0,)]
    await ts_stack.env.sleep(timedelta(days=7, minutes=1))
    for _ in range(100):
        accepted = await ts_api.post(
            f"/cases/{old_id}/household-change",
            json=death,
            headers={**TOWNSHIP, "Idempotency-Key": f"death-again-{old_id}"},
        )
        if accepted.status_code != 409:
            break
        await asyncio.sleep(0.05)
    assert accepted.status_code == 200, accepted.text
    new_id = accepted.json()["links"]["continued_by"]
    ts_stack.started.append(new_id)
    assert ledger(ts_stack, new_id)[0][0] == "start"
    # Three people before (the newborn included), two after the head's death.
    assert members(await until(ts_api, new_id, lambda c: c["recipient"] is not None)) == {
        child: "head",
        newborn: "grandchild",
    }
