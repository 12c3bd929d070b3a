"""The actions offered to a user on a case: each refused one says why (role, place, recusal,
stage, what the stage waits for)."""

from __future__ import annotations

from dataclasses import replace

from dibao.domain.actions import Action
from dibao.domain.enums import CaseStatus, Role, Stage
from dibao.domain.offered import OFFERED, CaseFacts, action_denial, offered_actions
from dibao.messages.case import Actor

AT_SURVEY = CaseFacts(Stage.SURVEY, CaseStatus.IN_PROGRESS, "610423", "610423100", "610423100201")
VILLAGE = Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100201")
COUNTY = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")
OPS = Actor(id="ma.chao", role=Role.OPS, jurisdiction="610423")


def test_every_case_action_is_offered_once_with_a_reason_when_refused() -> None:
    offers = offered_actions(AT_SURVEY, VILLAGE)
    assert [o.action for o in offers] == list(OFFERED)
    assert all(o.allowed == (o.reason == "") for o in offers)
    assert {o.action for o in offers if o.allowed} == {
        Action.WITHDRAW,
        Action.SURVEY,
        Action.PAYEE,
    }


def test_a_recused_caseworker_is_offered_nothing_on_the_household() -> None:
    facts = replace(AT_SURVEY, recused_staff=("zhang.wei",))
    offers = offered_actions(facts, VILLAGE)
    assert not any(o.allowed for o in offers)
    assert "near relative" in next(o.reason for o in offers if o.action is Action.SURVEY)


def test_another_village_is_outside_the_caseworkers_reach() -> None:
    neighbour = replace(VILLAGE, jurisdiction="610423100202")
    reason = action_denial(AT_SURVEY, neighbour, Action.SURVEY)
    assert reason is not None and "outside your jurisdiction" in reason


def test_a_closed_case_takes_no_action() -> None:
    facts = replace(AT_SURVEY, stage=Stage.CLOSED, status=CaseStatus.WITHDRAWN)
    assert action_denial(facts, VILLAGE, Action.PAYEE) == "the case is closed (withdrawn)"


def test_conditions_the_stage_waits_for() -> None:
    application = replace(AT_SURVEY, stage=Stage.APPLICATION)
    assert action_denial(application, VILLAGE, Action.MATERIALS) is not None
    missing = replace(application, materials_missing=True)
    assert action_denial(missing, VILLAGE, Action.MATERIALS) is None
    recipient = replace(AT_SURVEY, stage=Stage.RECIPIENT, status=CaseStatus.RECEIVING)
    assert action_denial(recipient, VILLAGE, Action.REVIEW) == "no re-review is due yet"
    assert action_denial(replace(recipient, review_due=True), VILLAGE, Action.REVIEW) is None
    assert action_denial(recipient, VILLAGE, Action.WITHDRAW) is not None
    assert action_denial(AT_SURVEY, COUNTY, Action.COUNTY_DECISION) is not None


def test_ops_act_only_on_a_step_that_gave_up() -> None:
    assert action_denial(AT_SURVEY, OPS, Action.OPERATE) == "no step of this case waits for ops"
    assert action_denial(replace(AT_SURVEY, open_incidents=1), OPS, Action.OPERATE) is None
