"""The actions the console offers follow the stage, the role table, the jurisdiction and
recusal."""

from __future__ import annotations

from console.actions import offered_actions
from dibao.domain.access import CasePlace
from dibao.domain.enums import CaseStatus, Role, Stage
from dibao.messages.case import Actor

PLACE = CasePlace("610423", "610423100", "610423100201")
VILLAGE = Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100201")
COUNTY = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")
AUDITOR = Actor(id="liu.yang", role=Role.AUDITOR, jurisdiction="610423")


def slugs(actor: Actor, stage: Stage, place: CasePlace = PLACE) -> list[str]:
    status = CaseStatus.RECEIVING if stage is Stage.RECIPIENT else CaseStatus.IN_PROGRESS
    return [a.slug for a in offered_actions(actor, stage, status, place)]


def test_the_county_approver_is_offered_the_decision_and_the_village_is_not() -> None:
    assert "county-decision" in slugs(COUNTY, Stage.COUNTY_APPROVAL)
    assert "county-decision" not in slugs(VILLAGE, Stage.COUNTY_APPROVAL)


def test_the_survey_is_offered_at_the_survey_stage_only() -> None:
    assert "survey" in slugs(VILLAGE, Stage.SURVEY)
    assert "survey" not in slugs(VILLAGE, Stage.EVALUATION)


def test_readers_without_moves_are_offered_nothing() -> None:
    assert slugs(AUDITOR, Stage.COUNTY_APPROVAL) == []


def test_a_recused_user_or_one_elsewhere_is_offered_nothing() -> None:
    recused = CasePlace("610423", "610423100", "610423100201", recused_staff=("zhang.wei",))
    assert slugs(VILLAGE, Stage.SURVEY, recused) == []
    elsewhere = Actor(id="qian.hua", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100202")
    assert slugs(elsewhere, Stage.SURVEY) == []


def test_a_closed_case_offers_nothing() -> None:
    assert offered_actions(COUNTY, Stage.CLOSED, CaseStatus.REFUSED, PLACE) == []


def test_what_the_case_does_not_wait_for_is_not_offered() -> None:
    # Offered only where the workflow would take it: a button that leads to a refusal is a
    # caseworker's wasted trip.
    complete = offered_actions(
        VILLAGE, Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE, PLACE, materials_missing=False
    )
    assert "materials" not in [a.slug for a in complete]
    missing = offered_actions(
        VILLAGE, Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE, PLACE, materials_missing=True
    )
    assert "materials" in [a.slug for a in missing]
    not_due = offered_actions(
        VILLAGE, Stage.RECIPIENT, CaseStatus.RECEIVING, PLACE, review_due=False
    )
    assert "review" not in [a.slug for a in not_due]
    assert "sign-in" in [a.slug for a in not_due]


def test_the_time_limit_is_extended_only_once_the_application_is_accepted() -> None:
    # mca-2021 Art. 22: the 30 working days run from acceptance.
    assert "extend-deadline" not in slugs(COUNTY, Stage.APPLICATION)
    assert "extend-deadline" in slugs(COUNTY, Stage.SURVEY)


def test_art2_a_delegating_county_has_the_township_offered_the_decision_in_its_name() -> None:
    township = Actor(id="li.na", role=Role.TOWNSHIP_CASEWORKER, jurisdiction="610423100")
    delegated = CasePlace("610423", "610423100", "610423100201", approval_delegated=True)
    offered = offered_actions(township, Stage.COUNTY_APPROVAL, CaseStatus.IN_PROGRESS, delegated)
    labels = {a.slug: a.label for a in offered}
    assert labels["county-decision"] == "乡镇审批（县级委托）"
    assert "county-decision" not in slugs(COUNTY, Stage.COUNTY_APPROVAL, delegated)
    assert "county-decision" not in slugs(township, Stage.COUNTY_APPROVAL)  # seed packs: county
