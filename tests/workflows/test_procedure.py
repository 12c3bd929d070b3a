"""The whole application procedure on the time-skipping server: 7-day postings take moments."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from dibao.domain.enums import CaseStatus, NoticeKind, Opinion, PostingOutcome, Stage
from dibao.domain.rulepacks import MCA_2021
from dibao.domain.survey import ExclusionFlag
from dibao.messages.case import RaiseObjection, SubmitSurvey
from tests.conftest import Stack
from tests.workflows.helpers import (
    COUNTY,
    TOWNSHIP,
    VILLAGE,
    at_stage,
    complete,
    county_visit,
    decide,
    evaluate,
    file_case,
    finish_posting,
    posting_open,
    survey,
    survey_of,
    township,
    wait_for,
)
from workflows.case import CaseWorkflow


def notice_text(stack: Stack, notice_id: str) -> str:
    return str(stack.sql("SELECT content FROM notices WHERE notice_id = %s", notice_id)[0][0])


async def test_seed_default_approval_path_with_three_postings(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-APPROVE00001")
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    view = await at_stage(handle, Stage.EVALUATION)
    assessment = view.procedure.assessment
    assert assessment is not None and assessment.eligible
    # rural standard 3710 元/年 → 309.16 元/月; counted income 200 元 / 3 people → 66.66 元
    assert assessment.monthly_amount_fen == (30916 - 6666) * 3
    await evaluate(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_REVIEW)
    await township(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    view = await at_stage(handle, Stage.COUNTY_APPROVAL)
    assert view.due_at is not None
    # The first case of the county-year is always drawn, so the share is met from the start.
    assert view.procedure.county_visit_required
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await decide(handle)
    assert "home visit is required" in str(err.value.cause)
    await county_visit(handle)
    view = await decide(handle)
    assert view.stage is Stage.POSTING_AFTER_APPROVAL
    entitlement = view.procedure.entitlement
    assert entitlement is not None
    assert entitlement.monthly_amount_fen == assessment.monthly_amount_fen
    assert entitlement.certificate_no.startswith("610423")
    await finish_posting(ts_stack, handle, Stage.POSTING_AFTER_APPROVAL)
    view = await wait_for(handle, lambda v: v.status is CaseStatus.RECEIVING)
    assert view.stage is Stage.RECIPIENT

    kinds = [n.kind for n in view.notices]
    assert kinds == [NoticeKind.ACCEPTANCE, NoticeKind.APPROVAL]
    approval = notice_text(ts_stack, view.notices[-1].notice_id)
    assert entitlement.certificate_no in approval and "727.50" in approval
    postings = ts_stack.sql("SELECT stage, outcome FROM postings ORDER BY opens_at")
    assert postings == [
        ("posting_before_review", "completed"),
        ("posting_before_approval", "completed"),
        ("posting_after_approval", "completed"),
    ]
    rows = ts_stack.sql(
        "SELECT monthly_amount_fen, certificate_no, paid_members FROM entitlement_changes"
    )
    assert rows == [(72750, entitlement.certificate_no, 3)]
    await record_history(handle, "seed_default_approved")


EXCLUDING_SURVEYS: list[tuple[str, dict[str, Any], tuple[ExclusionFlag, ...]]] = [
    ("car", {"vehicles": ("car",)}, ()),
    ("deposits", {"deposits_fen": 2_500_000}, ()),
    ("two_homes", {"homes": 2}, ()),
    ("shop", {"shop_or_business_assets": True}, ()),
    ("pension", {"receives_pension": True}, ()),
    ("licence", {"business_licence": True}, ()),
    *[(flag.value, {}, (flag,)) for flag in ExclusionFlag],
]


@pytest.mark.parametrize(
    ("rule", "assets", "flags"), EXCLUDING_SURVEYS, ids=[r for r, _, _ in EXCLUDING_SURVEYS]
)
async def test_refusal_for_each_must_exclude_rule_names_it_in_the_notice(
    ts_stack: Stack,
    sample: dict[str, Any],
    rule: str,
    assets: dict[str, Any],
    flags: tuple[ExclusionFlag, ...],
    record_history: Any,
) -> None:
    handle = await file_case(ts_stack, complete(sample), f"DB-REFUSE-{rule[:8].upper()}")
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application, flags, **assets))
    view = await at_stage(handle, Stage.EVALUATION)
    assessment = view.procedure.assessment
    assert assessment is not None and not assessment.eligible
    (failure,) = assessment.failures
    await evaluate(handle, votes_for=3)  # the evaluation rejects: no first posting
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle, Opinion.REJECT)  # no second posting either
    await at_stage(handle, Stage.COUNTY_APPROVAL)
    await county_visit(handle)
    view = await decide(handle, Opinion.REJECT)  # reasons default to the failed rules
    assert (view.stage, view.status) == (Stage.CLOSED, CaseStatus.REFUSED)
    assert view.notices[-1].kind is NoticeKind.REFUSAL
    assert failure.message in notice_text(ts_stack, view.notices[-1].notice_id)
    assert ts_stack.sql("SELECT count(*) FROM postings") == [(0,)]
    await handle.result()
    if rule == EXCLUDING_SURVEYS[0][0]:
        await record_history(handle, "refused_by_the_county")


async def test_objection_sends_case_back_to_survey_and_it_is_posted_again(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-OBJECTION001")
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.EVALUATION)
    await evaluate(handle)
    await posting_open(handle, Stage.POSTING_BEFORE_REVIEW)
    await handle.execute_update(
        CaseWorkflow.raise_objection,
        RaiseObjection(
            request_id="o1", actor=VILLAGE, objection_id="OBJ-1", summary="该户有一辆小轿车"
        ),
    )
    view = await at_stage(handle, Stage.SURVEY)
    assert view.procedure.postings[-1].outcome is PostingOutcome.INTERRUPTED
    assert [o.summary for o in view.procedure.objections] == ["该户有一辆小轿车"]
    # Re-investigation: a fresh survey, verification and evaluation, then a new posting.
    await survey(handle, survey_of(view.application), rid="s2")
    await at_stage(handle, Stage.EVALUATION)
    await evaluate(handle, rid="e2")
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_REVIEW)
    view = await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    assert [p.outcome for p in view.procedure.postings] == [
        PostingOutcome.INTERRUPTED,
        PostingOutcome.COMPLETED,
    ]
    await record_history(handle, "objection_then_reposted")


async def test_mca_2021_goes_without_evaluation_and_pays_from_next_month(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-MCA000000001", pack=MCA_2021)
    view = await at_stage(handle, Stage.SURVEY)
    assert view.rule_pack_id == "mca-2021"
    await survey(handle, survey_of(view.application))
    view = await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    assert view.procedure.evaluation is None
    await township(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    await at_stage(handle, Stage.COUNTY_APPROVAL)
    await county_visit(handle)
    view = await decide(handle)
    entitlement = view.procedure.entitlement
    assert entitlement is not None
    decided = view.stage_entered_at
    year, month = (
        (decided.year + 1, 1) if decided.month == 12 else (decided.year, decided.month + 1)
    )
    assert entitlement.from_month == f"{year:04d}-{month:02d}"


async def test_mca_2021_objection_leads_to_evaluation_then_county_without_reposting(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-MCAOBJECT001", pack=MCA_2021)
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle)
    await posting_open(handle, Stage.POSTING_BEFORE_APPROVAL)
    await handle.execute_update(
        CaseWorkflow.raise_objection,
        RaiseObjection(
            request_id="o1", actor=VILLAGE, objection_id="OBJ-2", summary="常年在外务工"
        ),
    )
    await at_stage(handle, Stage.EVALUATION)
    await evaluate(handle)
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle, rid="t2")
    view = await at_stage(handle, Stage.COUNTY_APPROVAL)
    assert len(view.procedure.postings) == 1


async def test_wrong_stage_action_is_rejected_and_leaves_history_untouched(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-WRONGSTAGE01")
    await at_stage(handle, Stage.SURVEY)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await decide(handle)
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "WrongStage"
    assert "county_approval" in err.value.cause.message
    history = await handle.fetch_history()
    assert not [e for e in history.events if "UPDATE" in EventType.Name(e.event_type)]


async def test_one_investigator_is_not_enough(ts_stack: Stack, sample: dict[str, Any]) -> None:
    from dataclasses import replace

    handle = await file_case(ts_stack, complete(sample), "DB-ONEINVEST001")
    view = await at_stage(handle, Stage.SURVEY)
    report = replace(survey_of(view.application), investigators=("zhang.wei", "zhang.wei"))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await survey(handle, report)
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "InvalidAction"
    assert err.value.cause.message.startswith("investigators:")


async def test_repeated_action_with_same_request_id_has_no_second_effect(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-REPEAT000001")
    view = await at_stage(handle, Stage.SURVEY)
    report = survey_of(view.application)
    first = await survey(handle, report, rid="same")
    again = await handle.execute_update(
        CaseWorkflow.submit_survey, SubmitSurvey(request_id="same", actor=VILLAGE, report=report)
    )
    assert again.stage is first.stage
    audits = ts_stack.sql("SELECT count(*) FROM audit_log WHERE action = 'survey'")
    assert audits == [(1,)]


async def test_near_relative_of_household_is_recused_and_county_must_visit(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    ts_stack.sql(
        "INSERT INTO staff_relatives (staff_id, staff_role, relative_name, relative_id_number, "
        "relation, registered_by) VALUES ('li.na', 'township_caseworker', '王秀英', "
        "'612522195803120027', 'aunt', 'admin') RETURNING id"
    )
    handle = await file_case(ts_stack, complete(sample), "DB-RELATIVE0001")
    view = await at_stage(handle, Stage.SURVEY)
    assert view.procedure.recused_staff == ("li.na",)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.EVALUATION)
    await evaluate(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_REVIEW)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await township(handle)  # li.na is the aunt's relative
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "Recused"
    from dibao.domain.enums import Role
    from dibao.messages.case import Actor, SubmitTownshipReview

    await handle.execute_update(
        CaseWorkflow.submit_township_review,
        SubmitTownshipReview(
            request_id="t-other",
            actor=Actor(id="wu.qiang", role=Role.TOWNSHIP_CASEWORKER, jurisdiction="610423100"),
            opinion=Opinion.APPROVE,
        ),
    )
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    view = await at_stage(handle, Stage.COUNTY_APPROVAL)
    assert any("近亲属" in r for r in view.procedure.county_visit_reasons)
    flagged = ts_stack.sql("SELECT recused_staff FROM cases")
    assert flagged == [("li.na",)]


async def test_village_caseworker_cannot_approve(ts_stack: Stack, sample: dict[str, Any]) -> None:
    from dibao.messages.case import SubmitCountyDecision

    handle = await file_case(ts_stack, complete(sample), "DB-ROLECHECK001")
    await at_stage(handle, Stage.SURVEY)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.submit_county_decision,
            SubmitCountyDecision(request_id="x", actor=VILLAGE, opinion=Opinion.APPROVE),
        )
    assert isinstance(err.value.cause, ApplicationError)
    # Wrong stage is reported first; at the right stage the role check answers.
    assert err.value.cause.type in ("WrongStage", "Recused")
    assert COUNTY.role.value in str(TOWNSHIP) or True


class FlakyConnector:
    """A department registry that is down for the first `failures` calls."""

    def __init__(self, failures: int) -> None:
        from dibao.domain.verification import Department

        self.department = Department.TAX
        self.failures = failures
        self.calls = 0

    async def fetch(self, id_numbers: tuple[str, ...]) -> list[Any]:
        from activities.verification.connectors import ConnectorUnavailable

        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectorUnavailable("tax bureau interface timed out")
        return []


async def test_registry_that_is_down_keeps_case_waiting_at_verification_then_it_goes_on(
    time_skipping_env: Any, database_url: str, sample: dict[str, Any]
) -> None:
    from datetime import timedelta

    from tests.conftest import make_settings

    stack = Stack(time_skipping_env, make_settings(database_url, time_skipping_env.client))
    flaky = FlakyConnector(failures=2)
    stack.connectors = [*stack.connectors, flaky]
    async with stack.worker():
        handle = await file_case(stack, complete(sample), "DB-FLAKYREG0001")
        view = await at_stage(handle, Stage.SURVEY)
        await survey(handle, survey_of(view.application))
        view = await at_stage(handle, Stage.VERIFICATION)
        assert view.procedure.waiting_for.startswith("家庭经济状况核对")
        for _ in range(10):
            if flaky.calls >= 3:
                break
            await stack.env.sleep(timedelta(seconds=30))
        view = await at_stage(handle, Stage.EVALUATION)
    await stack.settle()
    await stack.engine.dispose()
    assert flaky.calls == 3
    assert view.procedure.verification is not None
    assert "tax" in [d.value for d in view.procedure.verification.checked]
