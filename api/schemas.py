"""Request and response bodies. Unknown fields are rejected: nothing submitted is silently dropped."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi.encoders import jsonable_encoder
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from api.fields import Line, Text
from dibao.domain.application import (
    Application,
    Assets,
    Hukou,
    IncomeItem,
    Member,
    Payee,
    Proxy,
    RigidExpense,
    SupportObligor,
)
from dibao.domain.enums import (
    AreaType,
    CaseStatus,
    DisabilityKind,
    IncomeCategory,
    Material,
    NoticeKind,
    ProxyKind,
    Relation,
    RigidExpenseKind,
    Stage,
    VehicleKind,
)
from dibao.domain.materials import SIGNED_MATERIALS
from dibao.domain.measures import proxy_label
from dibao.domain.money import format_yuan
from dibao.messages.case import Actor, CaseView, ChangePayee, SupplementMaterials, Withdraw

Yuan = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def to_fen(amount: Decimal) -> int:
    return int(amount * 100)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_signed_documents(materials: list[Material]) -> list[Material]:
    listed = [m.value for m in materials if m in SIGNED_MATERIALS]
    if listed:
        raise ValueError(
            f"{', '.join(listed)} is provided by signing it: set declaration_signed / "
            "verification_authorised instead of listing it"
        )
    return materials


DocumentList = Annotated[list[Material], Field(max_length=20), AfterValidator(_no_signed_documents)]


class MemberIn(Strict):
    name: Line = Field(min_length=1, max_length=50, examples=["王秀英"])
    id_number: Line = Field(
        min_length=18,
        max_length=18,
        description="18-digit resident ID number (check digit verified)",
    )
    relation: Relation
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    major_illness: bool = False
    chronic_illness: bool = False
    able_to_work: bool = False
    disability_kind: DisabilityKind | None = Field(
        default=None, description="kind on the disability certificate (Art. 8: grade 3 mental)"
    )
    hukou_county_code: Line = Field(
        default="",
        pattern=r"^([0-9]{6})?$",
        description="the member's own hukou county when not the application's (Art. 5)",
    )
    lives_at_hukou: bool = Field(
        default=True, description="the member's usual residence is at their own hukou (Art. 5)"
    )

    def to_domain(self) -> Member:
        return Member(
            name=self.name,
            id_number=self.id_number.upper(),
            relation=self.relation,
            disability_grade=self.disability_grade,
            major_illness=self.major_illness,
            chronic_illness=self.chronic_illness,
            able_to_work=self.able_to_work,
            disability_kind=self.disability_kind,
            hukou_county_code=self.hukou_county_code,
            lives_at_hukou=self.lives_at_hukou,
        )


class HukouIn(Strict):
    province_code: Line = Field(max_length=2, examples=["61"])
    county_code: Line = Field(max_length=6, examples=["610102"])
    township_code: Line = Field(max_length=9, examples=["610102001"])
    village_code: Line = Field(max_length=12, examples=["610102001001"])
    address: Line = Field(default="", max_length=200)


class IncomeIn(Strict):
    category: IncomeCategory
    monthly_amount: Yuan = Field(description="yuan per month, average over the last 12 months")

    def to_domain(self) -> IncomeItem:
        return IncomeItem(category=self.category, monthly_fen=to_fen(self.monthly_amount))


class AssetsIn(Strict):
    deposits: Yuan = Decimal(0)
    securities: Yuan = Decimal(0)
    other_financial: Yuan = Field(
        default=Decimal(0),
        description="funds, commercial insurance (cash value), claims, internet financial "
        "assets (mca-2021 Art. 14); counted with deposits against the limit",
    )
    vehicles: list[VehicleKind] = Field(default_factory=list, max_length=20)
    homes: int = Field(default=0, ge=0, le=100)
    shop_or_business_assets: bool = False
    business_licence: bool = False
    receives_pension: bool = False

    def to_domain(self) -> Assets:
        return Assets(
            deposits_fen=to_fen(self.deposits),
            securities_fen=to_fen(self.securities),
            other_financial_fen=to_fen(self.other_financial),
            vehicles=tuple(self.vehicles),
            homes=self.homes,
            shop_or_business_assets=self.shop_or_business_assets,
            business_licence=self.business_licence,
            receives_pension=self.receives_pension,
        )


class RigidExpenseIn(Strict):
    """A cost a disability or serious illness adds (刚性支出, mca-2021 Art. 13); deducted only
    with the receipts (material rigid_expense_receipts) and the condition on file."""

    member_id_number: Line = Field(min_length=18, max_length=18)
    kind: RigidExpenseKind
    monthly_amount: Yuan = Field(description="yuan per month, average over the last 12 months")
    description: Line = Field(default="", max_length=200, examples=["康复护理"])

    def to_domain(self) -> RigidExpense:
        return RigidExpense(
            member_id_number=self.member_id_number.upper(),
            kind=self.kind,
            monthly_fen=to_fen(self.monthly_amount),
            description=self.description,
        )


class SupportObligorIn(Strict):
    """A relative outside the household legally obliged to support a member (赡养费, Art. 13)."""

    name: Line = Field(min_length=1, max_length=50)
    relation: Line = Field(min_length=1, max_length=20, examples=["女儿"])
    agreed_monthly_amount: Yuan = Field(
        default=Decimal(0), description="agreed, ordered by a court, or paid; yuan per month"
    )
    family_monthly_income: Yuan | None = Field(
        default=None, description="the obligor's family's income, for a capacity rule"
    )
    family_size: int | None = Field(default=None, ge=1, le=30)

    def to_domain(self) -> SupportObligor:
        income = self.family_monthly_income
        return SupportObligor(
            name=self.name,
            relation=self.relation,
            agreed_fen_month=to_fen(self.agreed_monthly_amount),
            family_income_fen_month=to_fen(income) if income is not None else None,
            family_size=self.family_size,
        )


class ProxyIn(Strict):
    """Who applies under a written mandate (委托申请, Art. 6; material proxy_mandate)."""

    kind: ProxyKind
    name: Line = Field(min_length=1, max_length=100)
    reason: Line = Field(min_length=1, max_length=200, examples=["户主卧病在床"])

    def to_domain(self) -> Proxy:
        return Proxy(kind=self.kind, name=self.name, reason=self.reason)


class PayeeIn(Strict):
    account_holder: Line = Field(min_length=1, max_length=50, examples=["王秀英"])
    bank: Line = Field(min_length=1, max_length=100, examples=["陕西信合示例县支行"])
    account_no: Line = Field(
        max_length=30, pattern=r"^[0-9]{12,30}$", examples=["6228480000000000017"]
    )
    agent: bool = Field(
        default=False,
        description="the holder is no member of the household but collects for it (代领人)",
    )
    agent_reason: Line = Field(
        default="", max_length=200, description="why an agent collects; required with agent"
    )

    def to_domain(self) -> Payee:
        return Payee(
            account_holder=self.account_holder,
            bank=self.bank,
            account_no=self.account_no,
            agent=self.agent,
            agent_reason=self.agent_reason,
        )


class PayeeChangeIn(PayeeIn):
    def to_message(self, request_id: str, actor: Actor) -> ChangePayee:
        return ChangePayee(request_id=request_id, actor=actor, payee=self.to_domain())


class ApplicationIn(Strict):
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    hukou: HukouIn
    area_type: AreaType
    incomes: list[IncomeIn] = Field(default_factory=list, max_length=100)
    assets: AssetsIn = Field(default_factory=AssetsIn)
    materials: DocumentList = Field(default_factory=list)
    declaration_signed: bool = False
    verification_authorised: bool = False
    phone: Line = Field(default="", max_length=20, pattern=r"^[0-9+\- ]*$")
    payee: PayeeIn | None = Field(
        default=None, description="the account the benefit is paid into; may be given later"
    )
    rigid_expenses: list[RigidExpenseIn] = Field(default_factory=list, max_length=30)
    support_obligors: list[SupportObligorIn] = Field(default_factory=list, max_length=30)
    proxy: ProxyIn | None = None
    residence_permit: bool = Field(
        default=False,
        description="applies where they live with a residence permit, if the pack allows it",
    )

    def to_domain(self) -> Application:
        return Application(
            members=tuple(m.to_domain() for m in self.members),
            hukou=Hukou(**self.hukou.model_dump()),
            area_type=self.area_type,
            incomes=tuple(i.to_domain() for i in self.incomes),
            assets=self.assets.to_domain(),
            materials=tuple(dict.fromkeys(self.materials)),
            declaration_signed=self.declaration_signed,
            verification_authorised=self.verification_authorised,
            phone=self.phone,
            payee=self.payee.to_domain() if self.payee else None,
            rigid_expenses=tuple(r.to_domain() for r in self.rigid_expenses),
            support_obligors=tuple(o.to_domain() for o in self.support_obligors),
            proxy=self.proxy.to_domain() if self.proxy else None,
            residence_permit=self.residence_permit,
        )


class SupplementIn(Strict):
    materials: DocumentList = Field(default_factory=list)
    declaration_signed: bool = False
    verification_authorised: bool = False

    def to_message(self, request_id: str, actor: Actor) -> SupplementMaterials:
        return SupplementMaterials(
            request_id=request_id,
            actor=actor,
            materials=tuple(dict.fromkeys(self.materials)),
            declaration_signed=self.declaration_signed,
            verification_authorised=self.verification_authorised,
        )


class WithdrawIn(Strict):
    reason: Text = Field(min_length=1, max_length=500, examples=["家庭收入已提高，申请人自愿撤回"])

    def to_message(self, request_id: str, actor: Actor) -> Withdraw:
        return Withdraw(request_id=request_id, actor=actor, reason=self.reason)


class NoticeOut(BaseModel):
    notice_id: str
    kind: NoticeKind
    content_sha256: str
    url: str


class ProcedureDeadlineOut(BaseModel):
    """The whole procedure's limit, acceptance to decision (mca-2021 Art. 22)."""

    working_days: int | None = Field(
        default=None, description="30, or 45 once the county extended it (the reason below)"
    )
    due_at: datetime
    due_warning: str | None = None
    extension_reason: str | None = None
    overdue_since: datetime | None = Field(
        default=None, description="when the limit passed with no decision (escalated)"
    )


