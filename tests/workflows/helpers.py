"""Driving a case through the procedure in tests, as the API would."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from api.schemas import ApplicationIn
from dibao.db import cases_repo
from dibao.domain.application import Application
from dibao.domain.enums import Opinion, PostingOutcome, Role, Stage
from dibao.domain.rulepacks import SEED_DEFAULT, RulePack
from dibao.domain.survey import ExclusionFlag, NeighbourVisit, SurveyReport
from dibao.messages.case import (
    Actor,
    CaseInput,
    CaseView,
    EvaluationComposition,
    SubmitCountyDecision,
    SubmitCountyVisit,
    SubmitEvaluation,
    SubmitSurvey,
    SubmitTownshipReview,
)
from tests.conftest import Stack
from workflows.case import CaseWorkflow

# Where the sample household lives: the workflow checks each actor's jurisdiction too.
VILLAGE = Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100201")
TOWNSHIP = Actor(id="li.na", role=Role.TOWNSHIP_CASEWORKER, jurisdiction="610423100")
COUNTY = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")


def complete(body: dict[str, Any]) -> dict[str, Any]:
    body["materials"] = [*body["materials"], "disability_certificate"]
    body["verification_authorised"] = True
    return body


def another_household(body: dict[str, Any], n: int) -> dict[str, Any]:
    """The same household facts under other (valid) ID numbers: a different household."""
    import copy

    from stdnum.cn import ric

    other = copy.deepcopy(body)
    for i, member in enumerate(other["members"]):
        first17 = member["id_number"][:14] + f"{n % 10}{i}2"
        member["id_number"] = first17 + ric.calc_check_digit(first17 + "0")
    return other


async def file_case(
    stack: Stack, body: dict[str, Any], case_id: str, pack: RulePack = SEED_DEFAULT
) -> WorkflowHandle[Any, Any]:
    """Reserve the projection row and start the workflow, as POST /cases does."""
    parsed = ApplicationIn.model_validate(body)
    case = CaseInput(
        case_id=case_id,
        application=parsed.to_domain(),
        rule_pack_id=pack.id,
        rule_pack_version=pack.version,
        filed_at=datetime.now(UTC),
        filed_by=VILLAGE,
        request_id="req-file",
        rule_pack=pack,
    )
    async with stack.sessions() as session:
        outcome = await cases_repo.reserve_case(
            session, case, parsed.model_dump(mode="json"), None, "h"
        )
    assert isinstance(outcome, cases_repo.Reserved), outcome
    stack.started.append(case_id)
    return await stack.client.start_workflow(
        CaseWorkflow.run, case, id=case_id, task_queue=stack.settings.task_queue
    )


async def state(handle: WorkflowHandle[Any, Any]) -> CaseView:
    view: CaseView = await handle.query(CaseWorkflow.state)
    return view


async def wait_for(handle: WorkflowHandle[Any, Any], predicate: Any, what: str = "") -> CaseView:
    view = await state(handle)
    for _ in range(300):
        if predicate(view):
            return view
        await asyncio.sleep(0.02)
        view = await state(handle)
    raise AssertionError(f"never reached {what or predicate}; last: {view.stage} {view.status}")


async def at_stage(handle: WorkflowHandle[Any, Any], stage: Stage) -> CaseView:
    return await wait_for(handle, lambda v: v.stage is stage, stage.value)


def survey_of(
    application: Application, flags: tuple[ExclusionFlag, ...] = (), **asset_changes: Any
) -> SurveyReport:
    from dataclasses import replace

    return SurveyReport(
        investigators=("zhang.wei", "zhao.min"),
        surveyed_on=(date.today() - timedelta(days=1)).isoformat(),
        members=application.members,
        incomes=application.incomes,
        assets=replace(application.assets, **asset_changes),
        living_conditions="土坯房两间，家具简陋，户主长期服药",
        neighbour_visits=(NeighbourVisit(neighbour="东邻 刘某", summary="情况属实"),),
        attachments=("photo-001.jpg",),
        family_member_signed=True,
        exclusion_flags=flags,
    )


async def survey(
    handle: WorkflowHandle[Any, Any], report: SurveyReport, rid: str = "s1"
) -> CaseView:
    return await handle.execute_update(
        CaseWorkflow.submit_survey, SubmitSurvey(request_id=rid, actor=VILLAGE, report=report)
    )


async def evaluate(
    handle: WorkflowHandle[Any, Any], rid: str = "e1", votes_for: int = 18
) -> CaseView:
    return await handle.execute_update(
        CaseWorkflow.submit_evaluation,
        SubmitEvaluation(
            request_id=rid,
            actor=VILLAGE,
            held_on=(date.today() - timedelta(days=1)).isoformat(),
            attendees=21,
            composition=EvaluationComposition(
                township_staff=2, village_committee=5, group_leaders=4, villager_representatives=10
            ),
            votes_for=votes_for,
            votes_against=21 - votes_for - 1,
            votes_abstain=1,
        ),
    )


async def township(
    handle: WorkflowHandle[Any, Any], opinion: Opinion = Opinion.APPROVE, rid: str = "t1"
) -> CaseView:
    reasons = () if opinion is Opinion.APPROVE else ("家庭拥有机动车辆",)
    return await handle.execute_update(
        CaseWorkflow.submit_township_review,
        SubmitTownshipReview(request_id=rid, actor=TOWNSHIP, opinion=opinion, reasons=reasons),
    )


async def county_visit(handle: WorkflowHandle[Any, Any], rid: str = "v1") -> CaseView:
    return await handle.execute_update(
        CaseWorkflow.submit_county_visit,
        SubmitCountyVisit(
            request_id=rid,
            actor=COUNTY,
            visited_on=(date.today() - timedelta(days=1)).isoformat(),
            visitors=("chen.gang", "sun.li"),
            findings="入户核查属实",
        ),
    )


async def decide(
    handle: WorkflowHandle[Any, Any],
    opinion: Opinion = Opinion.APPROVE,
    rid: str = "d1",
    **fields: Any,
) -> CaseView:
    return await handle.execute_update(
        CaseWorkflow.submit_county_decision,
        SubmitCountyDecision(request_id=rid, actor=COUNTY, opinion=opinion, **fields),
    )


async def posting_open(handle: WorkflowHandle[Any, Any], posting: Stage) -> CaseView:
    def open_now(view: CaseView) -> bool:
        postings = view.procedure.postings if view.procedure else ()
        return (
            view.stage is posting
            and bool(postings)
            and postings[-1].stage is posting
            and postings[-1].outcome is PostingOutcome.OPEN
        )

    return await wait_for(handle, open_now, f"{posting.value} open")


async def finish_posting(stack: Stack, handle: WorkflowHandle[Any, Any], posting: Stage) -> None:
    await posting_open(handle, posting)
    await stack.env.sleep(timedelta(days=7, minutes=1))
    await wait_for(handle, lambda v: v.stage is not posting, f"end of {posting.value}")
