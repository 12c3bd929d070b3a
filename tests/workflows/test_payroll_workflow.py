"""PayrollWorkflow on the time-skipping server with its own worker, real activities and real
PostgreSQL; the API router over it; the county schedule on the dev server (the time-skipping
server has no schedules)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.payroll_activities import PayrollActivities
from api.app import create_app
from api.routes.payroll import router as payroll_router
from cli.payroll_schedule import ensure_schedule
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.calendar import china_date
from dibao.domain.enums import Role
from dibao.domain.payroll import (
    SCHEDULE_ACTOR,
    Cadence,
    PayrollInput,
    PayrollResult,
    PayrollView,
    ReleaseRun,
    period_for,
    verify_bank_file,
    workflow_id_for,
)
from dibao.messages.case import Actor, Rejection
from dibao.settings import Settings
from tests.auth import Staff, bearer
from tests.conftest import make_settings
from tests.db.test_payroll_repo import COUNTY, account_of, add_change, certificate_for, seed_case
from worker import workflow_runner
from workflows.payroll import PayrollWorkflow

MAKER = Actor(id="li.na", role=Role.TOWNSHIP_CASEWORKER)
CHECKER = Actor(id="chen.gang", role=Role.COUNTY_APPROVER)


class Payroll:
    """A worker running only PayrollWorkflow, on its own task queue and database."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessions = make_sessionmaker(self.engine)
        self.started: list[str] = []

    def worker(self) -> Worker:
        return Worker(
            self.client,
            task_queue=self.settings.task_queue,
            workflows=[PayrollWorkflow],
            activities=PayrollActivities(self.sessions, self.settings).all(),
            workflow_runner=workflow_runner(),
        )

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.settings.database_url or "") as conn:
            return conn.execute(query, params).fetchall()

    def seed(self, seeding: Any) -> None:
        with psycopg.connect(self.settings.database_url or "", autocommit=True) as conn:
            seeding(conn)

    async def start(
        self, period: str, maker: Actor = MAKER, county: str = COUNTY
    ) -> WorkflowHandle[Any, Any]:
        workflow_id = workflow_id_for(county, period) if period else f"payroll-sched-{period}"
        self.started.append(workflow_id)
        return await self.client.start_workflow(
            PayrollWorkflow.run,
            PayrollInput(county_code=county, period=period, requested_by=maker),
            id=workflow_id,
            task_queue=self.settings.task_queue,
        )

    async def settle(self) -> None:
        for workflow_id in self.started:
            with contextlib.suppress(RPCError):
                await self.client.get_workflow_handle(workflow_id).terminate("test finished")
        await self.engine.dispose()


async def state(handle: WorkflowHandle[Any, Any]) -> PayrollView:
    view: PayrollView = await handle.query(PayrollWorkflow.state)
    return view


async def until(handle: WorkflowHandle[Any, Any], status: str) -> PayrollView:
    for _ in range(500):
        view = await state(handle)
        if view.status == status:
            return view
        await asyncio.sleep(0.02)
    raise AssertionError(f"never {status}; last {view}")


async def release(
    handle: WorkflowHandle[Any, Any], checker: Actor = CHECKER, rid: str = "r1"
) -> PayrollView:
    view: PayrollView = await handle.execute_update(
        PayrollWorkflow.release, ReleaseRun(request_id=rid, checker=checker)
    )
    return view