class OfferedActionOut(BaseModel):
    """An action on the case, and whether the signed-in user may take it now."""

    action: str = Field(
        description="the action's key (dibao.domain.actions.Action), as in the role table"
    )
    allowed: bool
    reason: str = Field(
        default="", description="why not: the role, jurisdiction, recusal or stage; '' if allowed"
    )
    path: str | None = Field(
        default=None,
        description="where the action is posted (POST), derived from its key; null for ops' "
        "actions on a failed step (retry-step, skip-step, close-case)",
    )


class CaseLinksOut(BaseModel):
    """停旧建新: the case this one continues, and the case that continues it."""

    continues: str | None = Field(default=None, description="the old case this one continues")
    continued_by: str | None = Field(
        default=None, description="the new case that continues this household's payment"
    )
    from_month: str | None = Field(default=None, description="the new case pays from this month")


class CaseOut(BaseModel):
    case_id: str
    stage: Stage
    status: CaseStatus
    rule_pack: str
    filed_at: datetime
    stage_entered_at: datetime
    due_at: datetime | None
    due_warning: str | None
    missing_materials: list[Material]
    provided_materials: list[Material]
    notices: list[NoticeOut]
    withdrawal_reason: str | None = None
    recused_staff: list[str] = Field(default_factory=list)
    waiting_for: str = ""
    procedure: dict[str, Any] | None = Field(
        default=None,
        description="survey, verification, assessment, evaluation, opinions, postings, "
        "objections (without the objector's identity), decision and entitlement",
    )
    application: dict[str, Any] | None = None
    recipient: dict[str, Any] | None = Field(
        default=None, description="recipient phase: review cycle, next review, sign-ins"
    )
    review_due: bool = False
    overdue_since: datetime | None = Field(
        default=None, description="when the current stage's deadline passed (escalated)"
    )
    incidents: list[dict[str, Any]] = Field(
        default_factory=list,
        description="steps that gave up; the case waits until ops retry or skip them",
    )
    payee: dict[str, Any] | None = Field(
        default=None, description="the account the benefit is paid into (number masked)"
    )
    procedure_deadline: ProcedureDeadlineOut | None = Field(
        default=None,
        description="the whole procedure's time limit, where the rule pack sets one",
    )
    source: str = Field(
        description="'workflow' when read live from the case workflow; 'projection' when the "
        "workflow could not be queried and the stored projection was used"
    )
    actions: list[OfferedActionOut] = Field(
        default_factory=list,
        description="the actions the signed-in user may take on the case now, with the reason "
        "for each one not (GET /cases/{id} only)",
    )
    links: CaseLinksOut = Field(
        default_factory=CaseLinksOut,
        description="停旧建新: the linked old and new case of a household whose head left "
        "(GET /cases/{id} and POST /cases/{id}/household-change)",
    )

    # Filing answers once the case is saved and its workflow started, before the worker has
    # issued the first notice: these say where it will appear and whether it is there yet.
    @computed_field(  # type: ignore[prop-decorator]
        description="where the case's notices are listed as they are issued: "
        "GET it until `notice_status` is 'issued'"
    )
    @property
    def notices_url(self) -> str:
        return f"/cases/{self.case_id}/notices"

    @computed_field(  # type: ignore[prop-decorator]
        description="'pending' while the case has no notice yet (just filed: the worker is "
        "issuing the one-time notice or the acceptance notice), 'issued' once it has one"
    )
    @property
    def notice_status(self) -> Literal["pending", "issued"]:
        return "issued" if self.notices else "pending"

    @classmethod
    def from_view(cls, view: CaseView) -> CaseOut:
        return cls(
            case_id=view.case_id,
            stage=view.stage,
            status=view.status,
            rule_pack=f"{view.rule_pack_id}@{view.rule_pack_version}",
            filed_at=view.filed_at,
            stage_entered_at=view.stage_entered_at,
            due_at=view.due_at,
            due_warning=view.due_warning,
            missing_materials=list(view.missing_materials),
            provided_materials=list(view.provided_materials),
            notices=[
                NoticeOut(
                    notice_id=n.notice_id,
                    kind=n.kind,
                    content_sha256=n.content_sha256,
                    url=f"/notices/{n.notice_id}",
                )
                for n in view.notices
            ],
            withdrawal_reason=view.withdrawal_reason,
            recused_staff=list(view.procedure.recused_staff),
            waiting_for=view.procedure.waiting_for,
            procedure=procedure_out(view),
            application=application_out(view.application),
            recipient=jsonable_encoder(dataclasses.asdict(view.recipient))
            if view.recipient
            else None,
            review_due=view.review_due,
            overdue_since=view.overdue_since,
            payee=payee_out(view.payee) if view.payee else None,
            incidents=[jsonable_encoder(dataclasses.asdict(i)) for i in view.incidents],
            procedure_deadline=ProcedureDeadlineOut(
                working_days=view.procedure_working_days,
                due_at=view.procedure_due_at,
                due_warning=view.procedure_due_warning,
                extension_reason=view.procedure_extension_reason,
                overdue_since=view.procedure_overdue_since,
            )
            if view.procedure_due_at
            else None,
            source="workflow",
        )


