"""台账导入 through the API: the upload is answered at once (202, the import and its status URL)
and checked and written in the background; a ledger with errors reaches `errors`, imports
nothing and names each error by row and column; a clean one reaches `done` with every
household a case in the recipient phase whose first payroll pays only the months after the old
system's last; the same file again is the same import and a no-op; the county's past imports
are listed newest first, a page at a time.

1,000 households (2,000 rows: a head and a child each), as a county's first file might hold;
bench/import.py runs the large sizes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from temporalio.service import RPCError

from api.app import create_app
from dibao.db import payroll_repo
from dibao.ledger_files import ledger_csv, ledger_xlsx
from dibao.messages.case import CaseView
from tests.auth import COUNTY, VILLAGE
from tests.conftest import Stack
from tests.golive import id_number, ledger_rows
from workflows.case import CaseWorkflow

HOUSEHOLDS = 1000
# Starts a second for the clean import: the worker in this process keeps up with this many on
# a loaded two-core machine (the service's default is lower, DIBAO_LEDGER_IMPORT_RATE).
RATE = 200.0


@pytest.fixture
async def importing_api(dev_stack: Stack, staff: object) -> AsyncIterator[httpx.AsyncClient]:
    settings = dev_stack.settings.model_copy(update={"ledger_import_rate": RATE})
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", headers=COUNTY
        ) as client,
    ):
        yield client


async def terminate_all(dev_stack: Stack) -> None:
    """Stop the import's workflows at once (the stack would stop them one by one)."""
    gate = asyncio.Semaphore(32)

    async def stop(case_id: str) -> None:
        async with gate:
            with contextlib.suppress(RPCError):  # completed already
                await dev_stack.client.get_workflow_handle(case_id).terminate("test finished")

    await asyncio.gather(*(stop(c) for c in dev_stack.started))
    dev_stack.started.clear()


def upload(content: bytes, name: str = "ledger.xlsx") -> dict[str, tuple[str, bytes]]:
    return {"file": (name, content)}


def _in_order(seen: list[str]) -> bool:
    if seen[-1] == "errors":
        return set(seen[:-1]) <= {"checking"}
    steps = [STATUSES.index(s) for s in seen]
    return steps == sorted(steps)


STATUSES = ["checking", "importing", "done"]


async def until_finished(api: httpx.AsyncClient, import_id: str) -> dict[str, Any]:
    """Poll the import's status until nothing more happens to it (errors or done); the
    statuses seen on the way come in their order (checking → errors, or checking →
    importing → done)."""
    seen: list[str] = []
    for _ in range(1200):
        body: dict[str, Any] = (
            await api.get(f"/ledger/imports/{import_id}", headers=COUNTY)
        ).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["finished"]:
            assert _in_order(seen), seen
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"import never finished: {body}")


async def until_started(api: httpx.AsyncClient, import_id: str) -> dict[str, Any]:
    """Poll until the import is done: every case written and its workflow started."""
    body = await until_finished(api, import_id)
    assert body["status"] == "done", body
    assert body["done"] == body["total"] == body["households"], body
    return body


async def test_a_ledger_with_errors_imports_nothing_and_names_each_error(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    rows = ledger_rows(HOUSEHOLDS)
    rows[0]["id_number"] = "610423198501010000"  # wrong check digit (row 2)
    rows[3]["id_number"] = rows[1]["id_number"]  # the same person twice (rows 3 and 5)
    rows[10]["amount"] = "三百"  # row 12
    rows[20]["paid_up_to"] = "2026-13"  # row 22
    rows[30]["village_code"] = "610424100201"  # another county (row 32)
    response = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files=upload(ledger_xlsx(rows)),
        headers=COUNTY,
    )
    # Answered at once: stored, checked in the background.
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "checking" and body["created"] is True
    assert response.headers["location"] == body["status_url"]
    assert body["status_url"] == f"/ledger/imports/{body['import_id']}"
    done = await until_finished(api, body["import_id"])
    assert (done["status"], done["errors"], done["done"]) == ("errors", 6, 0)
    report = await api.get(done["error_report"], headers=COUNTY)
    assert report.status_code == 200
    assert report.json()["message"] == "台账有 6 处错误，未导入任何数据"
    found = {(e["row"], e["column"]) for e in report.json()["errors"]}
    assert found == {
        (2, "身份证号"),
        (3, "身份证号"),
        (5, "身份证号"),
        (12, "月保障金额（元）"),
        (22, "已发放至年月"),
        (32, "户籍地区划代码"),
    }
    # Nothing of the file was written: only the import's own record, with its errors.
    for table in (
        "cases",
        "applications",
        "audit_log",
        "entitlement_changes",
        "stage_events",
        "ledger_import_households",
    ):
        assert dev_stack.sql(f"SELECT count(*) FROM {table}") == [(0,)], table
    assert dev_stack.sql("SELECT status, error_count FROM ledger_imports") == [("errors", 6)]
    # The check report as a workbook, from the import and from a check: the bad cell filled
    # and commented.
    for marked in (
        await api.get(done["error_report"], params={"format": "xlsx"}, headers=COUNTY),
        await api.post(
            "/ledger/check",
            params={"county": "610423", "format": "xlsx"},
            files=upload(ledger_xlsx(rows)),
            headers=COUNTY,
        ),
    ):
        sheet = load_workbook(io.BytesIO(marked.content))["台账"]
        assert sheet["C2"].comment is not None and "身份证号无效" in sheet["C2"].comment.text
        assert sheet["C2"].fill.fgColor.rgb.endswith("FFC7CE")
        assert sheet["C4"].comment is None


