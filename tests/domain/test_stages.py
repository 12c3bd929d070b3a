"""The stage table: each stage is read from one entry, and what reads it agrees with it."""

from __future__ import annotations

import dataclasses

from dibao.domain.access import ROLE_TABLE
from dibao.domain.actions import Action
from dibao.domain.enums import Role, Stage
from dibao.domain.ops import WAITING_FOR, WAITING_ROLE
from dibao.domain.procedure import POSTING_STAGES
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, RulePack
from dibao.domain.stages import CASE_ACTION_ROLES, STAGE_TABLE, STAGES, stages_accepting


def test_every_stage_has_one_entry() -> None:
    assert [e.stage for e in STAGE_TABLE] == list(Stage)


def test_the_api_refuses_case_actions_to_the_roles_the_stage_table_refuses() -> None:
    for action, roles in CASE_ACTION_ROLES.items():
        assert ROLE_TABLE[action] == roles
        assert not roles & {Role.AUDITOR, Role.SUPERVISOR, Role.SYSTEM}


def test_each_posting_publishes_the_opinion_before_it() -> None:
    assert {
        Stage.POSTING_BEFORE_REVIEW,
        Stage.POSTING_BEFORE_APPROVAL,
        Stage.POSTING_AFTER_APPROVAL,
    } == POSTING_STAGES
    assert STAGES[Stage.POSTING_BEFORE_REVIEW].publishes is Stage.EVALUATION
    assert STAGES[Stage.POSTING_BEFORE_APPROVAL].publishes is Stage.TOWNSHIP_REVIEW
    assert STAGES[Stage.POSTING_AFTER_APPROVAL].publishes is Stage.COUNTY_APPROVAL
    assert stages_accepting(Action.OBJECTION) == tuple(s for s in Stage if s in POSTING_STAGES)


def test_a_deadline_names_a_rule_pack_parameter() -> None:
    fields = {f.name for f in dataclasses.fields(RulePack)}
    for entry in STAGE_TABLE:
        assert entry.deadline is None or entry.deadline in fields
    assert STAGES[Stage.SURVEY].working_days(MCA_2021) == MCA_2021.survey_working_days
    assert STAGES[Stage.EVALUATION].working_days(SEED_DEFAULT) is None


def test_the_stuck_list_and_waiting_for_read_the_table() -> None:
    for entry in STAGE_TABLE:
        assert WAITING_FOR[entry.stage] == entry.waits_for
        assert WAITING_ROLE[entry.stage] is entry.waiting_role
    assert STAGES[Stage.CLOSED].accepts == ()


def test_an_approved_case_is_not_withdrawn() -> None:
    assert Action.WITHDRAW not in STAGES[Stage.POSTING_AFTER_APPROVAL].accepts
    assert Action.WITHDRAW not in STAGES[Stage.RECIPIENT].accepts
    assert STAGES[Stage.COUNTY_APPROVAL].roles(Action.COUNTY_DECISION) == {Role.COUNTY_APPROVER}
    assert STAGES[Stage.SURVEY].roles(Action.COUNTY_DECISION) == frozenset()
