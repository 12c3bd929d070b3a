"""The stage table: one entry per stage of a case, read by everything that asks about a stage.

A newcomer learns a stage from its entry: what it is called, the actions it accepts (and so,
through CASE_ACTION_ROLES, the roles that may take them), the rule-pack parameter that sets its
deadline, whom it waits for, and, for a public posting, whose opinion it publishes. The case
workflow's validators (and with them the API's 409s), the case's `waiting_for`, the stuck
list's assignee (`waiting_role`, written by the projection), the API's role table for case
actions (dibao/domain/access.py) and the actions offered to a user all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dibao.domain.actions import Action
from dibao.domain.enums import Role, Stage

if TYPE_CHECKING:
    from dibao.domain.rulepacks import RulePack

V = Role.VILLAGE_CASEWORKER
T = Role.TOWNSHIP_CASEWORKER
C = Role.COUNTY_APPROVER
O = Role.OPS  # noqa: E741 - one letter per role keeps the table below readable
FIELDWORK = frozenset({V, T, C})

_RECIPIENT_REPORTS = (
    Action.SIGN_IN,
    Action.LABOUR_ABSENCE,
    Action.CIRCUMSTANCE,
    Action.HOUSEHOLD_CHANGE,
    Action.REEMPLOYMENT,
    Action.WORK_REFUSAL,
)

# Who may take each action on a case, whatever the stage (DOMAIN.md, "Who uses the system").
# The API's role table takes these rows as they are; supervisors and auditors are in none of
# them: they never act on a case.
CASE_ACTION_ROLES: dict[Action, frozenset[Role]] = {
    # The head applies at the township, or at the village committee acting for it (001 三(一)).
    Action.FILE_APPLICATION: frozenset({V, T}),
    Action.MATERIALS: frozenset({V, T}),
    Action.WITHDRAW: frozenset({V, T}),
    Action.SURVEY: FIELDWORK,
    Action.EVALUATION: FIELDWORK,
    # The family answers a failed check at the township, or through the village (Art. 18).
    Action.EVIDENCE: frozenset({V, T}),
    Action.OBJECTION: FIELDWORK,
    Action.TOWNSHIP_REVIEW: frozenset({T, C}),
    Action.TERMINATE: frozenset({T, C}),
    Action.COUNTY_VISIT: frozenset({C}),
    Action.COUNTY_DECISION: frozenset({C}),
    Action.EXTEND_DEADLINE: frozenset({C}),
    Action.REVIEW: FIELDWORK,
    # A recipient household's reports, one action each: sign-ins, labour absences, changes of
    # circumstances or of the household, reemployment (渐退), refusals of work.
    **dict.fromkeys(_RECIPIENT_REPORTS, FIELDWORK),
    Action.PAYEE: FIELDWORK,
    Action.CHANGE_STANDARD: frozenset({C}),
    # Retry, skip or close a step that gave up (an incident), at whatever stage it happened.
    Action.OPERATE: frozenset({O}),
}

# Open at every stage of an undecided case: the applicant may withdraw, the township terminate,
# the payee account be corrected.
_WHILE_OPEN = (Action.WITHDRAW, Action.TERMINATE, Action.PAYEE)
# The whole-procedure limit (mca-2021 Art. 22) runs from acceptance to decision.
_UNDECIDED = (*_WHILE_OPEN, Action.EXTEND_DEADLINE)
_POSTING_WAIT = "公示期满 (posting period)"


@dataclass(frozen=True)
class StageEntry:
    stage: Stage
    label: str  # as the office names it
    accepts: tuple[Action, ...]  # the actions a user may take while the case is here
    waits_for: str  # whom the case waits for, in words: the case's `waiting_for`
    waiting_role: Role | None  # whose move it is: the stuck list's assignee; None: a timer, no one
    deadline: str | None = None  # the RulePack field with its working days; None: no office clock
    publishes: Stage | None = None  # a posting: the stage whose (positive) opinion it publishes

    def roles(self, action: Action, pack: RulePack | None = None) -> frozenset[Role]:
        """The roles that may take `action` here; none when the stage does not accept it."""
        return roles_for(action, pack) if action in self.accepts else frozenset()

    def working_days(self, pack: RulePack) -> int | None:
        if self.deadline is None:
            return None
        days: int | None = getattr(pack, self.deadline)
        return days


STAGE_TABLE: tuple[StageEntry, ...] = (
    StageEntry(
        Stage.APPLICATION,
        "申请",
        (Action.MATERIALS, *_WHILE_OPEN),
        "申请人补齐材料 (applicant: missing materials)",
        V,  # follows up with the applicant
    ),
    StageEntry(
        Stage.SURVEY,
        "入户调查",
        (Action.SURVEY, *_UNDECIDED),
        "入户调查报告 (village/township caseworkers: household survey)",
        V,
        deadline="survey_working_days",
    ),
    StageEntry(
        Stage.VERIFICATION,
        "家庭经济状况核对",
        _UNDECIDED,
        "家庭经济状况核对 (system: cross-department verification)",
        Role.SYSTEM,  # its registries
        deadline="verification_working_days",
    ),
    StageEntry(
        # mca-2021 Art. 18: verification contradicted the declaration; the family was told what
        # was found and may give evidence until the deadline (the family's, not the office's:
        # it passing is no escalation, the case goes on with the verified figures).
        Stage.EVIDENCE,
        "核对结果告知与举证",
        (Action.EVIDENCE, *_UNDECIDED),
        "申请人就核对结果举证 (applicant: evidence on the verification findings, until the "
        "deadline)",
        T,  # receives the evidence
        deadline="evidence_working_days",
    ),
    StageEntry(
        Stage.EVALUATION,
        "民主评议",
        (Action.EVALUATION, *_UNDECIDED),
        "民主评议结果 (village/township caseworkers: democratic evaluation)",
        V,
    ),
    StageEntry(
        Stage.POSTING_BEFORE_REVIEW,
        "第一榜公示",
        (Action.OBJECTION, *_UNDECIDED),
        _POSTING_WAIT,
        None,
        publishes=Stage.EVALUATION,
    ),
    StageEntry(
        Stage.TOWNSHIP_REVIEW,
        "乡镇审核",
        (Action.TOWNSHIP_REVIEW, *_UNDECIDED),
        "乡镇审核意见 (township caseworker: review opinion)",
        T,
        deadline="township_review_working_days",
    ),
    StageEntry(
        Stage.POSTING_BEFORE_APPROVAL,
        "第二榜公示",
        (Action.OBJECTION, *_UNDECIDED),
        _POSTING_WAIT,
        None,
        publishes=Stage.TOWNSHIP_REVIEW,
    ),
    StageEntry(
        Stage.COUNTY_APPROVAL,
        "县级审批",
        (Action.COUNTY_VISIT, Action.COUNTY_DECISION, *_UNDECIDED),
        "县级审批 (county approver: decision)",
        C,
        deadline="county_approval_working_days",
    ),
    StageEntry(
        # Approved: no withdrawal any more (ending benefit is a payment change).
        Stage.POSTING_AFTER_APPROVAL,
        "第三榜公示",
        (Action.OBJECTION, Action.PAYEE),
        _POSTING_WAIT,
        None,
        publishes=Stage.COUNTY_APPROVAL,
    ),
    StageEntry(
        Stage.RECIPIENT,
        "动态管理",
        (
            Action.REVIEW,
            *_RECIPIENT_REPORTS,
            Action.CHANGE_STANDARD,
            Action.PAYEE,
        ),
        "动态管理 (recipient)",
        None,
    ),
    StageEntry(Stage.CLOSED, "已结案", (), "", None),
)

STAGES: dict[Stage, StageEntry] = {entry.stage: entry for entry in STAGE_TABLE}

POSTING_STAGES = frozenset(e.stage for e in STAGE_TABLE if e.publishes is not None)


def stages_accepting(action: Action) -> tuple[Stage, ...]:
    return tuple(e.stage for e in STAGE_TABLE if action in e.accepts)


# mca-2021 Art. 2: a county may delegate approval to its townships (`approval_delegated`):
# the decision and the county's home visit are then the township's, within the same deadline.
DELEGATED_APPROVAL_ROLES: dict[Action, frozenset[Role]] = {
    Action.COUNTY_VISIT: frozenset({T}),
    Action.COUNTY_DECISION: frozenset({T}),
}
# Whoever may decide under some pack: what the API lets through before it reads the case's
# pack (dibao/domain/access.py); the workflow and the API then hold the pack's own roles.
ANY_PACK_ROLES: dict[Action, frozenset[Role]] = {
    action: CASE_ACTION_ROLES[action] | roles for action, roles in DELEGATED_APPROVAL_ROLES.items()
}

DELEGATED_APPROVAL = StageEntry(
    Stage.COUNTY_APPROVAL,
    "乡镇审批（县级委托）",
    STAGES[Stage.COUNTY_APPROVAL].accepts,
    "乡镇审批 (township caseworker: decision, delegated by the county, Art. 2)",
    T,
    deadline="county_approval_working_days",
)


def stage_entry(stage: Stage, pack: RulePack | None) -> StageEntry:
    """The stage's entry under `pack`: approval sits at the township where the county
    delegated it (Art. 2), else as the table says."""
    if stage is Stage.COUNTY_APPROVAL and pack is not None and pack.approval_delegated:
        return DELEGATED_APPROVAL
    return STAGES[stage]


def roles_for(action: Action, pack: RulePack | None = None) -> frozenset[Role]:
    """Who may take a case action at any stage under `pack`: what the workflow checks again."""
    if pack is not None and pack.approval_delegated and action in DELEGATED_APPROVAL_ROLES:
        return DELEGATED_APPROVAL_ROLES[action]
    return CASE_ACTION_ROLES[action]