def procedure_out(view: CaseView) -> dict[str, Any]:
    """The procedure's record as JSON; money also in yuan so people can read it."""
    out: dict[str, Any] = jsonable_encoder(dataclasses.asdict(view.procedure))
    assessment = view.procedure.assessment
    if assessment is not None:
        out["assessment"]["monthly_amount"] = format_yuan(assessment.monthly_amount_fen)
        out["assessment"]["eligible"] = assessment.eligible
        if assessment.standard is not None:
            out["assessment"]["standard"]["amount"] = format_yuan(assessment.standard.amount_fen)
        # Each deduction and exemption in words (mca-2021 Arts. 13–14), and 单人保 (Art. 8).
        for note in out["assessment"]["income_notes"]:
            note["amount"] = format_yuan(note["amount_fen"])
        out["assessment"]["covered_size"] = assessment.covered_size
    if view.procedure.entitlement is not None:
        amount = view.procedure.entitlement.monthly_amount_fen
        out["entitlement"]["monthly_amount"] = format_yuan(amount)
    return out


def application_out(app: Application) -> dict[str, Any]:
    return {
        "members": [
            {
                "name": m.name,
                "id_number": m.id_number,
                "relation": m.relation.value,
                "disability_grade": m.disability_grade,
                "major_illness": m.major_illness,
                "chronic_illness": m.chronic_illness,
                "able_to_work": m.able_to_work,
                "disability_kind": m.disability_kind.value if m.disability_kind else None,
                "hukou_county_code": m.hukou_county_code,
                "lives_at_hukou": m.lives_at_hukou,
            }
            for m in app.members
        ],
        "hukou": {
            "province_code": app.hukou.province_code,
            "county_code": app.hukou.county_code,
            "township_code": app.hukou.township_code,
            "village_code": app.hukou.village_code,
            "address": app.hukou.address,
        },
        "area_type": app.area_type.value,
        "incomes": [
            {"category": i.category.value, "monthly_amount": format_yuan(i.monthly_fen)}
            for i in app.incomes
        ],
        "assets": {
            "deposits": format_yuan(app.assets.deposits_fen),
            "securities": format_yuan(app.assets.securities_fen),
            "other_financial": format_yuan(app.assets.other_financial_fen),
            "vehicles": [v.value for v in app.assets.vehicles],
            "homes": app.assets.homes,
            "shop_or_business_assets": app.assets.shop_or_business_assets,
            "business_licence": app.assets.business_licence,
            "receives_pension": app.assets.receives_pension,
        },
        "materials": [m.value for m in app.materials],
        "declaration_signed": app.declaration_signed,
        "verification_authorised": app.verification_authorised,
        "phone": app.phone,
        "payee": payee_out(app.payee) if app.payee else None,
        "rigid_expenses": [
            {
                "member_id_number": r.member_id_number,
                "kind": r.kind.value,
                "monthly_amount": format_yuan(r.monthly_fen),
                "description": r.description,
            }
            for r in app.rigid_expenses
        ],
        "support_obligors": [
            {
                "name": o.name,
                "relation": o.relation,
                "agreed_monthly_amount": format_yuan(o.agreed_fen_month),
                "family_monthly_income": format_yuan(o.family_income_fen_month)
                if o.family_income_fen_month is not None
                else None,
                "family_size": o.family_size,
            }
            for o in app.support_obligors
        ],
        "proxy": {"kind": app.proxy.kind.value, "name": app.proxy.name, "reason": app.proxy.reason}
        if app.proxy
        else None,
        "proxy_label": proxy_label(app),
        "residence_permit": app.residence_permit,
    }