@pytest.fixture
async def payroll(
    time_skipping_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[Payroll]:
    stack = Payroll(time_skipping_env.client, make_settings(database_url, time_skipping_env.client))
    async with stack.worker():
        yield stack
    await stack.settle()


def bank(case_id: str) -> str:
    """The seeded account's bank and number, as the bank file has them."""
    return f"示例农商银行,{account_of(case_id)}"


def seed_county(conn: psycopg.Connection[Any]) -> None:
    seed_case(conn, "DB-PAY0000001", "王秀英", [("2026-10", 72_750, "start")])
    seed_case(conn, "DB-PAY0000002", "李四", [("2026-11", 30_000, "start")])
    seed_case(conn, "DB-PAY0000003", "张三", [("2026-09", 50_000, "start"), ("2026-10", 0, "stop")])
    seed_case(conn, "DB-PAY0000004", "外县户", [("2026-11", 99_900, "start")], county="610424")


async def test_a_county_payroll_with_exact_totals_released_by_the_checker(
    payroll: Payroll, record_history: Any
) -> None:
    payroll.seed(seed_county)
    handle = await payroll.start("2026-11")
    view = await until(handle, "draft")
    run = view.run
    assert run is not None
    assert (run.run_id, run.maker, run.checker) == ("PR-610423-2026-11", "li.na", None)
    # 727.50 × 2 (October arrears, November) + 300.00 + 500.00 (September, before the stop)
    assert (run.households, run.total_fen) == (3, 72_750 * 2 + 30_000 + 50_000)
    assert "审核发放" in view.waiting_for
    content = payroll.sql("SELECT bank_file FROM payroll_runs")[0][0]
    assert verify_bank_file(content)
    assert content.splitlines()[1:5] == [
        f"1,DB-PAY0000001,{certificate_for('DB-PAY0000001')},王秀英,{bank('DB-PAY0000001')},"
        "1455.00,2026-10:arrears:727.50;2026-11:regular:727.50",
        f"2,DB-PAY0000002,{certificate_for('DB-PAY0000002')},李四,{bank('DB-PAY0000002')},"
        "300.00,2026-11:regular:300.00",
        f"3,DB-PAY0000003,{certificate_for('DB-PAY0000003')},张三,{bank('DB-PAY0000003')},"
        "500.00,2026-09:arrears:500.00",
        "TOTAL,3,2255.00",
    ]
    assert "外县户" not in content

    view = await release(handle)
    assert view.status == "released" and view.run is not None
    assert (view.run.checker, view.run.bank_file_sha256) == ("chen.gang", run.bank_file_sha256)
    result = await handle.result()
    assert result == PayrollResult(run_id=run.run_id, period="2026-11", status="released")
    await record_history(handle, "payroll_released")
    assert payroll.sql("SELECT status, checker FROM payroll_runs") == [("released", "chen.gang")]


async def test_a_rerun_adds_nothing_and_gives_the_identical_file(payroll: Payroll) -> None:
    payroll.seed(seed_county)
    handle = await payroll.start("2026-11")
    await until(handle, "draft")
    first = payroll.sql("SELECT bank_file, bank_file_sha256 FROM payroll_runs")
    lines = payroll.sql("SELECT count(*), sum(amount_fen) FROM payroll_lines")
    # While the draft waits, a second start of the same period is the same workflow.
    again = await payroll.client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=COUNTY, period="2026-11", requested_by=CHECKER),
        id=workflow_id_for(COUNTY, "2026-11"),
        task_queue=payroll.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    assert again.result_run_id == handle.result_run_id
    await release(handle)
    await handle.result()
    # After release a new workflow of the period finds the released run and pays nothing.
    rerun = await payroll.start("2026-11", maker=Actor("zhao.min", Role.COUNTY_APPROVER))
    result = await rerun.result()
    assert result.status == "released"
    view = await state(rerun)
    assert view.run is not None and view.run.maker == "li.na"
    assert payroll.sql("SELECT bank_file, bank_file_sha256 FROM payroll_runs") == first
    assert payroll.sql("SELECT count(*), sum(amount_fen) FROM payroll_lines") == lines


async def test_release_by_the_maker_or_a_wrong_role_is_rejected(payroll: Payroll) -> None:
    payroll.seed(seed_county)
    handle = await payroll.start("2026-11")
    await until(handle, "draft")
    cases = [
        (Actor("li.na", Role.COUNTY_APPROVER), Rejection.RECUSED, "制表人"),
        (Actor("zhang.wei", Role.VILLAGE_CASEWORKER), Rejection.RECUSED, "may not release"),
        (Actor(" ", Role.COUNTY_APPROVER), Rejection.INVALID, "checker"),
    ]
    for i, (actor, rejection, text) in enumerate(cases):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await release(handle, actor, rid=f"bad-{i}")
        cause = err.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == rejection.value
        assert text in cause.message
    assert (await state(handle)).status == "draft"
    assert (await release(handle)).status == "released"
    # The workflow is done: a later release is answered by the API from the stored run.
    await handle.result()
    with pytest.raises(RPCError):
        await release(handle, Actor("sun.li", Role.COUNTY_APPROVER), rid="r2")


