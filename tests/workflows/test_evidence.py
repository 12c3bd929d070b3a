"""A failed check answered (mca-2021 Art. 18) and approval delegated to the township (Art. 2),
on the time-skipping server."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from dibao.domain.enums import NoticeKind, Opinion, Stage
from dibao.domain.measures import EvidenceEffect, SubmitEvidence
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, RulePack
from dibao.domain.verification import Department, RecordKind, RegistryRecord
from tests.conftest import Stack, make_settings
from tests.workflows.helpers import (
    COUNTY,
    TOWNSHIP,
    at_stage,
    complete,
    county_visit,
    decide,
    file_case,
    finish_posting,
    survey,
    survey_of,
    township,
    wait_for,
)
from workflows.case import CaseWorkflow


class VehicleRegistry:
    """The traffic police find a motorcycle in the head's name the family did not declare, until
    they correct their data (`corrected`)."""

    department = Department.VEHICLES

    def __init__(self, id_number: str) -> None:
        self.id_number = id_number
        self.corrected = False
        self.calls = 0

    async def fetch(self, id_numbers: tuple[str, ...]) -> list[RegistryRecord]:
        self.calls += 1
        if self.corrected:
            return []
        return [
            RegistryRecord(
                Department.VEHICLES, self.id_number, RecordKind.VEHICLE, detail="motorcycle"
            )
        ]


def after_verification(pack: RulePack) -> Stage:
    return pack.procedure[pack.procedure.index(Stage.VERIFICATION) + 1]


def notice_text(stack: Stack, notice_id: str) -> str:
    return str(stack.sql("SELECT content FROM notices WHERE notice_id = %s", notice_id)[0][0])


def evidence(rid: str = "ev1", effect: EvidenceEffect = EvidenceEffect.RECHECK) -> SubmitEvidence:
    return SubmitEvidence(
        request_id=rid,
        actor=TOWNSHIP,
        received_on=(date.today() - timedelta(days=1)).isoformat(),
        summary="提供了摩托车已于2023年报废注销的证明",
        effect=effect,
    )


async def contradicted_case(
    env: Any, database_url: str, sample: dict[str, Any]
) -> tuple[Stack, VehicleRegistry]:
    stack = Stack(env, make_settings(database_url, env.client))
    head = next(m for m in sample["members"] if m["relation"] == "head")
    registry = VehicleRegistry(head["id_number"])
    stack.connectors = [*stack.connectors, registry]
    return stack, registry


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
async def test_art18_contradicted_check_waits_for_evidence_then_verification_runs_again(
    time_skipping_env: Any,
    database_url: str,
    sample: dict[str, Any],
    pack: RulePack,
    record_history: Any,
) -> None:
    """mca-2021 Art. 18: the family is told what verification found, may give evidence within
    the pack's period (shown on the case with its deadline), and the township re-checks before
    the amount is decided. Both built-in packs give 5 working days."""
    stack, registry = await contradicted_case(time_skipping_env, database_url, sample)
    async with stack.worker():
        handle = await file_case(stack, complete(sample), "DB-EVIDENCE0001", pack)
        view = await at_stage(handle, Stage.SURVEY)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(CaseWorkflow.submit_evidence, evidence("early"))
        assert "stage 'evidence'" in str(err.value.cause)
        await survey(handle, survey_of(view.application))
        view = await at_stage(handle, Stage.EVIDENCE)
        assert view.due_at is not None
        assert view.procedure.waiting_for.startswith("申请人就核对结果举证")
        findings = view.notices[-1]
        assert findings.kind is NoticeKind.VERIFICATION_FINDINGS
        text = notice_text(stack, findings.notice_id)
        assert "家庭经济状况核对结果告知书" in text
        assert "摩托车" in text and "5个工作日内" in text
        assert "逾期未提供证明材料的，按核对结果认定" in text
        assert "第十八条" in text

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                CaseWorkflow.submit_evidence, dataclasses.replace(evidence("blank"), summary=" ")
            )
        assert "summary:" in str(err.value.cause)

        registry.corrected = True  # the department corrected its record on the evidence
        view = await handle.execute_update(CaseWorkflow.submit_evidence, evidence())
        assert view.stage is Stage.VERIFICATION
        view = await at_stage(handle, after_verification(pack))
        if pack is MCA_2021:
            await record_history(handle, "verification_contradicted_evidence_rechecked")
    await stack.settle()
    await stack.engine.dispose()
    assert registry.calls == 2
    assert view.procedure.verification is not None
    assert view.procedure.verification.discrepancies == ()
    stages = [s for (s,) in stack.sql("SELECT stage FROM stage_events ORDER BY seq")]
    assert stages[:5] == [
        "survey",
        "verification",
        "evidence",
        "verification",
        after_verification(pack).value,
    ]
    audits = stack.sql("SELECT action FROM audit_log WHERE action = 'evidence'")
    assert len(audits) == 1


async def test_art18_period_passes_without_evidence_case_goes_on_with_verified_figures(
    time_skipping_env: Any, database_url: str, sample: dict[str, Any]
) -> None:
    """Art. 18: without evidence by the deadline the verified figures stand; the period is
    the family's, so its end is no overdue stage."""
    stack, registry = await contradicted_case(time_skipping_env, database_url, sample)
    async with stack.worker():
        handle = await file_case(stack, complete(sample), "DB-EVIDENCE0002", MCA_2021)
        view = await at_stage(handle, Stage.SURVEY)
        await survey(handle, survey_of(view.application))
        view = await at_stage(handle, Stage.EVIDENCE)
        await stack.env.sleep(timedelta(days=12))
        view = await wait_for(handle, lambda v: v.stage is not Stage.EVIDENCE, "end of period")
    await stack.settle()
    await stack.engine.dispose()
    assert view.stage is Stage.TOWNSHIP_REVIEW  # mca-2021: no democratic evaluation by default
    assert registry.calls == 1
    assert view.procedure.verification is not None
    assert view.procedure.verification.discrepancies  # the verified figures stand
    assert view.procedure.assessment is not None
    assert stack.sql("SELECT count(*) FROM supervisor_alerts") == [(0,)]


