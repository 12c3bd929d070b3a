"""Which actions the console offers a user on a case now: ONE function, `offered_actions`.

It asks the domain's own rule (dibao.domain.offered.action_denial: the role table, the user's
jurisdiction and recusal, the stage table, and what the case waits for: materials still
missing, a re-review due), so a button is shown only where the API and the workflow would take
the action. The workflow's validators still decide when the form is sent (a step a colleague
claimed a moment ago), and an action not offered is refused there too if forged.

Each action's slug is its key as a path writes it (dibao.domain.actions.segment): the last part
of its form's path, /console/cases/{id}/act/{slug}, and of the API's (POST /cases/{id}/{slug}).
"""

from __future__ import annotations

from dataclasses import dataclass

from dibao.domain import access
from dibao.domain.access import Action, CasePlace
from dibao.domain.actions import segment
from dibao.domain.enums import CaseStatus, Stage
from dibao.domain.offered import CaseFacts, action_denial
from dibao.messages.case import Actor


@dataclass(frozen=True)
class OfferedAction:
    slug: str
    action: Action
    label: str  # the button's text, in the documents' terms

    def href(self, case_id: str) -> str:
        return f"/console/cases/{case_id}/act/{self.slug}"


_PROCEDURE = frozenset(
    {
        Stage.APPLICATION,
        Stage.SURVEY,
        Stage.VERIFICATION,
        Stage.EVIDENCE,
        Stage.EVALUATION,
        Stage.POSTING_BEFORE_REVIEW,
        Stage.TOWNSHIP_REVIEW,
        Stage.POSTING_BEFORE_APPROVAL,
        Stage.COUNTY_APPROVAL,
    }
)
_POSTINGS = frozenset(
    {Stage.POSTING_BEFORE_REVIEW, Stage.POSTING_BEFORE_APPROVAL, Stage.POSTING_AFTER_APPROVAL}
)

# (action, label, stages at which it is offered), in the order the page lists them.
CATALOGUE: tuple[tuple[Action, str, frozenset[Stage]], ...] = (
    (Action.MATERIALS, "补齐材料", frozenset({Stage.APPLICATION})),
    (Action.SURVEY, "填写入户调查", frozenset({Stage.SURVEY})),
    (Action.EVIDENCE, "登记核对异议证明材料", frozenset({Stage.EVIDENCE})),
    (Action.EVALUATION, "录入民主评议", frozenset({Stage.EVALUATION})),
    (Action.OBJECTION, "登记公示异议", _POSTINGS),
    (Action.TOWNSHIP_REVIEW, "乡镇审核", frozenset({Stage.TOWNSHIP_REVIEW})),
    (Action.COUNTY_VISIT, "县级入户核查", frozenset({Stage.COUNTY_APPROVAL})),
    (Action.COUNTY_DECISION, "县级审批", frozenset({Stage.COUNTY_APPROVAL})),
    (Action.EXTEND_DEADLINE, "延长办理时限", _PROCEDURE),
    (Action.REVIEW, "定期复核", frozenset({Stage.RECIPIENT})),
    (Action.SIGN_IN, "登记签到", frozenset({Stage.RECIPIENT})),
    (Action.LABOUR_ABSENCE, "登记公益劳动缺勤", frozenset({Stage.RECIPIENT})),
    (Action.CIRCUMSTANCE, "报告家庭情况变化", frozenset({Stage.RECIPIENT})),
    (Action.HOUSEHOLD_CHANGE, "家庭人口变化", frozenset({Stage.RECIPIENT})),
    (Action.REEMPLOYMENT, "登记就业（渐退）", frozenset({Stage.RECIPIENT})),
    (Action.WORK_REFUSAL, "登记拒绝就业", frozenset({Stage.RECIPIENT})),
    (Action.PAYEE, "变更收款账户", _PROCEDURE | _POSTINGS | {Stage.RECIPIENT}),
    (Action.WITHDRAW, "撤回申请", _PROCEDURE),
    (Action.TERMINATE, "终止办理", _PROCEDURE),
)
SLUGS = frozenset(segment(action) for action, *_ in CATALOGUE)
# mca-2021 Art. 2: where the county delegated approval, the township visits and decides.
DELEGATED_LABELS = {
    Action.COUNTY_VISIT: "乡镇入户核查（县级委托）",
    Action.COUNTY_DECISION: "乡镇审批（县级委托）",
}


def offered_actions(
    actor: Actor,
    stage: Stage,
    status: CaseStatus,
    place: CasePlace,
    *,
    materials_missing: bool = True,
    review_due: bool = True,
) -> list[OfferedAction]:
    """The actions the user may take on the case now; none on a closed case, none for a user
    whose role, jurisdiction or recusal refuses reading it. `materials_missing` and
    `review_due` are what the case view says (unknown: offered, and the workflow decides)."""
    if not status.is_open or stage is Stage.CLOSED:
        return []
    if access.case_denial(actor, Action.READ_CASE, place):
        return []
    facts = CaseFacts(
        stage=stage,
        status=status,
        county_code=place.county_code,
        township_code=place.township_code,
        village_code=place.village_code,
        recused_staff=place.recused_staff,
        materials_missing=materials_missing,
        review_due=review_due,
        approval_delegated=place.approval_delegated,
    )
    labels = DELEGATED_LABELS if place.approval_delegated else {}
    return [
        OfferedAction(segment(action), action, labels.get(action, label))
        for action, label, stages in CATALOGUE
        if stage in stages
        and access.case_denial(actor, action, place) is None
        and action_denial(facts, actor, action) is None
    ]