async def test_a_draft_discarded_with_a_reason_is_never_paid_and_the_period_is_rebuilt(
    payroll: Payroll,
) -> None:
    from dibao.domain.payroll import DiscardRun

    payroll.seed(seed_county)
    handle = await payroll.start("2026-11")
    draft = await until(handle, "draft")
    assert draft.run is not None
    first_sha = draft.run.bank_file_sha256

    async def discard(actor: Actor, reason: str, rid: str) -> PayrollView:
        view: PayrollView = await handle.execute_update(
            PayrollWorkflow.discard, DiscardRun(request_id=rid, actor=actor, reason=reason)
        )
        return view

    for i, (actor, rejection) in enumerate(
        [
            (Actor("zhang.wei", Role.VILLAGE_CASEWORKER), Rejection.RECUSED),
            (CHECKER, Rejection.INVALID),  # no reason
        ]
    ):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await discard(actor, "" if rejection is Rejection.INVALID else "x", f"bad-{i}")
        cause = err.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == rejection.value
    # A change recorded after the draft was built: the county discards it and builds again.
    payroll.seed(lambda conn: add_change(conn, "DB-PAY0000001", "2026-11", 80_000))
    view = await discard(CHECKER, "王秀英11月起调整未计入，作废重做", "d1")
    assert view.status == "discarded"
    assert (await handle.result()).status == "discarded"
    assert payroll.sql("SELECT count(*) FROM payroll_runs") == [(0,)]
    assert payroll.sql("SELECT count(*) FROM payroll_lines") == [(0,)]
    assert payroll.sql(
        "SELECT run_id, maker, discarded_by, reason, bank_file_sha256 FROM payroll_discards"
    ) == [("PR-610423-2026-11", "li.na", CHECKER.id, "王秀英11月起调整未计入，作废重做", first_sha)]

    rebuilt = await payroll.start("2026-11")
    view = await until(rebuilt, "draft")
    assert view.run is not None and view.run.bank_file_sha256 != first_sha
    assert (await release(rebuilt)).status == "released"
    # Released runs cannot be discarded: they were paid (the API answers 409; the workflow of
    # a released run has ended).
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await rebuilt.execute_update(
            PayrollWorkflow.discard, DiscardRun(request_id="d2", actor=CHECKER, reason="x")
        )


async def test_a_backdated_change_is_paid_as_arrears_in_the_next_period(
    payroll: Payroll,
) -> None:
    payroll.seed(seed_county)
    november = await payroll.start("2026-11")
    await until(november, "draft")
    await release(november)
    await november.result()
    # Recorded in November: 王秀英's amount goes up from October; 李四 is stopped from November.
    payroll.seed(lambda conn: add_change(conn, "DB-PAY0000001", "2026-10", 80_000))
    payroll.seed(lambda conn: add_change(conn, "DB-PAY0000002", "2026-11", 0, "stop"))
    december = await payroll.start("2026-12")
    view = await until(december, "draft")
    assert view.run is not None
    lines = payroll.sql(
        "SELECT case_id, month, kind, amount_fen FROM payroll_lines WHERE run_id = %s "
        "ORDER BY case_id, month",
        view.run.run_id,
    )
    assert lines == [
        ("DB-PAY0000001", "2026-10", "arrears", 7_250),
        ("DB-PAY0000001", "2026-11", "arrears", 7_250),
        ("DB-PAY0000001", "2026-12", "regular", 80_000),
    ]
    # 李四's 300.00 for November is owed back and nothing is due: held back, on the roster.
    assert (view.run.households, view.run.total_fen) == (1, 94_500)
    roster = payroll.sql("SELECT roster_html FROM payroll_runs WHERE run_id = %s", view.run.run_id)
    assert "应追回" in roster[0][0] and "李四" in roster[0][0]


async def test_the_next_period_waits_for_the_draft_before_it(
    payroll: Payroll, time_skipping_env: WorkflowEnvironment
) -> None:
    payroll.seed(seed_county)
    november = await payroll.start("2026-11")
    await until(november, "draft")
    # Built now, December would count November as unpaid and pay it twice once both are
    # released: its build is retried until November is released.
    december = await payroll.start("2026-12")
    await time_skipping_env.sleep(timedelta(minutes=30))
    assert (await state(december)).status == "building"
    assert payroll.sql("SELECT run_id FROM payroll_runs") == [("PR-610423-2026-11",)]
    await release(november)
    await time_skipping_env.sleep(timedelta(minutes=30))
    view = await until(december, "draft")
    assert view.run is not None
    # Only December's own months: November was paid by its own run.
    assert payroll.sql(
        "SELECT DISTINCT month FROM payroll_lines WHERE run_id = %s", view.run.run_id
    ) == [("2026-12",)]


