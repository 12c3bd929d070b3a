"""A failed check answered (mca-2021 Art. 18) and approval delegated (Art. 2), as the workflow,
the API's role checks and the console's offers read them. Each test names its article."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dibao.domain import access
from dibao.domain.access import CasePlace
from dibao.domain.actions import Action
from dibao.domain.enums import CaseStatus, Role, Stage
from dibao.domain.measures import (
    EvidenceEffect,
    SubmitEvidence,
    after_verification,
    contradicted,
    evidence_problems,
    findings,
)
from dibao.domain.offered import CaseFacts, action_denial
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT
from dibao.domain.stages import STAGES, roles_for, stage_entry
from dibao.domain.verification import (
    Department,
    Discrepancy,
    RecordKind,
    VerificationOutcome,
)
from dibao.messages.case import Actor

FOUND = Discrepancy(
    Department.VEHICLES, "X", RecordKind.VEHICLE, "摩托车 0 辆", "摩托车 1 辆", "名下有摩托车 1 辆"
)
CONTRADICTED = VerificationOutcome(
    checked=(Department.VEHICLES,), records=(), discrepancies=(FOUND,)
)
AGREES = VerificationOutcome(checked=(Department.VEHICLES,), records=(), discrepancies=())
TOWNSHIP = Actor(id="li.na", role=Role.TOWNSHIP_CASEWORKER, jurisdiction="610423100")
COUNTY = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")


def test_art18_a_contradicted_check_waits_for_evidence_once_before_the_amount() -> None:
    assert contradicted(CONTRADICTED) and not contradicted(AGREES) and not contradicted(None)
    assert after_verification(CONTRADICTED, False, Stage.EVALUATION) is Stage.EVIDENCE
    # The re-check that still differs goes on: the family was heard once.
    assert after_verification(CONTRADICTED, True, Stage.EVALUATION) is Stage.EVALUATION
    # A check that agrees changes nothing: the case goes on as before.
    assert after_verification(AGREES, False, Stage.COUNTY_APPROVAL) is Stage.COUNTY_APPROVAL
    assert findings(CONTRADICTED) == ("名下有摩托车 1 辆",)


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
def test_art18_the_evidence_stage_has_the_packs_period_and_the_townships_move(pack: object) -> None:
    entry = STAGES[Stage.EVIDENCE]
    assert entry.deadline == "evidence_working_days"
    assert entry.working_days(pack) == 5  # type: ignore[arg-type]
    assert entry.waiting_role is Role.TOWNSHIP_CASEWORKER
    assert entry.roles(Action.EVIDENCE) == {
        Role.VILLAGE_CASEWORKER,
        Role.TOWNSHIP_CASEWORKER,
    }
    # No pack's procedure passes through it: only a contradicted check leads there.
    assert Stage.EVIDENCE not in pack.procedure  # type: ignore[attr-defined]


def test_art18_evidence_says_what_the_family_gave() -> None:
    request = SubmitEvidence("r", TOWNSHIP, "2026-11-30", " ", EvidenceEffect.RECHECK)
    assert [e.path for e in evidence_problems(request)] == [("summary",)]
    assert evidence_problems(replace(request, summary="报废证明")) == []


def test_art2_seed_default_and_mca2021_keep_approval_at_the_county() -> None:
    for pack in (SEED_DEFAULT, MCA_2021):
        assert not pack.approval_delegated
        assert roles_for(Action.COUNTY_DECISION, pack) == {Role.COUNTY_APPROVER}
        assert stage_entry(Stage.COUNTY_APPROVAL, pack).waiting_role is Role.COUNTY_APPROVER


def test_art2_a_delegating_pack_moves_decision_visit_and_waiting_to_the_township() -> None:
    pack = replace(MCA_2021, approval_delegated=True)
    entry = stage_entry(Stage.COUNTY_APPROVAL, pack)
    assert entry.waiting_role is Role.TOWNSHIP_CASEWORKER
    assert entry.label == "乡镇审批（县级委托）"
    assert entry.working_days(pack) == pack.county_approval_working_days  # the same deadline
    for action in (Action.COUNTY_DECISION, Action.COUNTY_VISIT):
        assert entry.roles(action, pack) == {Role.TOWNSHIP_CASEWORKER}
        assert roles_for(action, pack) == {Role.TOWNSHIP_CASEWORKER}
    place = CasePlace("610423", "610423100", "610423100201", approval_delegated=True)
    assert access.case_denial(TOWNSHIP, Action.COUNTY_DECISION, place) is None
    assert access.case_denial(COUNTY, Action.COUNTY_DECISION, place) is not None
    county_place = replace(place, approval_delegated=False)
    assert access.case_denial(TOWNSHIP, Action.COUNTY_DECISION, county_place) is not None
    facts = CaseFacts(
        Stage.COUNTY_APPROVAL,
        CaseStatus.IN_PROGRESS,
        "610423",
        "610423100",
        "610423100201",
        approval_delegated=True,
    )
    assert action_denial(facts, TOWNSHIP, Action.COUNTY_DECISION) is None
    assert action_denial(replace(facts, approval_delegated=False), TOWNSHIP, Action.COUNTY_DECISION)
