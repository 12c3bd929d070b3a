"""The recipient phase: re-reviews with continue-as-new, payment changes, sign-in and labour
events (time-skipping server: years pass in moments)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from dibao.domain.application import IncomeItem
from dibao.domain.enums import CaseStatus, IncomeCategory, NoticeKind, Stage
from dibao.domain.recipient import CircumstanceKind, add_months, first_moment
from dibao.domain.rulepacks import MCA_2021
from dibao.messages.case import (
    CaseView,
    ReportCircumstance,
    ReportLabourAbsence,
    ReportSignIn,
    SubmitSurvey,
)
from tests.conftest import Stack
from tests.workflows.helpers import (
    VILLAGE,
    at_stage,
    complete,
    county_visit,
    decide,
    file_case,
    finish_posting,
    state,
    survey,
    survey_of,
    township,
    wait_for,
)
from workflows.case import CaseWorkflow


async def approved_case(
    stack: Stack, sample: dict[str, Any], case_id: str
) -> WorkflowHandle[Any, Any]:
    """A household through the mca-2021 procedure (the shortest) to receiving benefit."""
    handle = await file_case(stack, complete(sample), case_id, pack=MCA_2021)
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle)
    await finish_posting(stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    await at_stage(handle, Stage.COUNTY_APPROVAL)
    await county_visit(handle)
    await decide(handle)
    await finish_posting(stack, handle, Stage.POSTING_AFTER_APPROVAL)
    await wait_for(handle, lambda v: v.status is CaseStatus.RECEIVING and v.recipient is not None)
    return handle


async def run_id(stack: Stack, workflow_id: str) -> str:
    # The test server's describe answer lacks fields the SDK's describe() parses; ask raw.
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    raw = await stack.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=stack.client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    return str(raw.workflow_execution_info.execution.run_id)


async def pass_change_posting(stack: Stack, count: int = 1) -> None:
    """Wait until the `count`-th change posting is open, then let its 7 days pass.

    Sleeping before the posting's timer exists would skip time past nothing."""
    for _ in range(200):
        rows = stack.sql("SELECT count(*) FROM postings WHERE stage = 'recipient'")
        if rows[0][0] >= count:
            break
        await asyncio.sleep(0.02)
    await stack.env.sleep(timedelta(days=7, minutes=1))


def entitlement_rows(stack: Stack) -> list[tuple[Any, ...]]:
    return stack.sql(
        "SELECT change_kind, effective_month, monthly_amount_fen FROM entitlement_changes "
        "ORDER BY id"
    )


async def review(
    handle: WorkflowHandle[Any, Any], view: CaseView, rid: str, **changes: Any
) -> None:
    report = dataclasses.replace(survey_of(view.application), **changes)
    await handle.execute_update(
        CaseWorkflow.submit_review, SubmitSurvey(request_id=rid, actor=VILLAGE, report=report)
    )