async def test_a_scheduled_start_works_out_its_period_and_hands_over(payroll: Payroll) -> None:
    payroll.seed(seed_county)
    before = period_for(china_date(datetime.now(UTC)), Cadence.MONTHLY)
    handle = await payroll.start("", maker=SCHEDULE_ACTOR)
    result = await handle.result()
    assert result.status == "delegated"
    assert result.period in (before, period_for(china_date(datetime.now(UTC)), Cadence.MONTHLY))
    child = payroll.client.get_workflow_handle(workflow_id_for(COUNTY, result.period))
    payroll.started.append(child.id)
    view = await until(child, "draft")
    assert view.run is not None and view.run.maker == SCHEDULE_ACTOR.id
    assert (await state(handle)).delegated_to == child.id


async def test_an_invalid_period_fails_the_workflow(payroll: Payroll) -> None:
    handle = await payroll.start("2026-13")
    with pytest.raises(Exception) as err:
        await handle.result()
    assert "2026-13" in str(err.value.__cause__)


# --- the API router over the workflow --------------------------------------------------------


@pytest.fixture
async def api(payroll: Payroll, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(payroll.settings)
    app.include_router(payroll_router)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://dibao.test",
            headers=bearer(MAKER.id),
        ) as client,
    ):
        yield client


async def test_payroll_through_the_api(api: httpx.AsyncClient, payroll: Payroll) -> None:
    payroll.seed(seed_county)
    payroll.started.append(workflow_id_for(COUNTY, "2026-11"))
    village = bearer("zhang.wei")
    county = bearer(CHECKER.id)
    body = {"county_code": COUNTY, "period": "2026-11"}
    response = await api.post("/payroll/runs", json=body, headers=village)
    assert response.status_code == 403
    response = await api.post("/payroll/runs", json={**body, "county_code": "610424"})
    assert response.status_code == 403  # another county's payroll
    response = await api.post("/payroll/runs", json={**body, "period": "2026-Q5"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "period"]
    response = await api.post("/payroll/runs", json={**body, "extra": 1})
    assert response.status_code == 422

    response = await api.post("/payroll/runs", json=body)
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["run_id"], run["status"], run["households"], run["total"]) == (
        "PR-610423-2026-11",
        "draft",
        3,
        "2255.00",
    )
    assert (await api.post("/payroll/runs", json=body)).status_code == 200
    # Another period waits for this draft's release.
    response = await api.post("/payroll/runs", json={**body, "period": "2026-12"})
    assert response.status_code == 409
    assert response.json()["detail"]["pending_run_id"] == run["run_id"]

    listed = (await api.get("/payroll/runs", params={"county": COUNTY})).json()
    assert [r["run_id"] for r in listed["items"]] == [run["run_id"]]
    bank = await api.get(f"/payroll/runs/{run['run_id']}/bank-file")
    assert bank.headers["content-type"].startswith("text/csv")
    assert verify_bank_file(bank.text)
    assert bank.headers["x-content-sha256"] == run["bank_file_sha256"]
    # Streamed from the database, with the headers of a whole file.
    assert bank.headers["content-disposition"] == f'attachment; filename="{run["run_id"]}.csv"'
    assert int(bank.headers["content-length"]) == len(bank.content)
    roster = await api.get(f"/payroll/runs/{run['run_id']}/roster")
    assert int(roster.headers["content-length"]) == len(roster.content)
    assert "花名册" in roster.text and "王秀英" in roster.text
    # A page built from typed names runs no script (api/security_headers.py).
    assert roster.headers["content-security-policy"].startswith("default-src 'none'")
    assert roster.headers["x-content-type-options"] == "nosniff"
    assert (await api.get("/payroll/runs/PR-610423-2030-01")).status_code == 404
    elsewhere = bearer("he.jun")  # county approver of 610424
    assert (await api.get(f"/payroll/runs/{run['run_id']}", headers=elsewhere)).status_code == 403
    assert (await api.get("/payroll/runs", headers=elsewhere)).json()["items"] == []
    assert (await api.get(f"/payroll/runs/{run['run_id']}", headers=village)).status_code == 403

    release = f"/payroll/runs/{run['run_id']}/release"
    response = await api.post(release)  # the maker, a township caseworker
    assert (
        response.status_code == 403 and "release a payroll" in response.json()["detail"]["message"]
    )
    assert (await api.post(release, headers=elsewhere)).status_code == 403
    response = await api.post(release, headers=county)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["checker"]) == ("released", "chen.gang")
    assert (await api.post(release, headers=county)).status_code == 200  # repeat: no effect
    discard = release.replace("/release", "/discard")
    refused = await api.post(discard, json={"reason": "重做"}, headers=county)
    assert refused.status_code == 409 and "paid" in refused.text
    other = bearer("sun.li")
    assert (await api.post(release, headers=other)).status_code == 409

    payments = (await api.get("/cases/DB-PAY0000001/payments")).json()
    assert [c["monthly_amount"] for c in payments["changes"]] == ["727.50"]
    # Derived from the ledger: the seeded household of two, 363.75 元 each.
    assert payments["changes"][0]["per_member"] == ["363.75", "363.75"]
    assert {(m["paid_members"], tuple(m["per_member"])) for m in payments["months"]} == {
        (2, ("363.75", "363.75"))
    }
    assert [(x["month"], x["kind"], x["amount"]) for x in payments["lines"]] == [
        ("2026-10", "arrears", "727.50"),
        ("2026-11", "regular", "727.50"),
    ]
    months = {m["month"]: (m["entitled"], m["paid"]) for m in payments["months"]}
    assert months["2026-10"] == months["2026-11"] == ("727.50", "727.50")
    assert (await api.get("/cases/DB-NOSUCHCASE/payments")).status_code == 404

    # A county approver who made the roster may not also check it (制表人 ≠ 审核人).
    payroll.started.append(workflow_id_for(COUNTY, "2026-12"))
    made = await api.post("/payroll/runs", json={**body, "period": "2026-12"}, headers=county)
    assert made.status_code == 201, made.text
    assert made.json()["maker"] == "chen.gang"
    release = f"/payroll/runs/{made.json()['run_id']}/release"
    response = await api.post(release, headers=county)
    assert response.status_code == 403 and "制表人" in response.json()["detail"]["message"]
    # Instead of releasing it, the county discards it (作废) with a reason and builds it again.
    discard = f"/payroll/runs/{made.json()['run_id']}/discard"
    assert (await api.post(discard, json={}, headers=other)).status_code == 422
    assert (
        await api.post(discard, json={"reason": "重做"}, headers=bearer("zhang.wei"))
    ).status_code == 403
    response = await api.post(discard, json={"reason": "漏录一户，作废重做"}, headers=other)
    assert response.status_code == 200, response.text
    (record,) = response.json()["discards"]
    assert (record["maker"], record["discarded_by"]) == ("chen.gang", "sun.li")
    assert (
        await api.get(f"/payroll/runs/{made.json()['run_id']}", headers=county)
    ).status_code == 404
    made = await api.post("/payroll/runs", json={**body, "period": "2026-12"}, headers=county)
    assert made.status_code == 201, made.text
    assert (await api.post(release, headers=other)).status_code == 200


