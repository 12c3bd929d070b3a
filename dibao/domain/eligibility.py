"""Eligibility and amount (资格认定与救助金额): pure rules from the case's rule pack.

Every rule that fails is named, in words fit for a refusal notice (不予批准通知书).
"""

from dataclasses import dataclass
from enum import StrEnum

from dibao.domain.application import Application, Assets, IncomeItem, Member
from dibao.domain.enums import AreaType
from dibao.domain.rulepacks import RulePack
from dibao.domain.survey import ExclusionFlag, SurveyReport
from dibao.domain.verification import RegistryRecord


class RuleCode(StrEnum):
    INCOME_ABOVE_STANDARD = "income_above_standard"
    DEPOSITS_AT_OR_ABOVE_LIMIT = "deposits_at_or_above_limit"
    OWNS_VEHICLE = "owns_vehicle"
    TWO_OR_MORE_HOMES = "two_or_more_homes"
    SHOP_OR_BUSINESS_ASSETS = "shop_or_business_assets"
    RECEIVES_PENSION = "receives_pension"
    BUSINESS_LICENCE = "business_licence"
    HOUSING_FUND = "housing_fund"
    RELATIVE_IN_PUBLIC_SECTOR = "relative_in_public_sector"
    MOVED_AWAY_LONG_TERM = "moved_away_long_term"
    LAND_COMPENSATION = "land_compensation"
    BOUGHT_URBAN_HOUSING = "bought_urban_housing"
    CHILD_PRIVATE_SCHOOL_OR_ABROAD = "child_private_school_or_abroad"
    GRADUATE_EMPLOYED = "graduate_employed"
    DECEASED_MEMBER_INCLUDED = "deceased_member_included"
    ADDRESS_CHANGE_UNREPORTED = "address_change_unreported"


class HouseholdCategory(StrEnum):
    """A: no member can work and a member is severely disabled or seriously ill (stable);
    B: no member can work; C: a member can work (income may change)."""

    A = "A"
    B = "B"
    C = "C"


class PriorityReason(StrEnum):
    SEVERE_DISABILITY = "severe_disability"  # grade 1–2
    SEVERAL_DISABLED = "several_disabled"
    MAJOR_ILLNESS = "major_illness"


@dataclass(frozen=True)
class RuleFailure:
    code: RuleCode
    message: str  # Chinese, for the notice


@dataclass(frozen=True)
class HouseholdFacts:
    """What the decision is made on: the survey's findings where there is a survey, else the
    declaration, plus the registry records."""

    area_type: AreaType
    members: tuple[Member, ...]
    incomes: tuple[IncomeItem, ...]
    assets: Assets
    exclusion_flags: tuple[ExclusionFlag, ...] = ()
    registry_records: tuple[RegistryRecord, ...] = ()


@dataclass(frozen=True)
class Assessment:
    eligible: bool
    failures: tuple[RuleFailure, ...]
    household_size: int
    counted_income_fen_month: int  # whole household, counted categories only
    per_capita_income_fen_month: int
    standard_fen_month: int  # per person per month (rural yearly standard / 12)
    monthly_amount_fen: int  # whole household; 0 when not eligible
    category: HouseholdCategory
    priority: tuple[PriorityReason, ...]


def household_facts(
    application: Application,
    survey: SurveyReport | None,
    records: tuple[RegistryRecord, ...] = (),
) -> HouseholdFacts:
    raise NotImplementedError  # implemented by the eligibility work


def assess(facts: HouseholdFacts, pack: RulePack) -> Assessment:
    raise NotImplementedError  # implemented by the eligibility work