async def test_art2_delegated_approval_is_the_townships_and_its_notice_in_its_name(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    """mca-2021 Art. 2: a county that delegates approval moves the decision, its roles and its
    deadline to the township; the approval notice issues in the township's name."""
    from dibao.db import rulepacks_repo

    async with ts_stack.sessions() as session:
        pack = await rulepacks_repo.publish_version(
            session, MCA_2021.id, {"approval_delegated": True}, "chen.gang"
        )
    handle = await file_case(ts_stack, complete(sample), "DB-DELEGATE0001", pack)
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle)
    stage = Stage.COUNTY_APPROVAL
    if Stage.POSTING_BEFORE_APPROVAL in pack.procedure:
        await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    view = await at_stage(handle, stage)
    assert view.due_at is not None
    assert view.procedure.waiting_for.startswith("乡镇审批")
    assert ts_stack.sql("SELECT waiting_role FROM cases WHERE case_id = 'DB-DELEGATE0001'") == [
        ("township_caseworker",)
    ]
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await decide(handle)  # the county approver: no longer its decision
    assert "township_caseworker" in str(err.value.cause)
    if view.procedure.county_visit_required:
        with pytest.raises(WorkflowUpdateFailedError):
            await county_visit(handle)
        await handle.execute_update(
            CaseWorkflow.submit_county_visit,
            dataclasses.replace(_visit(), actor=TOWNSHIP),
        )
    view = await handle.execute_update(
        CaseWorkflow.submit_county_decision,
        dataclasses.replace(_decision(), actor=TOWNSHIP),
    )
    assert view.stage is Stage.POSTING_AFTER_APPROVAL
    approval = next(n for n in view.notices if n.kind is NoticeKind.APPROVAL)
    text = notice_text(ts_stack, approval.notice_id)
    assert "受县级人民政府民政部门委托审批" in text
    signature = text.split('class="signature">')[1]
    assert "人民政府" in signature and "民政局" not in signature


def _visit() -> Any:
    from dibao.messages.case import SubmitCountyVisit

    return SubmitCountyVisit(
        request_id="v-t",
        actor=COUNTY,
        visited_on=(date.today() - timedelta(days=1)).isoformat(),
        visitors=("li.na", "wang.fang"),
        findings="入户核查属实",
    )


def _decision() -> Any:
    from dibao.messages.case import SubmitCountyDecision

    return SubmitCountyDecision(request_id="d-t", actor=COUNTY, opinion=Opinion.APPROVE)
