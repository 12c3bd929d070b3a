"""Rule packs: versioned policy parameters chosen per jurisdiction (DOMAIN.md).

A case pins the pack (id and version, and a snapshot of its parameters in the workflow input),
so a later change of policy never changes the deadlines or rules of a case already running.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dibao.domain.enums import Stage, SupportRule
from dibao.domain.money import Rounding


class AmountMethod(StrEnum):
    DIFFERENCE = "difference"  # 差额: standard − per-capita income
    TIERED = "tiered"  # 分档: a share of the standard by household category


class PaymentStart(StrEnum):
    APPROVAL_MONTH = "approval_month"
    NEXT_MONTH = "next_month"  # mca-2021 Art. 21: 作出确认同意决定之日下月起


@dataclass(frozen=True)
class RulePack:
    id: str
    version: int
    title: str
    # The procedure: stages an application passes through after acceptance, in order.
    procedure: tuple[Stage, ...]
    posting_days: int
    # Working-day limits per stage; None where the pack sets none.
    survey_working_days: int | None
    verification_working_days: int | None
    township_review_working_days: int | None
    county_approval_working_days: int | None
    refusal_notice_working_days: int
    # Whole procedure from acceptance to decision (mca-2021 Art. 22: 30, or 45 with a reason).
    whole_procedure_working_days: int | None
    # Democratic evaluation: quorum, and whether it is held only after a posting objection.
    evaluation_quorum: int
    evaluation_only_on_objection: bool
    # Where an objection during a posting sends the case.
    objection_stage: Stage
    spot_check_share: float  # county home visits: at least this share of new applications
    # Money (fen). Urban standards are monthly, rural yearly (DOMAIN.md "Money"). These are
    # only the figures a county starts from: the standard in force for a month is the county's
    # dated data (table county_standards), so a standard change never needs a pack version.
    urban_standard_fen_month: int
    rural_standard_fen_year: int
    amount_method: AmountMethod
    tier_shares: tuple[tuple[str, float], ...]  # category → share of standard, for TIERED
    deposit_limit_fen: int  # deposits + securities at or above this exclude (必取必退)
    payment_start: PaymentStart
    gradual_exit_months: int
    # Training packs only: postings last this many seconds instead of `posting_days`, so staff
    # can practise the whole procedure in minutes. Refused for any other pack.
    posting_seconds: int | None = None
    # mca-2021 Art. 34: this many unjustified refusals of suitable work stop that member's own
    # portion; None where the pack has no such rule.
    work_refusals_to_stop_portion: int | None = None
    # Re-review cadence in months per household category (A stable … C changing).
    review_months: tuple[tuple[str, int], ...] = (("A", 12), ("B", 6), ("C", 3))
    # Amounts are computed exactly and rounded once, at the end, to the fen this way.
    amount_rounding: Rounding = Rounding.HALF_UP
    # Months a user gives (a standard change's month, a payroll period): none before the county
    # went live on the system, none further ahead of the current month than `months_ahead`.
    earliest_month: str = "2020-01"
    months_ahead: int = 24
    # A standard per person per month outside these bounds is a typing error, not a policy.
    standard_min_fen_month: int = 10_000  # 100 元
    standard_max_fen_month: int = 1_000_000  # 10,000 元
    # The whole-procedure limit the county may extend to, once, with a recorded reason
    # (mca-2021 Art. 22: 特殊情况下可以延长至45个工作日); None: no extension.
    whole_procedure_extended_working_days: int | None = None
    # 陕西 第十条(一): the township's limit counts from its receipt of the application (filing),
    # not from the case reaching the township review stage.
    township_review_from_receipt: bool = False
    # --- income as mca-2021 Arts. 13–14 count it (defaults: as before these rules existed, so
    # a pack stored without them decides as it did) ---
    # 必要的就业成本: deducted from each earner's wage, a fixed amount or a share (not both).
    employment_cost_fen_month: int = 0
    employment_cost_share: float = 0.0
    # 因残疾、患重病等增加的刚性支出 deducted, with its proof (Material.RIGID_EXPENSE_RECEIPTS).
    rigid_expenses_deducted: bool = False
    # 城乡居民基本养老保险基础养老金: counted as transfer income unless the pack leaves it out
    # ("十四五"期间不计入, Art. 13(三)).
    resident_pension_counted: bool = True
    # 003 必取必退: an employee pension or retirement pay excludes; Art. 13 counts it as income.
    pension_excludes: bool = True
    # 赡养费 per obligor (Art. 13(四)); CAPACITY counts at least `support_share` of what the
    # obligor's family earns above `support_base_multiplier` × the standard per person.
    support_rule: SupportRule = SupportRule.AGREED
    support_share: float = 0.0
    support_base_multiplier: float = 1.0
    # --- 单人保 (Art. 8): a member of a near-poor family (per-capita income below
    # multiplier × standard, no must-exclude fact) may be covered alone ---
    single_person_coverage: bool = False
    single_person_multiplier: float = 1.5
    # --- remedies (Arts. 21, 38): what an adverse notice tells the family ---
    # 行政复议机关: 行政复议法 (2023) 第二十四条 — the county government hears review of its
    # civil-affairs bureau's acts; a notice names the county in place of "县（市、区）".
    review_body: str = "县（市、区）人民政府"
    review_days: int = 60  # 行政复议法: 自知道之日起六十日内
    litigation_court: str = "有管辖权的人民法院"
    litigation_months: int = 6  # 行政诉讼法 第四十六条: 六个月内
    # --- gradual exit (Art. 33; 004 line 42): the caseworker is reminded this many days
    # before the period ends ---
    gradual_exit_reminder_days: int = 30
    # --- where one may apply (Art. 5): a residence-permit holder where they live ---
    residence_permit_applications: bool = False
    # --- Art. 2: the county may delegate approval to its townships: the approval stage's
    # roles, waiting role and notices' issuer become the township's (stages.stage_entry) ---
    approval_delegated: bool = False
    # --- Art. 18: working days a family has to answer a failed check with evidence (the
    # `evidence` stage's deadline; the measures set no number; this is a start a county
    # changes) ---
    evidence_working_days: int = 5
    # --- complaints and reports (Arts. 36–37; 000 篇3, 003): working days from receipt to the
    # written answer (anonymous: to closing). Art. 37 says only 及时 (promptly) and the seeds
    # give no number; 20 is the township's own limit for an application (001 陕西 第十条(一)),
    # a start a county changes by publishing a version. ---
    complaint_working_days: int = 20

    @property
    def posting_duration(self) -> timedelta:
        if self.posting_seconds is not None:
            return timedelta(seconds=self.posting_seconds)
        return timedelta(days=self.posting_days)

    def stage_working_days(self, stage: Stage) -> int | None:
        """Working days allowed for a stage, or None when the clock is not the office's: the
        parameter its entry in the stage table names."""
        from dibao.domain.stages import STAGES  # the table names fields of this class

        return STAGES[stage].working_days(self)

    def whole_procedure_limit(self, extended: bool) -> int | None:
        """Working days from acceptance to decision, or None where the pack sets no limit."""
        if extended and self.whole_procedure_extended_working_days is not None:
            return self.whole_procedure_extended_working_days
        return self.whole_procedure_working_days

    def stage_counted_from(
        self, stage: Stage, filed_at: datetime, entered_at: datetime
    ) -> datetime:
        """When a stage's working days start: on entering it, except where the pack counts
        from receipt of the application."""
        if stage is Stage.TOWNSHIP_REVIEW and self.township_review_from_receipt:
            return filed_at
        return entered_at

    def to_params(self) -> dict[str, Any]:
        """JSON-able parameters, as stored in the rule_packs table."""
        params = dataclasses.asdict(self)
        params["procedure"] = [s.value for s in self.procedure]
        params["objection_stage"] = self.objection_stage.value
        params["tier_shares"] = [list(t) for t in self.tier_shares]
        params["review_months"] = [list(t) for t in self.review_months]
        params["support_rule"] = self.support_rule.value
        return params

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RulePack:
        values = dict(params)
        values["procedure"] = tuple(Stage(s) for s in values["procedure"])
        values["objection_stage"] = Stage(values["objection_stage"])
        values["amount_method"] = AmountMethod(values["amount_method"])
        values["payment_start"] = PaymentStart(values["payment_start"])
        values["tier_shares"] = tuple((str(c), float(s)) for c, s in values["tier_shares"])
        if "amount_rounding" in values:
            values["amount_rounding"] = Rounding(values["amount_rounding"])
        if "support_rule" in values:
            values["support_rule"] = SupportRule(values["support_rule"])
        if "review_months" in values:
            values["review_months"] = tuple((str(c), int(m)) for c, m in values["review_months"])
        return cls(**values)


SEED_DEFAULT = RulePack(
    id="seed-default",
    version=1,
    title="三级会审、三榜公示（种子文件默认程序）",
    procedure=(
        Stage.SURVEY,
        Stage.VERIFICATION,
        Stage.EVALUATION,
        Stage.POSTING_BEFORE_REVIEW,
        Stage.TOWNSHIP_REVIEW,
        Stage.POSTING_BEFORE_APPROVAL,
        Stage.COUNTY_APPROVAL,
        Stage.POSTING_AFTER_APPROVAL,
    ),
    posting_days=7,
    # 陕西 第十条(一): the township forwards within 20 working days of the application; the
    # survey, verification and evaluation fall inside that window.
    survey_working_days=20,
    verification_working_days=None,
    township_review_working_days=20,
    county_approval_working_days=20,
    refusal_notice_working_days=3,
    whole_procedure_working_days=None,
    evaluation_quorum=20,
    evaluation_only_on_objection=False,
    objection_stage=Stage.SURVEY,
    spot_check_share=0.2,
    urban_standard_fen_month=53_000,  # 530 元/月 (001 篇七)
    rural_standard_fen_year=371_000,  # 3710 元/年 (001 篇七)
    amount_method=AmountMethod.DIFFERENCE,
    tier_shares=(("A", 1.0), ("B", 0.7), ("C", 0.4)),
    deposit_limit_fen=2_000_000,  # 20,000 元 (003)
    payment_start=PaymentStart.APPROVAL_MONTH,
    gradual_exit_months=3,
    township_review_from_receipt=True,
)

MCA_2021 = RulePack(
    id="mca-2021",
    version=1,
    title="民政部《最低生活保障审核确认办法》（2021）",
    procedure=(
        Stage.SURVEY,
        Stage.VERIFICATION,
        Stage.TOWNSHIP_REVIEW,
        Stage.POSTING_BEFORE_APPROVAL,
        Stage.COUNTY_APPROVAL,
        Stage.POSTING_AFTER_APPROVAL,
    ),
    posting_days=7,
    survey_working_days=3,  # Art. 15: start within 3 working days of acceptance
    verification_working_days=3,  # Art. 17
    township_review_working_days=20,
    county_approval_working_days=10,  # Art. 20
    refusal_notice_working_days=3,  # Art. 21
    whole_procedure_working_days=30,  # Art. 22
    whole_procedure_extended_working_days=45,  # Art. 22, special cases with a reason
    evaluation_quorum=20,
    evaluation_only_on_objection=True,  # Art. 19
    objection_stage=Stage.EVALUATION,
    spot_check_share=0.2,
    urban_standard_fen_month=53_000,
    rural_standard_fen_year=371_000,
    amount_method=AmountMethod.DIFFERENCE,
    tier_shares=(("A", 1.0), ("B", 0.7), ("C", 0.4)),
    deposit_limit_fen=2_000_000,
    payment_start=PaymentStart.NEXT_MONTH,  # Art. 21
    gradual_exit_months=3,
    # Art. 31: yearly for stable households, half-yearly for irregular income or work-able.
    review_months=(("A", 12), ("B", 12), ("C", 6)),
    work_refusals_to_stop_portion=3,  # Art. 34
    # Art. 13: "必要的就业成本…可按规定适当扣减"; the amount is the province's, this a start
    # a county changes by publishing a version.
    employment_cost_share=0.2,
    rigid_expenses_deducted=True,  # Art. 13
    resident_pension_counted=False,  # Art. 13(三)
    pension_excludes=False,  # Art. 13(四): 离退休金 is transfer income
    single_person_coverage=True,  # Art. 8
    single_person_multiplier=1.5,  # Art. 8
)

TRAINING_PREFIX = "training-"

TRAINING_SEED_DEFAULT = dataclasses.replace(
    SEED_DEFAULT,
    id="training-seed-default",
    title="培训演示：三级会审、三榜公示（公示期缩短为60秒）",
    posting_seconds=60,
)

# What a title may say of the posting period: "公示期缩短为60秒", "公示期7天" / "公示期 7 日".
_SHORTENED_POSTING = re.compile(r"公示期缩短为\s*\d+\s*秒")
_POSTING_DAYS = re.compile(r"公示期\s*\d+\s*[天日]")


def posting_note(pack: RulePack) -> str:
    if pack.posting_seconds is not None:
        return f"公示期缩短为{pack.posting_seconds}秒"
    return f"公示期{pack.posting_days}天"


def titled(pack: RulePack) -> RulePack:
    """The pack with a title true of its own parameters: what the title says of the posting
    period is rewritten from the pack's (a published version inherits the title of the one it
    changes, and "60秒" must not survive `posting_seconds=10`), and a training pack that
    shortens postings says so."""
    note = posting_note(pack)
    title, shortened = _SHORTENED_POSTING.subn(note, pack.title)
    title, days = _POSTING_DAYS.subn(note, title)
    if not (shortened or days) and pack.posting_seconds is not None:
        title = f"{title}（{note}）"
    return pack if title == pack.title else dataclasses.replace(pack, title=title)


GRADUAL_EXIT_MONTHS = (1, 12)
# 行政复议法 第二十条 and 行政诉讼法 第四十六条 set these as the least a family has; a pack may
# state a longer period a special law gives, never a shorter one.
MIN_REVIEW_DAYS = 60
MIN_LITIGATION_MONTHS = 6


def pack_law_problems(pack: RulePack) -> list[str]:
    """What the parameters of issue 17 (income, 单人保, remedies, 渐退) may not be, checked when
    a version is published."""
    problems: list[str] = []
    low, high = GRADUAL_EXIT_MONTHS
    if not low <= pack.gradual_exit_months <= high:
        problems.append(f"gradual_exit_months: must be between {low} and {high} (004 line 42: 3)")
    if not 1 <= pack.gradual_exit_reminder_days <= 90:
        problems.append("gradual_exit_reminder_days: must be between 1 and 90")
    if not 0 <= pack.employment_cost_share < 1:
        problems.append("employment_cost_share: must be at least 0 and below 1")
    if pack.employment_cost_share and pack.employment_cost_fen_month:
        problems.append(
            "employment_cost_share: give the employment cost as an amount or as a share, not both"
        )
    if not 0 <= pack.support_share <= 1:
        problems.append("support_share: must be between 0 and 1")
    if pack.support_base_multiplier < 0:
        problems.append("support_base_multiplier: must not be negative")
    if pack.single_person_multiplier < 1:
        problems.append("single_person_multiplier: must be at least 1 (Art. 8: 1.5)")
    if pack.review_days < MIN_REVIEW_DAYS:
        problems.append(f"review_days: the law gives at least {MIN_REVIEW_DAYS} days")
    if pack.litigation_months < MIN_LITIGATION_MONTHS:
        problems.append(f"litigation_months: the law gives at least {MIN_LITIGATION_MONTHS} months")
    if not 1 <= pack.evidence_working_days <= 30:
        problems.append("evidence_working_days: must be between 1 and 30")
    # 信访工作条例 (2022) 第三十二条: a 信访事项 is concluded within 60 days of acceptance;
    # 40 working days is always inside that.
    if not 1 <= pack.complaint_working_days <= 40:
        problems.append("complaint_working_days: must be between 1 and 40")
    if not pack.review_body.strip():
        problems.append("review_body: must name the administrative review body")
    if not pack.litigation_court.strip():
        problems.append("litigation_court: must name the court")
    return problems


BUILTIN_RULE_PACKS: dict[str, RulePack] = {
    p.id: p for p in (SEED_DEFAULT, MCA_2021, TRAINING_SEED_DEFAULT)
}
RULE_PACKS = BUILTIN_RULE_PACKS


# --- what a published version may be ------------------------------------------------------

# Fields a new version may change. id and version are the key the cases pin.
FIXED_FIELDS = frozenset({"id", "version"})
CHANGEABLE_FIELDS = frozenset(f.name for f in dataclasses.fields(RulePack)) - FIXED_FIELDS
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def change_problems(params_changes: dict[str, Any]) -> list[str]:
    """What is wrong with the fields a new version proposes to change (empty: nothing)."""
    errors = [
        f"{name}: unknown field"
        for name in sorted(set(params_changes) - CHANGEABLE_FIELDS - FIXED_FIELDS)
    ]
    errors += [
        f"{name}: cannot be changed; a new version gets the next number"
        if name == "version"
        else f"{name}: cannot be changed; a different pack is a different id"
        for name in sorted(set(params_changes) & FIXED_FIELDS)
    ]
    if errors:
        known = ", ".join(sorted(CHANGEABLE_FIELDS))
        errors.append(f"changeable fields: {known}")
    return errors


def unchanged_problem(current: RulePack, proposed: RulePack) -> str | None:
    """A new version must change something besides its number."""
    if dataclasses.replace(proposed, version=current.version) == current:
        return f"the changes leave {current.id} version {current.version} as it is"
    return None


def policy_problems(pack: RulePack) -> list[str]:
    """What the types allow but no policy could mean (a zero-day posting, a share above 1)."""
    problems: list[str] = []
    if not pack.title.strip():
        problems.append("title: must not be empty")
    if not pack.procedure:
        problems.append("procedure: must list at least one stage")
    if len(set(pack.procedure)) != len(pack.procedure):
        problems.append("procedure: a stage is listed twice")
    positive = {
        "posting_days": pack.posting_days,
        "refusal_notice_working_days": pack.refusal_notice_working_days,
        "evaluation_quorum": pack.evaluation_quorum,
        "survey_working_days": pack.survey_working_days,
        "verification_working_days": pack.verification_working_days,
        "township_review_working_days": pack.township_review_working_days,
        "county_approval_working_days": pack.county_approval_working_days,
        "whole_procedure_working_days": pack.whole_procedure_working_days,
        "whole_procedure_extended_working_days": pack.whole_procedure_extended_working_days,
    }
    problems += [
        f"{name}: must be at least 1" for name, v in positive.items() if v is not None and v < 1
    ]
    extended, limit = pack.whole_procedure_extended_working_days, pack.whole_procedure_working_days
    if extended is not None and (limit is None or extended <= limit):
        problems.append(
            "whole_procedure_extended_working_days: must exceed whole_procedure_working_days"
        )
    not_negative = {
        "urban_standard_fen_month": pack.urban_standard_fen_month,
        "rural_standard_fen_year": pack.rural_standard_fen_year,
        "deposit_limit_fen": pack.deposit_limit_fen,
        "employment_cost_fen_month": pack.employment_cost_fen_month,
    }
    problems += [f"{name}: must not be negative" for name, v in not_negative.items() if v < 0]
    problems += pack_law_problems(pack)
    if pack.posting_seconds is not None:
        if not pack.id.startswith(TRAINING_PREFIX):
            problems.append(
                f"posting_seconds: only a training pack (id starting '{TRAINING_PREFIX}') may "
                "shorten postings; a real posting lasts posting_days"
            )
        elif pack.posting_seconds < 1:
            problems.append("posting_seconds: must be at least 1")
    if not 0 <= pack.spot_check_share <= 1:
        problems.append("spot_check_share: must be between 0 and 1")
    categories = [category for category, _ in pack.tier_shares]
    if len(set(categories)) != len(categories):
        problems.append("tier_shares: a category is listed twice")
    if any(not 0 <= share <= 1 for _, share in pack.tier_shares):
        problems.append("tier_shares: each share must be between 0 and 1")
    if not _MONTH.match(pack.earliest_month) or pack.earliest_month < "2000-01":
        problems.append("earliest_month: must be a month, YYYY-MM, from 2000-01")
    if not 0 <= pack.months_ahead <= 120:
        problems.append("months_ahead: must be between 0 and 120")
    if not 1 <= pack.standard_min_fen_month <= pack.standard_max_fen_month:
        problems.append(
            "standard_min_fen_month: must be at least 1 and at most standard_max_fen_month"
        )
    return problems


def get_rule_pack(pack_id: str) -> RulePack:
    """A built-in pack by id. Offices' own versions live in the rule_packs table."""
    try:
        return BUILTIN_RULE_PACKS[pack_id]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_RULE_PACKS))
        raise ValueError(f"unknown rule pack {pack_id!r}; known: {known}") from None