async def test_a_clean_ledger_makes_recipient_cases_paid_after_the_paid_up_month(
    api: httpx.AsyncClient, importing_api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    rows = ledger_rows(HOUSEHOLDS, paid_up_to="2026-10")
    content = ledger_csv(rows)
    assert (await api.get("/ledger/template", headers=VILLAGE)).status_code == 403
    response = await importing_api.post(
        "/ledger/imports", params={"county": "610423"}, files=upload(content, "台账.csv")
    )
    assert response.status_code == 202, response.text
    body = response.json()
    # Answered before the check: nothing is counted yet.
    assert (body["status"], body["households"], body["created"]) == ("checking", 0, True)
    try:
        done = await until_started(importing_api, body["import_id"])
        dev_stack.started += [r[0] for r in dev_stack.sql("SELECT case_id FROM cases")]
        assert (done["households"], done["persons"], done["done"]) == (
            HOUSEHOLDS,
            2 * HOUSEHOLDS,
            HOUSEHOLDS,
        )
        assert done["file_sha256"] == hashlib.sha256(content).hexdigest()
        await imported_cases_are_paid_after_the_paid_up_month(importing_api, dev_stack, content)
    finally:
        await terminate_all(dev_stack)


async def imported_cases_are_paid_after_the_paid_up_month(
    api: httpx.AsyncClient, dev_stack: Stack, content: bytes
) -> None:
    assert dev_stack.sql("SELECT stage, status, count(*) FROM cases GROUP BY 1, 2") == [
        ("recipient", "receiving", HOUSEHOLDS)
    ]
    assert dev_stack.sql("SELECT action, count(*) FROM audit_log GROUP BY 1") == [
        ("import_ledger", HOUSEHOLDS)
    ]
    assert dev_stack.sql("SELECT count(*) FROM stage_events WHERE stage = 'recipient'") == [
        (HOUSEHOLDS,)
    ]
    # The workflows hold their cases in the recipient phase with the ledger's amounts (every
    # 50th asked: a query of a workflow no longer cached replays its history).
    amounts = dev_stack.sql(
        "SELECT case_id, monthly_amount_fen FROM entitlement_changes ORDER BY certificate_no"
    )
    for case_id, amount in amounts[::50]:
        view: CaseView = await dev_stack.client.get_workflow_handle(case_id).query(
            CaseWorkflow.state
        )
        assert view.recipient is not None
        assert (view.stage.value, view.recipient.monthly_amount_fen) == ("recipient", amount)

    # The first payroll of December pays November and December, nothing before.
    async with dev_stack.sessions() as session:
        run = await payroll_repo.build_run(
            session, "610423", "2026-12", "li.na", datetime.now(UTC), lambda run, sha: ""
        )
    months = dev_stack.sql("SELECT DISTINCT month, kind FROM payroll_lines ORDER BY 1")
    assert months == [("2026-11", "arrears"), ("2026-12", "regular")]
    expected = sum(2 * (30_000 + (h % 50) * 100 + h % 100) for h in range(HOUSEHOLDS))
    assert (run.households, run.total_fen) == (HOUSEHOLDS, expected)

    # The same file again: the same import, done, nothing new.
    (first,) = dev_stack.sql("SELECT import_id FROM ledger_imports")[0]
    again = await api.post(
        "/ledger/imports", params={"county": "610423"}, files=upload(content, "again.csv")
    )
    assert again.status_code == 202
    assert (again.json()["import_id"], again.json()["status"], again.json()["created"]) == (
        first,
        "done",
        False,
    )
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(HOUSEHOLDS,)]
    assert dev_stack.sql("SELECT count(*) FROM entitlement_changes") == [(HOUSEHOLDS,)]
    assert dev_stack.sql("SELECT count(*) FROM audit_log") == [(HOUSEHOLDS,)]
    assert dev_stack.sql("SELECT count(*) FROM ledger_imports") == [(1,)]

    # Another file whose household lists a child of an imported one (not its head) is
    # refused for that person's row.
    other = ledger_rows(1)
    other[0]["certificate_no"] = other[1]["certificate_no"] = "NEW-1"
    other[0]["id_number"] = id_number(1)  # a head no case knows (heads have even numbers)
    other[1]["id_number"] = ledger_rows(4)[7]["id_number"]  # LD000003's child
    sent = await api.post(
        "/ledger/imports", params={"county": "610423"}, files=upload(ledger_csv(other), "x.csv")
    )
    assert sent.status_code == 202
    refused = await until_finished(api, sent.json()["import_id"])
    assert refused["status"] == "errors"
    report = (await api.get(refused["error_report"])).json()
    assert [(e["row"], e["column"], e["message"]) for e in report["errors"]] == [
        (3, "身份证号", "此人已有未结案件，不能再导入")
    ]
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(HOUSEHOLDS,)]