async def test_two_review_cycles_continue_as_new_and_a_reduction_is_noticed_and_posted(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-RECIPIENT001")
    view = await state(handle)
    assert view.recipient is not None and view.recipient.cycle == 1
    first_run = await run_id(ts_stack, handle.id)
    # Category A under mca-2021: reviewed yearly.
    assert date.fromisoformat(view.recipient.next_review_on) > date.today() + timedelta(days=360)

    # A new account recorded in the first cycle is still the household's in the next run.
    from dibao.domain.application import Payee
    from dibao.messages.case import ChangePayee

    payee = Payee("王秀英", "示例农商银行", "6217000000000000002")
    await handle.execute_update(
        CaseWorkflow.change_payee, ChangePayee(request_id="p1", actor=VILLAGE, payee=payee)
    )

    await ts_stack.env.sleep(timedelta(days=370))
    view = await wait_for(handle, lambda v: v.review_due, "first review due")
    await review(handle, view, "r1")  # nothing material changed
    view = await wait_for(handle, lambda v: v.recipient is not None and v.recipient.cycle == 2)
    second_run = await run_id(ts_stack, handle.id)
    assert second_run != first_run  # continued as new: a fresh, bounded history
    # The procedure and the first review cycle, ending in continue-as-new.
    first = ts_stack.client.get_workflow_handle(handle.id, run_id=first_run)
    await record_history(first, "recipient_review_continued_as_new")
    assert view.payee == payee
    assert [r[0] for r in entitlement_rows(ts_stack)] == ["start"]

    await ts_stack.env.sleep(timedelta(days=370))
    handle = ts_stack.client.get_workflow_handle(handle.id)
    view = await wait_for(handle, lambda v: v.review_due, "second review due")
    wages = IncomeItem(category=IncomeCategory.WAGES, monthly_fen=30000)
    await review(handle, view, "r2", incomes=(*view.application.incomes, wages))
    view = await wait_for(handle, lambda v: v.recipient is not None and v.recipient.cycle == 3)
    await pass_change_posting(ts_stack)
    for _ in range(100):
        if ts_stack.sql("SELECT 1 FROM postings WHERE stage = 'recipient' AND outcome <> 'open'"):
            break
        await asyncio.sleep(0.02)
    rows = entitlement_rows(ts_stack)
    assert [r[0] for r in rows] == ["start", "decrease"]
    assert rows[1][2] < rows[0][2]
    notices = ts_stack.sql("SELECT kind, content FROM notices WHERE kind = 'payment_change'")
    assert len(notices) == 1 and "减发" in notices[0][1] and "理由" in notices[0][1]
    postings = ts_stack.sql("SELECT stage, outcome FROM postings WHERE stage = 'recipient'")
    assert postings == [("recipient", "completed")]


async def sign_in(
    handle: WorkflowHandle[Any, Any], rid: str, month: str, done: bool = False
) -> CaseView:
    return await handle.execute_update(
        CaseWorkflow.report_sign_in,
        ReportSignIn(request_id=rid, actor=VILLAGE, month=month, done=done),
    )


async def refused(handle: WorkflowHandle[Any, Any], update: Any, request: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, request)
    assert isinstance(err.value.cause, ApplicationError)
    return err.value.cause


async def test_two_missed_sign_ins_stop_payment_and_a_month_reported_twice_counts_once(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-SIGNIN000001")
    recipient = (await state(handle)).recipient
    assert recipient is not None
    first = recipient.paid_from
    second = add_months(first, 1)

    # No sign-in is owed before the first paid month, nor for a month not yet begun.
    for month, why in ((add_months(first, -1), "first month paid"), (first, "not begun")):
        cause = await refused(
            handle,
            CaseWorkflow.report_sign_in,
            ReportSignIn(request_id=f"early-{month}", actor=VILLAGE, month=month, done=False),
        )
        assert cause.type == "InvalidAction" and month in cause.message and why in cause.message

    now = await ts_stack.env.get_current_time()
    await ts_stack.env.sleep(first_moment(second) + timedelta(days=1) - now)
    # The same month reported twice, without a request ID each time (the API makes one up).
    await sign_in(handle, "s1", first)
    view = await sign_in(handle, "s1-again", first)
    assert view.status is CaseStatus.RECEIVING
    assert view.recipient is not None and view.recipient.missed_sign_ins == 1
    assert [r[0] for r in entitlement_rows(ts_stack)] == ["start"]

    await sign_in(handle, "s2", second)
    await pass_change_posting(ts_stack)
    view = await wait_for(handle, lambda v: v.status is CaseStatus.EXITED, "stopped")
    assert view.stage is Stage.CLOSED
    assert view.notices[-1].kind is NoticeKind.PAYMENT_CHANGE
    assert entitlement_rows(ts_stack)[-1] == ("stop", add_months(second, 1), 0)
    await record_history(handle, "recipient_stopped_by_missed_sign_ins")


async def test_income_change_reported_during_a_reduction_posting_survives_the_next_cycle(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-CARRIED00001")
    first_run = await run_id(ts_stack, handle.id)
    await ts_stack.env.sleep(timedelta(days=370))
    view = await wait_for(handle, lambda v: v.review_due, "first review due")
    wages = IncomeItem(category=IncomeCategory.WAGES, monthly_fen=30000)
    await review(handle, view, "r1", incomes=(*view.application.incomes, wages))
    for _ in range(200):  # the 减发 posting is open
        if ts_stack.sql("SELECT 1 FROM postings WHERE stage = 'recipient' AND outcome = 'open'"):
            break
        await asyncio.sleep(0.02)
    view = await handle.execute_update(
        CaseWorkflow.report_circumstance,
        ReportCircumstance(
            request_id="c1",
            actor=VILLAGE,
            kind=CircumstanceKind.INCOME_CHANGE,
            details="户主另有打零工收入",
        ),
    )
    assert view.review_due

    await pass_change_posting(ts_stack)
    await wait_for(handle, lambda v: v.recipient is not None and v.recipient.cycle == 2)
    for _ in range(200):
        if await run_id(ts_stack, handle.id) != first_run:
            break
        await asyncio.sleep(0.02)
    assert await run_id(ts_stack, handle.id) != first_run
    handle = ts_stack.client.get_workflow_handle(handle.id)
    view = await state(handle)
    assert view.review_due, "the report accepted during the posting was lost"
    assert view.procedure.waiting_for.startswith("复核")
    # The rest of what the case held came along too: the procedure's record and every notice.
    assert view.procedure.entitlement is not None and view.procedure.assessment is not None
    stored = [r[0] for r in ts_stack.sql("SELECT notice_id FROM notices ORDER BY issued_at")]
    assert [n.notice_id for n in view.notices] == stored
    assert view.recipient is not None and view.recipient.notice_ids == tuple(stored)
    # And the re-review it called for is taken.
    await review(handle, view, "r2", incomes=(*view.application.incomes, wages))
    await wait_for(handle, lambda v: v.recipient is not None and v.recipient.cycle == 3)


async def test_suspension_for_labour_absences_resumes_by_itself(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-SUSPEND00001")
    amount = (await state(handle)).recipient.monthly_amount_fen  # type: ignore[union-attr]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for rid in ("a1", "a2"):
        await handle.execute_update(
            CaseWorkflow.report_labour_absence,
            ReportLabourAbsence(request_id=rid, actor=VILLAGE, on=yesterday, justified=False),
        )
    await pass_change_posting(ts_stack)
    view = await wait_for(handle, lambda v: v.recipient is not None and v.recipient.suspended_until)
    assert view.status is CaseStatus.RECEIVING
    await ts_stack.env.sleep(timedelta(days=130))  # three months on, payment resumes by itself
    await pass_change_posting(ts_stack, count=2)
    await wait_for(handle, lambda v: v.recipient is not None and not v.recipient.suspended_until)
    kinds = [(r[0], r[2]) for r in entitlement_rows(ts_stack)]
    assert kinds == [("start", amount), ("suspend", 0), ("resume", amount)]
    await record_history(handle, "recipient_suspended_and_resumed")


async def test_standard_change_is_applied_to_every_recipient_of_the_county(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    import copy

    from stdnum.cn import ric

    from dibao.domain.enums import Role
    from dibao.messages.case import Actor, StandardChangeInput
    from workflows.standard_change import StandardChangeWorkflow

    handles = []
    for n in range(3):
        household = copy.deepcopy(sample)
        for i, member in enumerate(household["members"]):
            first17 = member["id_number"][:14] + f"{n}{i}1"
            member["id_number"] = first17 + ric.calc_check_digit(first17 + "0")
        handles.append(await approved_case(ts_stack, household, f"DB-STANDARD000{n}"))
    before = {h.id: (await state(h)).recipient.monthly_amount_fen for h in handles}  # type: ignore[union-attr]
    ts_stack.started.append("SC-610423-2027-01-test")
    handle = await ts_stack.client.start_workflow(
        StandardChangeWorkflow.run,
        StandardChangeInput(
            batch_id="SC-610423-2027-01-test",
            county_code="610423",
            urban_standard_fen_month=56_000,
            rural_standard_fen_year=400_000,  # 4000 元/年, up from 3710
            effective_month="2027-01",
            requested_by=Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423"),
        ),
        id="SC-610423-2027-01-test",
        task_queue=ts_stack.settings.task_queue,
    )
    progress = await handle.result()
    assert (progress.total, progress.applied, progress.finished) == (3, 3, True)
    await record_history(handle, "standard_change_applied")
    months: list[str] = []
    for h in handles:
        await pass_change_posting(ts_stack, count=1)
        old = before[h.id]
        view = await wait_for(
            h, lambda v, old=old: v.recipient is not None and v.recipient.monthly_amount_fen > old
        )
        # 4000 / 12 × 3 − 200 = 800.00 exactly (flooring the standard and the per-capita
        # income first, (333.33 − 66.66) × 3, gave 800.01).
        assert view.recipient.monthly_amount_fen == 80_000  # type: ignore[union-attr]
        assert view.procedure.assessment is not None
        assert view.procedure.assessment.standard is not None
        assert view.procedure.assessment.standard.amount_fen == 400_000
        assert view.procedure.assessment.standard.source == "SC-610423-2027-01-test"
        # From 2027-01, or from the household's first paid month if that is later: a ledger
        # row dated before the start row would be overridden by it and never paid.
        assert view.procedure.entitlement is not None
        applies_from = max("2027-01", view.procedure.entitlement.from_month)
        assert view.procedure.assessment.assessed_month == applies_from
        months.append(applies_from)
    rows = ts_stack.sql(
        "SELECT change_kind, effective_month FROM entitlement_changes WHERE change_kind <> 'start'"
        " ORDER BY case_id"
    )
    assert rows == [("increase", m) for m in months]
    # The new standard is the county's dated data, for every later assessment.
    assert ts_stack.sql(
        "SELECT area_type, from_month, amount_fen FROM county_standards "
        "WHERE county_code = '610423' ORDER BY area_type"
    ) == [("rural", "2027-01", 400_000), ("urban", "2027-01", 56_000)]


def this_month() -> str:
    from dibao.domain.calendar import china_date
    from dibao.domain.recipient import month_of

    return month_of(china_date(datetime.now(UTC)))


async def change_standard(
    stack: Stack, batch_id: str, month: str, urban_fen: int, rural_fen: int
) -> None:
    from dibao.domain.enums import Role
    from dibao.messages.case import Actor, StandardChangeInput
    from workflows.standard_change import StandardChangeWorkflow

    stack.started.append(batch_id)
    await stack.client.execute_workflow(
        StandardChangeWorkflow.run,
        StandardChangeInput(
            batch_id=batch_id,
            county_code="610423",
            urban_standard_fen_month=urban_fen,
            rural_standard_fen_year=rural_fen,
            effective_month=month,
            requested_by=Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423"),
        ),
        id=batch_id,
        task_queue=stack.settings.task_queue,
    )


async def test_household_filed_after_a_standard_change_is_assessed_and_paid_on_the_new_standard(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    # Issue 10: after 600 元/月 urban from a month, a later household was still assessed on the
    # pack's 530 元 (760.00 instead of (600 − 150) × 2 = 900.00).
    await change_standard(ts_stack, "SC-610423-new", this_month(), 60_000, 371_000)
    household = dict(sample, area_type="urban")
    household["members"] = sample["members"][:2]
    household["incomes"] = [{"category": "transfer", "monthly_amount": "300.00"}]
    handle = await approved_case(ts_stack, household, "DB-NEWSTANDARD1")
    view = await state(handle)
    assessment = view.procedure.assessment
    assert assessment is not None and assessment.standard is not None
    assert assessment.monthly_amount_fen == 90_000
    assert (assessment.standard.amount_fen, assessment.standard.from_month) == (
        60_000,
        this_month(),
    )
    assert assessment.standard.source == "SC-610423-new"
    assert view.procedure.entitlement is not None
    assert assessment.assessed_month == view.procedure.entitlement.from_month
    assert view.recipient is not None and view.recipient.monthly_amount_fen == 90_000
    assert entitlement_rows(ts_stack) == [("start", view.procedure.entitlement.from_month, 90_000)]


async def test_a_case_that_exits_on_a_standard_change_stops_in_its_ledger_too(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    # Issue 10: a standard change dated before a household's first paid month stopped it (停发
    # notice, status exited) with a ledger row the earlier month, which the household's start
    # row overrode: its ledger kept paying.
    from dibao.domain.payroll import Change, entitled_by_month
    from dibao.domain.recipient import add_months

    household = dict(sample)
    household["incomes"] = [{"category": "transfer", "monthly_amount": "900.00"}]
    handle = await approved_case(ts_stack, household, "DB-EXITLEDGER01")
    view = await state(handle)
    assert view.procedure.entitlement is not None
    start = view.procedure.entitlement.from_month
    assert start > this_month()  # mca-2021 pays from the month after approval
    # 3000 元/年 = 250 元/月 is below the household's 300 元 per person: no longer eligible.
    await change_standard(ts_stack, "SC-610423-low", this_month(), 56_000, 300_000)
    await pass_change_posting(ts_stack, count=1)
    view = await wait_for(handle, lambda v: v.status is CaseStatus.EXITED)
    rows = entitlement_rows(ts_stack)
    assert [r[0] for r in rows] == ["start", "stop"]
    changes = [Change(month, amount, kind, i) for i, (kind, month, amount) in enumerate(rows)]
    months = [start, add_months(start, 1), add_months(start, 12)]
    assert entitled_by_month(changes, months) == dict.fromkeys(months, 0)


async def test_reemployment_wage_is_not_counted_during_gradual_exit_then_reduces(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    from dibao.messages.case import ReportReemployment

    handle = await approved_case(ts_stack, sample, "DB-GRADUAL00001")
    view = await state(handle)
    assert view.recipient is not None
    amount = view.recipient.monthly_amount_fen
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    view = await handle.execute_update(
        CaseWorkflow.report_reemployment,
        ReportReemployment(
            request_id="job1",
            actor=VILLAGE,
            member_id_number="61042319850101001X",
            monthly_wage_fen=30000,
            started_on=yesterday,
        ),
    )
    assert view.recipient is not None and view.recipient.gradual_exit_until
    assert view.recipient.monthly_amount_fen == amount  # the wage is not counted yet
    assert [r[0] for r in entitlement_rows(ts_stack)] == ["start"]
    await ts_stack.env.sleep(timedelta(days=130))
    await pass_change_posting(ts_stack)
    view = await wait_for(
        handle, lambda v: v.recipient is not None and not v.recipient.gradual_exit_until
    )
    rows = entitlement_rows(ts_stack)
    # 300 元 wage over 3 people now counts: (309.16 − (66.66 + 100.00)) × 3
    assert rows[-1][0] == "decrease" and rows[-1][2] == (30916 - 16666) * 3


async def test_three_refusals_of_suitable_work_stop_that_members_portion_under_mca_2021(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    from dibao.messages.case import ReportWorkRefusal

    handle = await approved_case(ts_stack, sample, "DB-WORKREFUSE01")
    amount = (await state(handle)).recipient.monthly_amount_fen  # type: ignore[union-attr]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for n in range(3):
        await handle.execute_update(
            CaseWorkflow.report_work_refusal,
            ReportWorkRefusal(
                request_id=f"w{n}",
                actor=VILLAGE,
                member_id_number="61042319850101001X",
                on=yesterday,
                justified=False,
            ),
        )
    await pass_change_posting(ts_stack)
    view = await wait_for(
        handle, lambda v: v.recipient is not None and v.recipient.monthly_amount_fen < amount
    )
    assert view.recipient is not None
    assert view.recipient.monthly_amount_fen == amount - amount // 3
    assert view.recipient.portion_stopped == ("61042319850101001X",)
    assert entitlement_rows(ts_stack)[-1][0] == "decrease"
    # The ledger says whom the amount is for: the other two members from now on.
    assert ts_stack.sql(
        "SELECT paid_members FROM entitlement_changes WHERE case_id = 'DB-WORKREFUSE01' ORDER BY id"
    ) == [(3,), (2,)]


async def test_a_household_approved_after_a_new_standard_took_effect_is_paid_on_it(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    # Assessed at verification for one month, approved after a new standard took effect: the
    # first paid month's standard decides the amount.
    from dibao.domain.recipient import add_months

    handle = await file_case(ts_stack, complete(sample), "DB-LATEAPPROVAL", pack=MCA_2021)
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    view = await state(handle)
    assert view.procedure.assessment is not None
    assessed = view.procedure.assessment.assessed_month
    assert view.procedure.assessment.monthly_amount_fen == 72_750  # 3710 / 12 × 3 − 200
    later = add_months(assessed, 1)
    ts_stack.sql(
        "INSERT INTO county_standards "
        "(county_code, area_type, from_month, amount_fen, source, recorded_by) "
        "VALUES ('610423', 'rural', %s, 400000, 'SC-later', 'chen.gang') RETURNING id",
        later,
    )
    await township(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    await at_stage(handle, Stage.COUNTY_APPROVAL)
    await county_visit(handle)
    await ts_stack.env.sleep(timedelta(days=40))  # the decision comes in a later month
    await decide(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_AFTER_APPROVAL)
    view = await wait_for(handle, lambda v: v.status is CaseStatus.RECEIVING)
    assert view.procedure.entitlement is not None
    assert view.procedure.entitlement.from_month >= later
    assert view.procedure.entitlement.monthly_amount_fen == 80_000  # 4000 / 12 × 3 − 200
    assessment = view.procedure.assessment
    assert assessment is not None and assessment.standard is not None
    assert assessment.standard.source == "SC-later"
    assert assessment.assessed_month == view.procedure.entitlement.from_month


async def test_a_re_review_uses_the_standard_in_force_for_the_month_it_assesses(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    from dibao.domain.recipient import CircumstanceKind
    from dibao.messages.case import ReportCircumstance

    handle = await approved_case(ts_stack, sample, "DB-REVIEWSTAND1")
    # A standard recorded for the county (not pushed to this case): the review reads it.
    ts_stack.sql(
        "INSERT INTO county_standards "
        "(county_code, area_type, from_month, amount_fen, source, recorded_by) "
        "VALUES ('610423', 'rural', %s, 400000, 'SC-review', 'chen.gang') RETURNING id",
        this_month(),
    )
    await handle.execute_update(
        CaseWorkflow.report_circumstance,
        ReportCircumstance(
            request_id="c1",
            actor=VILLAGE,
            kind=CircumstanceKind.INCOME_CHANGE,
            details="家庭收入变化",
        ),
    )
    view = await wait_for(handle, lambda v: v.review_due, "review due")
    await review(handle, view, "r1")
    view = await wait_for(handle, lambda v: v.recipient is not None and v.recipient.cycle == 2)
    await pass_change_posting(ts_stack)
    rows = entitlement_rows(ts_stack)
    assert [(r[0], r[2]) for r in rows] == [("start", 72_750), ("increase", 80_000)]
