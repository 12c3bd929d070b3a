"""Request bodies of the procedure's caseworker actions, and their conversion to domain messages."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from api.fields import IdNumber, IsoDate, Line, ReasonItem, Reference, StaffId, Text
from api.schemas import AssetsIn, IncomeIn, MemberIn, Strict, Yuan, to_fen
from dibao.domain.eligibility import HouseholdCategory
from dibao.domain.enums import Opinion
from dibao.domain.recipient import CircumstanceKind
from dibao.domain.survey import ExclusionFlag, NeighbourVisit, SurveyReport
from dibao.messages.case import (
    Actor,
    EvaluationComposition,
    ExtendDeadline,
    ReportCircumstance,
    ReportLabourAbsence,
    ReportReemployment,
    ReportSignIn,
    ReportWorkRefusal,
    Terminate,
)
from dibao.messages.case import SubmitCountyDecision as CountyDecisionMsg
from dibao.messages.case import SubmitCountyVisit as CountyVisitMsg
from dibao.messages.case import SubmitEvaluation as EvaluationMsg
from dibao.messages.case import SubmitSurvey as SurveyMsg
from dibao.messages.case import SubmitTownshipReview as TownshipMsg


class NeighbourVisitIn(Strict):
    neighbour: Line = Field(min_length=1, max_length=100, examples=["东邻 刘某"])
    summary: Text = Field(min_length=1, max_length=1000, examples=["反映该户情况属实"])


class SurveyIn(Strict):
    investigators: list[StaffId] = Field(
        min_length=1,
        max_length=10,
        examples=[["zhang.wei", "zhao.min"]],
        description="staff IDs of everyone who took part; at least two different people",
    )
    surveyed_on: IsoDate
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    incomes: list[IncomeIn] = Field(default_factory=list, max_length=100)
    assets: AssetsIn = Field(default_factory=AssetsIn)
    living_conditions: Text = Field(min_length=1, max_length=4000)
    neighbour_visits: list[NeighbourVisitIn] = Field(default_factory=list, max_length=20)
    attachments: list[Reference] = Field(default_factory=list, max_length=50)
    family_member_signed: bool = False
    exclusion_flags: list[ExclusionFlag] = Field(default_factory=list, max_length=20)

    def to_message(self, request_id: str, actor: Actor) -> SurveyMsg:
        return SurveyMsg(
            request_id=request_id,
            actor=actor,
            report=SurveyReport(
                investigators=tuple(self.investigators),
                surveyed_on=self.surveyed_on.isoformat(),
                members=tuple(m.to_domain() for m in self.members),
                incomes=tuple(i.to_domain() for i in self.incomes),
                assets=self.assets.to_domain(),
                living_conditions=self.living_conditions,
                neighbour_visits=tuple(
                    NeighbourVisit(neighbour=v.neighbour, summary=v.summary)
                    for v in self.neighbour_visits
                ),
                attachments=tuple(self.attachments),
                family_member_signed=self.family_member_signed,
                exclusion_flags=tuple(dict.fromkeys(self.exclusion_flags)),
            ),
        )


class CompositionIn(Strict):
    township_staff: int = Field(default=0, ge=0, le=1000)
    village_committee: int = Field(default=0, ge=0, le=1000)
    group_leaders: int = Field(default=0, ge=0, le=1000)
    villager_representatives: int = Field(default=0, ge=0, le=1000)


class EvaluationIn(Strict):
    held_on: IsoDate
    attendees: int = Field(ge=0, le=5000)
    composition: CompositionIn
    votes_for: int = Field(ge=0, le=5000)
    votes_against: int = Field(ge=0, le=5000)
    votes_abstain: int = Field(ge=0, le=5000)
    notes: Text = Field(default="", max_length=4000)

    def to_message(self, request_id: str, actor: Actor) -> EvaluationMsg:
        return EvaluationMsg(
            request_id=request_id,
            actor=actor,
            held_on=self.held_on.isoformat(),
            attendees=self.attendees,
            composition=EvaluationComposition(**self.composition.model_dump()),
            votes_for=self.votes_for,
            votes_against=self.votes_against,
            votes_abstain=self.votes_abstain,
            notes=self.notes,
        )


class ObjectionIn(Strict):
    summary: Text = Field(min_length=1, max_length=4000, examples=["该户家中有小轿车一辆"])
    objector_name: Line = Field(default="", max_length=50, description="kept private")
    objector_contact: Line = Field(default="", max_length=100, description="kept private")


class TownshipReviewIn(Strict):
    opinion: Opinion
    reasons: list[ReasonItem] = Field(default_factory=list, max_length=20)
    proposed_amount: Yuan | None = None

    def to_message(self, request_id: str, actor: Actor) -> TownshipMsg:
        return TownshipMsg(
            request_id=request_id,
            actor=actor,
            opinion=self.opinion,
            reasons=tuple(r for r in self.reasons if r),
            proposed_amount_fen=None
            if self.proposed_amount is None
            else to_fen(self.proposed_amount),
        )


class CountyVisitIn(Strict):
    visited_on: IsoDate
    visitors: list[StaffId] = Field(min_length=1, max_length=10)
    findings: Text = Field(min_length=1, max_length=4000)

    def to_message(self, request_id: str, actor: Actor) -> CountyVisitMsg:
        return CountyVisitMsg(
            request_id=request_id,
            actor=actor,
            visited_on=self.visited_on.isoformat(),
            visitors=tuple(self.visitors),
            findings=self.findings,
        )


class CountyDecisionIn(Strict):
    opinion: Opinion
    category: HouseholdCategory | None = None
    monthly_amount: Yuan | None = Field(
        default=None, description="yuan per month for the household; default: the computed amount"
    )
    override_reason: Text = Field(default="", max_length=2000)
    reasons: list[ReasonItem] = Field(default_factory=list, max_length=20)

    def to_message(self, request_id: str, actor: Actor) -> CountyDecisionMsg:
        return CountyDecisionMsg(
            request_id=request_id,
            actor=actor,
            opinion=self.opinion,
            category=self.category,
            monthly_amount_fen=None
            if self.monthly_amount is None
            else to_fen(Decimal(self.monthly_amount)),
            override_reason=self.override_reason,
            reasons=tuple(r for r in self.reasons if r),
        )


class TerminateIn(Strict):
    reason: Text = Field(min_length=1, max_length=1000, examples=["申请人拒不配合入户调查"])

    def to_message(self, request_id: str, actor: Actor) -> Terminate:
        return Terminate(request_id=request_id, actor=actor, reason=self.reason)


class ExtendDeadlineIn(Strict):
    reason: Text = Field(
        min_length=1, max_length=1000, examples=["申请人外出务工，异地家庭经济状况核对需时较长"]
    )

    def to_message(self, request_id: str, actor: Actor) -> ExtendDeadline:
        return ExtendDeadline(request_id=request_id, actor=actor, reason=self.reason)


class StaffRelativeIn(Strict):
    staff_role: Line = Field(min_length=1, max_length=40, examples=["village_caseworker"])
    relative_name: Line = Field(min_length=1, max_length=50)
    relative_id_number: IdNumber
    relation: Line = Field(min_length=1, max_length=40, examples=["父母", "配偶", "子女"])


class ReviewIn(SurveyIn):
    """A re-review (复核) survey: the same record as the first household survey."""


class SignInIn(Strict):
    month: Line = Field(max_length=7, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])
    done: bool

    def to_message(self, request_id: str, actor: Actor) -> ReportSignIn:
        return ReportSignIn(request_id=request_id, actor=actor, month=self.month, done=self.done)


class LabourAbsenceIn(Strict):
    on: IsoDate
    justified: bool
    note: Text = Field(default="", max_length=1000)

    def to_message(self, request_id: str, actor: Actor) -> ReportLabourAbsence:
        return ReportLabourAbsence(
            request_id=request_id,
            actor=actor,
            on=self.on.isoformat(),
            justified=self.justified,
            note=self.note,
        )


class CircumstanceIn(Strict):
    kind: CircumstanceKind
    details: Text = Field(min_length=1, max_length=2000, examples=["户主于2026年11月去世"])

    def to_message(self, request_id: str, actor: Actor) -> ReportCircumstance:
        return ReportCircumstance(
            request_id=request_id, actor=actor, kind=self.kind, details=self.details
        )


class ReemploymentIn(Strict):
    member_id_number: IdNumber
    monthly_wage: Yuan = Field(gt=0, description="yuan per month")
    started_on: IsoDate

    def to_message(self, request_id: str, actor: Actor) -> ReportReemployment:
        return ReportReemployment(
            request_id=request_id,
            actor=actor,
            member_id_number=self.member_id_number.upper(),
            monthly_wage_fen=to_fen(self.monthly_wage),
            started_on=self.started_on.isoformat(),
        )


class WorkRefusalIn(Strict):
    member_id_number: IdNumber
    on: IsoDate
    justified: bool
    note: Text = Field(default="", max_length=1000)

    def to_message(self, request_id: str, actor: Actor) -> ReportWorkRefusal:
        return ReportWorkRefusal(
            request_id=request_id,
            actor=actor,
            member_id_number=self.member_id_number.upper(),
            on=self.on.isoformat(),
            justified=self.justified,
            note=self.note,
        )