# --- the schedule (dev server) ---------------------------------------------------------------


async def test_county_schedule_starts_the_payroll_of_the_month(
    dev_env: WorkflowEnvironment, database_url: str
) -> None:
    county = f"61{secrets.randbelow(10_000):04d}"  # its own schedule on the shared server
    stack = Payroll(dev_env.client, make_settings(database_url, dev_env.client))
    handle = None
    try:
        schedule_id = await ensure_schedule(stack.client, stack.settings, county, "monthly")
        assert schedule_id == f"payroll-{county}"
        handle = stack.client.get_schedule_handle(schedule_id)
        described = (await handle.describe()).schedule
        assert described.spec.time_zone_name == "Asia/Shanghai"
        calendar = described.spec.calendars[0]
        assert [(r.start, r.end) for r in calendar.day_of_month] == [(1, 1)]
        assert [(r.start, r.end) for r in calendar.hour] == [(0, 0)]
        # Rewritten in place for a rural county paid quarterly.
        await ensure_schedule(stack.client, stack.settings, county, "quarterly")
        described = (await handle.describe()).schedule
        months = [(r.start, r.end, r.step) for r in described.spec.calendars[0].month]
        assert {m[0] for m in months} == {1, 4, 7, 10}
        action = described.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "PayrollWorkflow"

        async with stack.worker():
            await handle.trigger()
            period = period_for(china_date(datetime.now(UTC)), Cadence.QUARTERLY)
            child = stack.client.get_workflow_handle(workflow_id_for(county, period))
            stack.started.append(child.id)
            for _ in range(200):
                with contextlib.suppress(RPCError):
                    view = await state(child)
                    if view.status == "draft":
                        break
                await asyncio.sleep(0.05)
            assert view.period == period and view.run is not None
            assert view.run.maker == SCHEDULE_ACTOR.id
    finally:
        if handle is not None:
            await handle.delete()
        await stack.settle()
