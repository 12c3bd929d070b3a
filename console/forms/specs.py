"""The action forms: one entry per action of the procedure and the recipient phase.

Each names the API's request model (so the form is validated exactly as the API validates a
body), the workflow update and the role-table action, and lists its fields for the page. The
keys are the slugs of console/actions.py (each action's key as the API's path writes it). `applies(form, case)` is the
finer check of the form page itself: what the workflow's validators would refuse at once
(materials already complete, the survey submitted, no posting open) is not offered as a form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from api.evidence_schemas import EvidenceIn
from api.household_change import HouseholdChangeIn
from api.procedure_schemas import (
    CircumstanceIn,
    CountyDecisionIn,
    CountyVisitIn,
    EvaluationIn,
    ExtendDeadlineIn,
    LabourAbsenceIn,
    ObjectionIn,
    ReemploymentIn,
    ReviewIn,
    SignInIn,
    SurveyIn,
    TerminateIn,
    TownshipReviewIn,
    WorkRefusalIn,
)
from api.schemas import CaseOut, PayeeChangeIn, SupplementIn, WithdrawIn
from console import labels
from dibao.domain.access import Action
from dibao.domain.actions import segment
from dibao.domain.eligibility import HouseholdCategory
from dibao.domain.enums import CaseStatus, Material, Opinion, Relation, Stage
from dibao.domain.household_change import HouseholdEvent, Successor
from dibao.domain.materials import SIGNED_MATERIALS
from dibao.domain.measures import EVIDENCE_EFFECT_ZH
from dibao.domain.recipient import CircumstanceKind
from dibao.domain.survey import ExclusionFlag
from workflows.case import CaseWorkflow

Options = list[tuple[str, str]]


@dataclass(frozen=True)
class Field:
    """One input of a form. `kind`: text, textarea, date, month, number, money, select, radio,
    checkbox, checkboxes (one name per ticked box), staff (several user IDs in one line),
    lines (a text area, one item per line), members (the household's members to choose)."""

    name: str
    label: str
    kind: str = "text"
    options: Options = field(default_factory=list)
    required: bool = False
    hint: str = ""


@dataclass(frozen=True)
class ActionForm:
    title: str
    model: type[BaseModel]
    update: Any
    action: Action
    fields: tuple[Field, ...] = ()
    household: bool = False  # the survey's members, incomes and assets sections
    danger: bool = False

    @property
    def key(self) -> str:
        """/console/cases/{id}/act/{key}: the action's key as the API's action path writes it."""
        return segment(self.action)

    def multi(self) -> frozenset[str]:
        names = {f.name for f in self.fields if f.kind == "checkboxes"}
        if self.household:
            names.add("assets.vehicles")
        return frozenset(names)

    def split(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.kind == "staff")

    def lines(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.kind == "lines")


YES_NO: Options = [("true", "是"), ("false", "否")]
OPINIONS: Options = [(Opinion.APPROVE.value, "同意"), (Opinion.REJECT.value, "不同意")]
DECISIONS: Options = [(Opinion.APPROVE.value, "批准"), (Opinion.REJECT.value, "不予批准")]
CATEGORY: Options = [(c.value, f"{c.value} 类") for c in HouseholdCategory]
CIRCUMSTANCE_ZH = {
    CircumstanceKind.DEATH_OF_ONLY_MEMBER: "唯一成员死亡（停发）",
    CircumstanceKind.MOVED_AWAY: "全家迁出（停发）",
    CircumstanceKind.INCOME_CHANGE: "家庭收入变化（需复核）",
    CircumstanceKind.MEMBERS_CHANGE: "家庭人口变化（需复核）",
}
HOUSEHOLD_EVENT_ZH = {
    HouseholdEvent.BIRTH: "出生（成员增加）",
    HouseholdEvent.MARRIAGE_IN: "婚入（成员增加）",
    HouseholdEvent.MOVE_IN: "迁入（成员增加）",
    HouseholdEvent.DEATH: "死亡（成员减少）",
    HouseholdEvent.MARRIAGE_OUT: "婚出（成员减少）",
    HouseholdEvent.MOVE_OUT: "迁出（成员减少）",
    HouseholdEvent.HEAD_CHANGE: "户主变更",
}
SUCCESSOR_ZH = {
    Successor.SAME_CASE: "在本案件中变更户主",
    Successor.NEW_CASE: "停旧建新：本案停发，另立新案接续发放",
}
EXCLUSION_ZH = {
    ExclusionFlag.RELATIVE_IN_PUBLIC_SECTOR: "直系亲属在机关事业单位、大型企业工作",
    ExclusionFlag.MOVED_AWAY_LONG_TERM: "户口迁出或长期外出居住",
    ExclusionFlag.LAND_COMPENSATION: "已获征地拆迁补偿",
    ExclusionFlag.BOUGHT_URBAN_HOUSING: "农村家庭在城镇购房",
    ExclusionFlag.CHILD_PRIVATE_SCHOOL_OR_ABROAD: "子女自费择校或出国留学",
    ExclusionFlag.GRADUATE_EMPLOYED: "毕业生已就业或缴纳住房公积金",
    ExclusionFlag.DECEASED_MEMBER_INCLUDED: "死亡人员仍在保障名单",
    ExclusionFlag.ADDRESS_CHANGE_UNREPORTED: "变更住址不告知",
}
# Documents handed in; the two signed ones are ticked as signed, not listed.
DOCUMENTS: Options = [(m.value, labels.MATERIAL[m]) for m in Material if m not in SIGNED_MATERIALS]
SIGNED: tuple[Field, ...] = (
    Field("declaration_signed", "家庭收入财产声明及如实申报承诺书已签字", "checkbox"),
    Field("verification_authorised", "家庭经济状况核查授权书已由家庭成员签字", "checkbox"),
)
PAYEE_FIELDS: tuple[Field, ...] = (
    Field("account_holder", "开户人", required=True, hint="本户成员的姓名；否则勾选“代领”"),
    Field("bank", "开户行", required=True),
    Field("account_no", "账号", required=True, hint="12 至 30 位数字"),
    Field("agent", "代领（开户人不是本户成员）", "checkbox"),
    Field("agent_reason", "代领原因"),
)
SURVEY_FIELDS: tuple[Field, ...] = (
    Field(
        "investigators", "调查人员（用户名）", "staff", required=True, hint="至少两人，用空格分开"
    ),
    Field("surveyed_on", "调查日期", "date", required=True),
    Field("living_conditions", "生活状况（入户所见）", "textarea", required=True),
    Field("neighbour_visits.0.neighbour", "走访邻里（一）：被访人"),
    Field("neighbour_visits.0.summary", "走访邻里（一）：反映情况", "textarea"),
    Field("neighbour_visits.1.neighbour", "走访邻里（二）：被访人"),
    Field("neighbour_visits.1.summary", "走访邻里（二）：反映情况", "textarea"),
    Field("attachments", "附件（每行一个文件名或档案号）", "lines"),
    Field(
        "exclusion_flags",
        "查实的必取必退情形",
        "checkboxes",
        options=[(k.value, v) for k, v in EXCLUSION_ZH.items()],
    ),
    Field("family_member_signed", "家庭成员已在调查表上签字", "checkbox"),
)

FORMS: dict[str, ActionForm] = {
    f.key: f
    for f in (
        ActionForm(
            "补齐材料",
            SupplementIn,
            CaseWorkflow.supplement_materials,
            Action.MATERIALS,
            (Field("materials", "补交的材料", "checkboxes", options=DOCUMENTS), *SIGNED),
        ),
        ActionForm(
            "入户调查",
            SurveyIn,
            CaseWorkflow.submit_survey,
            Action.SURVEY,
            SURVEY_FIELDS,
            household=True,
        ),
        ActionForm(
            # mca-2021 Art. 18: the family's answer to the verification findings.
            "登记核对异议证明材料",
            EvidenceIn,
            CaseWorkflow.submit_evidence,
            Action.EVIDENCE,
            (
                Field("received_on", "收到材料日期", "date", required=True),
                Field("summary", "申请人提供的证明材料", "textarea", required=True),
                Field(
                    "effect",
                    "处理",
                    "radio",
                    [(k.value, v) for k, v in EVIDENCE_EFFECT_ZH.items()],
                    required=True,
                ),
            ),
        ),
        ActionForm(
            "民主评议",
            EvaluationIn,
            CaseWorkflow.submit_evaluation,
            Action.EVALUATION,
            (
                Field("held_on", "评议日期", "date", required=True),
                Field("attendees", "到会人数", "number", required=True),
                Field("composition.township_staff", "其中：乡镇工作人员", "number"),
                Field("composition.village_committee", "其中：村（居）委会成员", "number"),
                Field("composition.group_leaders", "其中：村民小组长", "number"),
                Field("composition.villager_representatives", "其中：村民代表", "number"),
                Field("votes_for", "同意票", "number", required=True),
                Field("votes_against", "反对票", "number", required=True),
                Field("votes_abstain", "弃权票", "number", required=True),
                Field("notes", "评议情况", "textarea"),
            ),
        ),
        ActionForm(
            "登记公示异议",
            ObjectionIn,
            CaseWorkflow.raise_objection,
            Action.OBJECTION,
            (
                Field("summary", "异议内容", "textarea", required=True),
                Field("objector_name", "异议人姓名（保密，不进入流程记录）"),
                Field("objector_contact", "联系方式（保密）"),
            ),
        ),
        ActionForm(
            "乡镇审核",
            TownshipReviewIn,
            CaseWorkflow.submit_township_review,
            Action.TOWNSHIP_REVIEW,
            (
                Field("opinion", "审核意见", "radio", OPINIONS, required=True),
                Field("reasons", "理由（每行一条）", "lines", hint="不同意时必填"),
                Field("proposed_amount", "建议月保障金额（元）", "money", hint="不填则按测算金额"),
            ),
        ),
        ActionForm(
            "县级入户核查",
            CountyVisitIn,
            CaseWorkflow.submit_county_visit,
            Action.COUNTY_VISIT,
            (
                Field("visited_on", "核查日期", "date", required=True),
                Field("visitors", "入户人员（用户名）", "staff", required=True, hint="用空格分开"),
                Field("findings", "核查情况", "textarea", required=True),
            ),
        ),
        ActionForm(
            "县级审批",
            CountyDecisionIn,
            CaseWorkflow.submit_county_decision,
            Action.COUNTY_DECISION,
            (
                Field("opinion", "审批决定", "radio", DECISIONS, required=True),
                Field("category", "类别", "select", CATEGORY, hint="不选则按评定结果"),
                Field("monthly_amount", "月保障金额（元）", "money", hint="不填则按测算金额"),
                Field("override_reason", "调整理由", "textarea", hint="金额或类别与测算不同时必填"),
                Field(
                    "reasons", "不予批准的理由（每行一条）", "lines", hint="不填则按未通过的规则"
                ),
            ),
        ),
        ActionForm(
            "延长办理时限",
            ExtendDeadlineIn,
            CaseWorkflow.extend_deadline,
            Action.EXTEND_DEADLINE,
            (Field("reason", "延长的特殊情况", "textarea", required=True),),
        ),
        ActionForm(
            "撤回申请",
            WithdrawIn,
            CaseWorkflow.withdraw,
            Action.WITHDRAW,
            (Field("reason", "申请人撤回的理由", "textarea", required=True),),
            danger=True,
        ),
        ActionForm(
            "终止办理",
            TerminateIn,
            CaseWorkflow.terminate,
            Action.TERMINATE,
            (Field("reason", "终止理由（写入通知书）", "textarea", required=True),),
            danger=True,
        ),
        ActionForm(
            "复核调查",
            ReviewIn,
            CaseWorkflow.submit_review,
            Action.REVIEW,
            SURVEY_FIELDS,
            household=True,
        ),
        ActionForm(
            "月度签到",
            SignInIn,
            CaseWorkflow.report_sign_in,
            Action.SIGN_IN,
            (
                Field("month", "月份", "month", required=True, hint="年-月，如 2026-11"),
                Field("done", "是否签到", "radio", [("true", "已签到"), ("false", "未签到")], True),
            ),
        ),
        ActionForm(
            "公益劳动缺勤",
            LabourAbsenceIn,
            CaseWorkflow.report_labour_absence,
            Action.LABOUR_ABSENCE,
            (
                Field("on", "缺勤日期", "date", required=True),
                Field("justified", "是否有正当理由", "radio", YES_NO, required=True),
                Field("note", "说明", "textarea"),
            ),
        ),
        ActionForm(
            "家庭情况变化",
            CircumstanceIn,
            CaseWorkflow.report_circumstance,
            Action.CIRCUMSTANCE,
            (
                Field(
                    "kind",
                    "变化类型",
                    "select",
                    [(k.value, v) for k, v in CIRCUMSTANCE_ZH.items()],
                    required=True,
                ),
                Field("details", "具体情况（写入通知书）", "textarea", required=True),
            ),
        ),
        ActionForm(
            "家庭人口变化",
            HouseholdChangeIn,
            CaseWorkflow.report_household_change,
            Action.HOUSEHOLD_CHANGE,
            (
                Field(
                    "event",
                    "变化类型",
                    "select",
                    [(k.value, v) for k, v in HOUSEHOLD_EVENT_ZH.items()],
                    required=True,
                ),
                Field("on", "发生日期", "date", required=True),
                Field("member_id_number", "减少的成员", "members", hint="成员减少时选择"),
                Field("joining.name", "增加成员的姓名", hint="成员增加时填写"),
                Field("joining.id_number", "增加成员的身份证号"),
                Field(
                    "joining.relation",
                    "增加成员与户主关系",
                    "select",
                    [(r.value, labels.RELATION[r]) for r in Relation if r is not Relation.HEAD],
                ),
                Field(
                    "new_head_id_number",
                    "新户主",
                    "members",
                    hint="户主死亡、迁出或变更时选择",
                ),
                Field(
                    "successor",
                    "户主变更方式",
                    "select",
                    [(k.value, v) for k, v in SUCCESSOR_ZH.items()],
                    hint="不选即在本案件中变更户主",
                ),
                Field("details", "具体情况", "textarea"),
            ),
        ),
        ActionForm(
            "就业渐退",
            ReemploymentIn,
            CaseWorkflow.report_reemployment,
            Action.REEMPLOYMENT,
            (
                Field("member_id_number", "就业的家庭成员", "members", required=True),
                Field("monthly_wage", "月工资（元）", "money", required=True),
                Field("started_on", "就业日期", "date", required=True),
            ),
        ),
        ActionForm(
            "拒绝就业",
            WorkRefusalIn,
            CaseWorkflow.report_work_refusal,
            Action.WORK_REFUSAL,
            (
                Field("member_id_number", "家庭成员", "members", required=True),
                Field("on", "日期", "date", required=True),
                Field("justified", "是否有正当理由", "radio", YES_NO, required=True),
                Field("note", "说明", "textarea"),
            ),
        ),
        ActionForm(
            "代发账户",
            PayeeChangeIn,
            CaseWorkflow.change_payee,
            Action.PAYEE,
            PAYEE_FIELDS,
        ),
    )
}

_POSTINGS = {
    Stage.POSTING_BEFORE_REVIEW,
    Stage.POSTING_BEFORE_APPROVAL,
    Stage.POSTING_AFTER_APPROVAL,
}


def _procedure(case: CaseOut) -> dict[str, Any]:
    return case.procedure or {}


def _posting_open(case: CaseOut) -> bool:
    postings = _procedure(case).get("postings") or []
    return case.stage in _POSTINGS and bool(postings) and postings[-1].get("outcome") == "open"


def _receiving(case: CaseOut) -> bool:
    return (
        case.stage is Stage.RECIPIENT
        and case.status is CaseStatus.RECEIVING
        and case.recipient is not None
    )


def _decidable(case: CaseOut) -> bool:
    p = _procedure(case)
    visit_done = not p.get("county_visit_required") or p.get("county_visit") is not None
    return case.stage is Stage.COUNTY_APPROVAL and p.get("decision") is None and visit_done


def _withdrawable(case: CaseOut) -> bool:
    return (
        case.status.is_open
        and case.stage not in {Stage.RECIPIENT, Stage.CLOSED}
        and _procedure(case).get("entitlement") is None
    )


# When each form applies, as the workflow's validators check it.
_WHEN: dict[Action, Callable[[CaseOut], bool]] = {
    Action.MATERIALS: lambda c: c.stage is Stage.APPLICATION and bool(c.missing_materials),
    Action.SURVEY: lambda c: c.stage is Stage.SURVEY and _procedure(c).get("survey") is None,
    Action.EVALUATION: lambda c: c.stage is Stage.EVALUATION,
    Action.OBJECTION: _posting_open,
    Action.EVIDENCE: lambda c: c.stage is Stage.EVIDENCE,
    Action.TOWNSHIP_REVIEW: lambda c: c.stage is Stage.TOWNSHIP_REVIEW,
    Action.COUNTY_VISIT: lambda c: (
        c.stage is Stage.COUNTY_APPROVAL
        and bool(_procedure(c).get("county_visit_required"))
        and _procedure(c).get("county_visit") is None
    ),
    Action.COUNTY_DECISION: _decidable,
    Action.EXTEND_DEADLINE: lambda c: (
        _withdrawable(c)
        and c.procedure_deadline is not None
        and c.procedure_deadline.extension_reason is None
        and _procedure(c).get("decision") is None
    ),
    Action.WITHDRAW: _withdrawable,
    Action.TERMINATE: _withdrawable,
    Action.REVIEW: lambda c: _receiving(c) and c.review_due,
    Action.SIGN_IN: _receiving,
    Action.LABOUR_ABSENCE: _receiving,
    Action.CIRCUMSTANCE: _receiving,
    Action.HOUSEHOLD_CHANGE: lambda c: _receiving(c) and not c.links.continued_by,
    Action.REEMPLOYMENT: lambda c: (
        _receiving(c) and not (c.recipient or {}).get("gradual_exit_until")
    ),
    Action.WORK_REFUSAL: _receiving,
    Action.PAYEE: lambda c: c.status.is_open and c.stage is not Stage.CLOSED,
}


def applies(form: ActionForm, case: CaseOut) -> bool:
    """Whether the case is where the form's action can be taken now."""
    return _WHEN[form.action](case)