async def test_past_imports_are_listed_newest_first_and_a_file_again_is_the_same_import(
    api: httpx.AsyncClient, importing_api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    one_error = ledger_rows(3)
    one_error[0]["amount"] = "x"
    two_errors = ledger_rows(4)
    two_errors[0]["id_number"] = "610423198501010000"
    two_errors[2]["account_no"] = "12 34"
    clean = ledger_rows(3)
    files = (("a.csv", one_error), ("b.xlsx", two_errors), ("c.csv", clean))
    contents = [ledger_xlsx(r) if n.endswith("xlsx") else ledger_csv(r) for n, r in files]
    ids = []
    try:
        for (name, _), content in zip(files, contents, strict=True):
            sent = await importing_api.post(
                "/ledger/imports", params={"county": "610423"}, files=upload(content, name)
            )
            assert sent.status_code == 202, sent.text
            ids.append(sent.json()["import_id"])
            await until_finished(importing_api, ids[-1])
        dev_stack.started += [r[0] for r in dev_stack.sql("SELECT case_id FROM cases")]

        first = (
            await importing_api.get("/ledger/imports", params={"county": "610423", "limit": 2})
        ).json()
        assert [i["import_id"] for i in first["items"]] == [ids[2], ids[1]]
        assert first["next"]
        second = (
            await importing_api.get(
                "/ledger/imports", params={"county": "610423", "limit": 2, "after": first["next"]}
            )
        ).json()
        assert [i["import_id"] for i in second["items"]] == [ids[0]]
        assert second["next"] is None
        listed = {i["file_name"]: i for i in first["items"] + second["items"]}
        assert {
            name: (i["status"], i["households"], i["errors"], i["done"], i["imported_by"])
            for name, i in listed.items()
        } == {
            "a.csv": ("errors", 3, 1, 0, "chen.gang"),
            "b.xlsx": ("errors", 4, 2, 0, "chen.gang"),
            "c.csv": ("done", 3, 0, 3, "chen.gang"),
        }
        for (name, _), content in zip(files, contents, strict=True):
            assert listed[name]["file_sha256"] == hashlib.sha256(content).hexdigest()
        assert listed["c.csv"]["finished_at"] and listed["a.csv"]["finished_at"] is None
        assert listed["b.xlsx"]["error_report"] == f"/ledger/imports/{ids[1]}/errors"
        assert listed["c.csv"]["error_report"] is None
        # Another county's list, or a village caseworker: refused.
        assert (
            await api.get("/ledger/imports", params={"county": "610424"}, headers=COUNTY)
        ).status_code == 403
        assert (
            await api.get("/ledger/imports", params={"county": "610423"}, headers=VILLAGE)
        ).status_code == 403
        bad_cursor = await api.get(
            "/ledger/imports", params={"county": "610423", "after": "bm9wZQ"}, headers=COUNTY
        )
        assert bad_cursor.status_code == 422

        # The clean file again: the same import, done; nothing written, no workflow started.
        cases_before = dev_stack.sql("SELECT count(*) FROM cases")
        again = await importing_api.post(
            "/ledger/imports", params={"county": "610423"}, files=upload(contents[2], "d.csv")
        )
        assert again.status_code == 202
        assert (again.json()["import_id"], again.json()["status"], again.json()["created"]) == (
            ids[2],
            "done",
            False,
        )
        assert dev_stack.sql("SELECT count(*) FROM cases") == cases_before == [(3,)]
        assert dev_stack.sql("SELECT count(*) FROM ledger_import_households") == [(3,)]
        # A file with errors again: the same import, checked again against the cases as they
        # are now (those it clashed with may have closed): the clean file's households,
        # imported since, share its people (rows 3 to 7), so it has more errors now.
        recheck = await importing_api.post(
            "/ledger/imports", params={"county": "610423"}, files=upload(contents[1], "b.xlsx")
        )
        assert (recheck.json()["import_id"], recheck.json()["created"]) == (ids[1], False)
        assert recheck.json()["status"] == "checking"
        rechecked = await until_finished(importing_api, ids[1])
        assert (rechecked["status"], rechecked["errors"]) == ("errors", 7)
        report = (await api.get(rechecked["error_report"], headers=COUNTY)).json()
        assert [e["row"] for e in report["errors"] if "未结案件" in e["message"]] == [3, 4, 5, 6, 7]
        assert dev_stack.sql("SELECT count(*) FROM ledger_imports") == [(3,)]
        assert dev_stack.sql("SELECT count(*) FROM cases") == [(3,)]
    finally:
        await terminate_all(dev_stack)