def payee_out(payee: Payee) -> dict[str, Any]:
    # The account number is shown masked: the bank file carries it whole, screens need not.
    return {
        "account_holder": payee.account_holder,
        "bank": payee.bank,
        "account_no": "*" * (len(payee.account_no) - 4) + payee.account_no[-4:],
        "agent": payee.agent,
        "agent_reason": payee.agent_reason,
    }


class CaseSummaryOut(BaseModel):
    case_id: str
    stage: Stage
    status: CaseStatus
    area_type: AreaType
    county_code: str
    township_code: str
    village_code: str
    filed_at: datetime
    stage_entered_at: datetime
    due_at: datetime | None
    due_warning: str | None


class CaseListOut(BaseModel):
    total: int = Field(description="matching cases, counted up to 1,000 (see total_capped)")
    total_capped: bool = Field(default=False, description="more cases match than `total`")
    limit: int
    offset: int
    next: str | None = Field(
        default=None, description="pass as `after=` for the next page; null on the last"
    )
    items: list[CaseSummaryOut]


class AuditOut(BaseModel):
    id: int
    step_key: str
    actor_id: str
    actor_role: str
    action: str
    payload_sha256: str
    at: datetime
    recorded_at: datetime


class StageEventOut(BaseModel):
    seq: int
    stage: Stage
    status: CaseStatus
    entered_at: datetime
    due_at: datetime | None
