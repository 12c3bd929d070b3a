"""The recipient phase: re-reviews with continue-as-new, payment changes, sign-in and labour
events (time-skipping server: years pass in moments)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from dibao.domain.application import IncomeItem
from dibao.domain.case import (
    CaseView,
    ReportCircumstance,
    ReportLabourAbsence,
    ReportSignIn,
    SubmitSurvey,
)
from dibao.domain.enums import CaseStatus, IncomeCategory, NoticeKind, Stage
from dibao.domain.recipient import CircumstanceKind, add_months, first_moment
from dibao.domain.rulepacks import MCA_2021
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
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-RECIPIENT001")
    view = await state(handle)
    assert view.recipient is not None and view.recipient.cycle == 1
    first_run = await run_id(ts_stack, handle.id)
    # Category A under mca-2021: reviewed yearly.
    assert date.fromisoformat(view.recipient.next_review_on) > date.today() + timedelta(days=360)

    # A new account recorded in the first cycle is still the household's in the next run.
    from dibao.domain.application import Payee
    from dibao.domain.case import ChangePayee

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
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    import copy

    from stdnum.cn import ric

    from dibao.domain.case import Actor, StandardChangeInput
    from dibao.domain.enums import Role
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
    for h in handles:
        await pass_change_posting(ts_stack, count=1)
        old = before[h.id]
        view = await wait_for(
            h, lambda v, old=old: v.recipient is not None and v.recipient.monthly_amount_fen > old
        )
        # (33333 − 6666) × 3: the new rural standard per month less the same counted income
        assert view.recipient.monthly_amount_fen == (400_000 // 12 - 6666) * 3  # type: ignore[union-attr]
    rows = ts_stack.sql(
        "SELECT change_kind, effective_month FROM entitlement_changes WHERE change_kind <> 'start'"
    )
    assert rows == [("increase", "2027-01")] * 3


async def test_reemployment_wage_is_not_counted_during_gradual_exit_then_reduces(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    from dibao.domain.case import ReportReemployment

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
    from dibao.domain.case import ReportWorkRefusal

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
