"""Eligibility and amount (资格认定与救助金额): pure rules from the case's rule pack.

Every rule that fails is named, in words fit for a refusal notice (不予批准通知书).
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from dibao.domain.application import Application, Assets, IncomeItem, Member
from dibao.domain.enums import AreaType, IncomeCategory, VehicleKind
from dibao.domain.money import format_yuan, round_fen
from dibao.domain.rulepacks import AmountMethod, RulePack
from dibao.domain.standards import Standard, pack_standard
from dibao.domain.survey import ExclusionFlag, SurveyReport
from dibao.domain.verification import RecordKind, RegistryRecord


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
    per_capita_income_fen_month: int  # as written on notices: rounded, never computed with
    standard_fen_month: int  # per person per month as written (rural: yearly / 12, rounded)
    monthly_amount_fen: int  # whole household; 0 when not eligible
    category: HouseholdCategory
    priority: tuple[PriorityReason, ...]
    # The standard the amount was computed on (as set, with the month it took effect), and the
    # month assessed; None / "" in assessments made before standards were dated data.
    standard: Standard | None = None
    assessed_month: str = ""


def household_facts(
    application: Application,
    survey: SurveyReport | None,
    records: tuple[RegistryRecord, ...] = (),
) -> HouseholdFacts:
    """The facts a decision is made on.

    When there is a survey, its members, incomes, assets and exclusion flags supersede the
    declaration entirely (even where the survey found less, e.g. no income at all): the survey
    is what the investigators saw and signed for. The area type always comes from the
    application. Registry records are carried through unchanged.
    """
    if survey is None:
        return HouseholdFacts(
            area_type=application.area_type,
            members=application.members,
            incomes=application.incomes,
            assets=application.assets,
            exclusion_flags=(),
            registry_records=records,
        )
    return HouseholdFacts(
        area_type=application.area_type,
        members=survey.members,
        incomes=survey.incomes,
        assets=survey.assets,
        exclusion_flags=survey.exclusion_flags,
        registry_records=records,
    )


# --- money ------------------------------------------------------------------------------------
#
# All money is integer fen, and every amount is computed exactly (fractions of a fen) and
# rounded once, at the end, to whole fen by the pack's `amount_rounding` (half up by default):
#   * DIFFERENCE: (standard per month − counted income / size) × size = standard × size − income;
#   * TIERED: standard per month × the category's share × size.
# A rural yearly standard is divided by 12 exactly, never rounded before it is multiplied
# (3710 元/年 for three people is 927.50 元, not 3 × 309.16). The tier share is taken at its
# written decimal value (Decimal(str(share))): 0.7 is 7/10, not the nearest binary float.
# Per-capita income and the monthly standard are also rounded, but only to be written out.

HOMES_LIMIT = 2  # two or more homes exclude (003 必取必退)
EXCLUDING_VEHICLES = frozenset(
    {VehicleKind.CAR, VehicleKind.VAN, VehicleKind.TRUCK, VehicleKind.SHIP}
)
_VEHICLE_NAMES = {
    VehicleKind.CAR: "小汽车",
    VehicleKind.VAN: "面包车",
    VehicleKind.TRUCK: "货车",
    VehicleKind.SHIP: "船舶",
}

# Exclusion flags found by the survey: each maps to the RuleCode of the same name.
_FLAG_MESSAGES: dict[ExclusionFlag, str] = {
    ExclusionFlag.RELATIVE_IN_PUBLIC_SECTOR: (
        "入户调查发现家庭成员的直系亲属在机关、事业单位或大型企业工作"
    ),
    ExclusionFlag.MOVED_AWAY_LONG_TERM: "入户调查发现家庭成员户口迁出或长期外出居住",
    ExclusionFlag.LAND_COMPENSATION: "入户调查发现家庭已获得征地拆迁补偿",
    ExclusionFlag.BOUGHT_URBAN_HOUSING: "入户调查发现农村家庭在城镇购买住房",
    ExclusionFlag.CHILD_PRIVATE_SCHOOL_OR_ABROAD: (
        "入户调查发现家庭子女自费就读民办学校（择校）或自费出国留学"
    ),
    ExclusionFlag.GRADUATE_EMPLOYED: "入户调查发现家庭成员中的毕业生已就业或缴纳住房公积金",
    ExclusionFlag.DECEASED_MEMBER_INCLUDED: "入户调查发现已死亡人员仍列在家庭成员中",
    ExclusionFlag.ADDRESS_CHANGE_UNREPORTED: "入户调查发现家庭变更住址未告知民政部门",
}

# What the notice says the rule is, after the fact(s) that triggered it.
_RULE_SUFFIX: dict[RuleCode, str] = {
    RuleCode.OWNS_VEHICLE: "拥有汽车、面包车、货车或船舶的家庭不能纳入低保",
    RuleCode.TWO_OR_MORE_HOMES: f"拥有 {HOMES_LIMIT} 套及以上住房的家庭不能纳入低保",
    RuleCode.SHOP_OR_BUSINESS_ASSETS: "拥有商铺或经营性资产的家庭不能纳入低保",
    RuleCode.RECEIVES_PENSION: "领取基本养老金或退休金的人员不能纳入低保",
    RuleCode.BUSINESS_LICENCE: "持有营业执照的家庭不能纳入低保",
    RuleCode.HOUSING_FUND: "缴纳住房公积金的人员不能纳入低保",
    RuleCode.RELATIVE_IN_PUBLIC_SECTOR: (
        "直系亲属在机关、事业单位或大型企业工作的家庭不能纳入低保"
    ),
    RuleCode.MOVED_AWAY_LONG_TERM: "户口迁出或长期外出居住的人员不能纳入低保",
    RuleCode.LAND_COMPENSATION: "已获得征地拆迁补偿的家庭不能纳入低保",
    RuleCode.BOUGHT_URBAN_HOUSING: "在城镇购买住房的农村家庭不能纳入低保",
    RuleCode.CHILD_PRIVATE_SCHOOL_OR_ABROAD: "子女自费择校或自费出国留学的家庭不能纳入低保",
    RuleCode.GRADUATE_EMPLOYED: "已就业或缴纳住房公积金的毕业生不能纳入低保",
    RuleCode.DECEASED_MEMBER_INCLUDED: "已死亡人员不能继续纳入低保",
    RuleCode.ADDRESS_CHANGE_UNREPORTED: "变更住址不告知民政部门的家庭不能纳入低保",
}


def monthly_standard_fen(standard: Standard, pack: RulePack) -> int:
    """The standard per person per month as written on a notice (rural: yearly / 12, rounded)."""
    return round_fen(standard.per_month, pack.amount_rounding)


def household_amount_fen(
    standard: Standard,
    income_fen: int,
    size: int,
    category: HouseholdCategory,
    pack: RulePack,
) -> int:
    """The household's monthly amount on `standard` for its counted income: exact, rounded once.

    0 when the income per person is at or above the standard.
    """
    exact_standard = standard.per_month * size
    if income_fen >= exact_standard:
        return 0
    if pack.amount_method is AmountMethod.DIFFERENCE:
        exact = exact_standard - income_fen
    else:
        exact = exact_standard * _tier_share(pack, category)
    return round_fen(exact, pack.amount_rounding)


def _member_records(facts: HouseholdFacts) -> list[RegistryRecord]:
    """Registry records about the household's members (as the facts list them).

    A record about someone who is not (or no longer, per the survey) a member does not count.
    """
    ids = {m.id_number.upper() for m in facts.members}
    return [r for r in facts.registry_records if r.id_number.upper() in ids]


def _records_of(records: list[RegistryRecord], kind: RecordKind) -> list[RegistryRecord]:
    return [r for r in records if r.kind is kind]


def _total(records: list[RegistryRecord]) -> int:
    return sum(r.amount_fen or 0 for r in records)


def _declared(facts: HouseholdFacts, category: IncomeCategory) -> int:
    return sum(i.monthly_fen for i in facts.incomes if i.category is category)


def counted_income_fen_month(facts: HouseholdFacts) -> int:
    """The household's counted income per month, in fen.

    * Wages: the larger of the declared WAGES and the registry WAGE_INCOME total for the members
      (the registry can only show more than was declared, never make a declaration smaller;
      taking the larger avoids counting the same wage twice).
    * Transfer: likewise the larger of the declared TRANSFER and the registry PENSION total
      (a pension is transfer income).
    * Every other counted category (IncomeCategory.counted) as declared.
    * Not-counted categories (优抚, 助学金, 独生子女费, 医疗救助, 临时救助 ...) are left out.
    """
    records = _member_records(facts)
    wages = max(
        _declared(facts, IncomeCategory.WAGES),
        _total(_records_of(records, RecordKind.WAGE_INCOME)),
    )
    transfer = max(
        _declared(facts, IncomeCategory.TRANSFER),
        _total(_records_of(records, RecordKind.PENSION)),
    )
    others = sum(
        i.monthly_fen
        for i in facts.incomes
        if i.category.counted and i.category not in (IncomeCategory.WAGES, IncomeCategory.TRANSFER)
    )
    return wages + transfer + others


def household_category(members: tuple[Member, ...]) -> HouseholdCategory:
    if any(m.able_to_work for m in members):
        return HouseholdCategory.C
    if any(_severely_disabled(m) or m.major_illness for m in members):
        return HouseholdCategory.A
    return HouseholdCategory.B


def priority_reasons(members: tuple[Member, ...]) -> tuple[PriorityReason, ...]:
    reasons: list[PriorityReason] = []
    if any(_severely_disabled(m) for m in members):
        reasons.append(PriorityReason.SEVERE_DISABILITY)
    if sum(1 for m in members if m.disability_grade is not None) >= 2:
        reasons.append(PriorityReason.SEVERAL_DISABLED)
    if any(m.major_illness for m in members):
        reasons.append(PriorityReason.MAJOR_ILLNESS)
    return tuple(reasons)


def _severely_disabled(member: Member) -> bool:
    return member.disability_grade in (1, 2)


def _tier_share(pack: RulePack, category: HouseholdCategory) -> Fraction:
    for name, share in pack.tier_shares:
        if name == category.value:
            return Fraction(Decimal(str(share)))
    raise ValueError(
        f"rule pack {pack.id!r} v{pack.version} has no tier share for category {category}"
    )


def _must_exclude(facts: HouseholdFacts, pack: RulePack) -> dict[RuleCode, list[str]]:
    """The must-exclude facts (必取必退), as sentences per rule."""
    found: dict[RuleCode, list[str]] = {}
    records = _member_records(facts)
    names = {m.id_number.upper(): m.name for m in facts.members}
    assets = facts.assets

    def add(code: RuleCode, fact: str) -> None:
        found.setdefault(code, []).append(fact)

    def who(record: RegistryRecord) -> str:
        return names.get(record.id_number.upper(), record.id_number)

    # Deposits and securities: registry deposits replace declared deposits when larger.
    registry_deposits = _records_of(records, RecordKind.DEPOSIT)
    deposits = max(assets.deposits_fen, _total(registry_deposits))
    holdings = deposits + assets.securities_fen
    if holdings >= pack.deposit_limit_fen:
        fact = f"家庭存款及有价证券合计 {format_yuan(holdings)} 元"
        if registry_deposits and _total(registry_deposits) > assets.deposits_fen:
            fact += f"（存款按银行核对结果 {format_yuan(deposits)} 元计）"
        add(
            RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT,
            f"{fact}，达到或超过 {format_yuan(pack.deposit_limit_fen)} 元的限额",
        )

    # Vehicles: car, van, truck, ship exclude; motorcycles, tricycles, farm machinery do not.
    declared_vehicles = sorted(
        {v for v in assets.vehicles if v in EXCLUDING_VEHICLES}, key=list(VehicleKind).index
    )
    if declared_vehicles:
        kinds = "、".join(_VEHICLE_NAMES[v] for v in declared_vehicles)
        add(RuleCode.OWNS_VEHICLE, f"家庭拥有{kinds}")
    for record in _records_of(records, RecordKind.VEHICLE):
        kind = record.detail.strip().lower()
        if kind in {v.value for v in EXCLUDING_VEHICLES}:
            name = _VEHICLE_NAMES[VehicleKind(kind)]
            add(RuleCode.OWNS_VEHICLE, f"车辆登记显示{who(record)}名下有{name}")

    # Homes: declared count or the number of registry HOME records, whichever is larger.
    registry_homes = len(_records_of(records, RecordKind.HOME))
    homes = max(assets.homes, registry_homes)
    if homes >= HOMES_LIMIT:
        source = "不动产登记显示" if registry_homes > assets.homes else ""
        add(RuleCode.TWO_OR_MORE_HOMES, f"{source}家庭拥有住房 {homes} 套")

    if assets.shop_or_business_assets:
        add(RuleCode.SHOP_OR_BUSINESS_ASSETS, "家庭申报拥有商铺或经营性资产")
    for record in _records_of(records, RecordKind.SHOP):
        add(RuleCode.SHOP_OR_BUSINESS_ASSETS, f"不动产登记显示{who(record)}名下有商业用房")

    if assets.receives_pension:
        add(RuleCode.RECEIVES_PENSION, "家庭成员领取基本养老金或退休金")
    for record in _records_of(records, RecordKind.PENSION):
        amount = (
            f"每月 {format_yuan(record.amount_fen)} 元" if record.amount_fen is not None else ""
        )
        add(RuleCode.RECEIVES_PENSION, f"社会保险记录显示{who(record)}领取养老金{amount}")

    if assets.business_licence:
        add(RuleCode.BUSINESS_LICENCE, "家庭成员持有营业执照")
    for record in _records_of(records, RecordKind.BUSINESS_LICENCE):
        add(RuleCode.BUSINESS_LICENCE, f"市场监管登记显示{who(record)}持有营业执照")

    for record in _records_of(records, RecordKind.HOUSING_FUND_CONTRIBUTION):
        add(RuleCode.HOUSING_FUND, f"住房公积金记录显示{who(record)}正在缴纳住房公积金")

    for record in _records_of(records, RecordKind.DECEASED):
        add(RuleCode.DECEASED_MEMBER_INCLUDED, f"户籍登记显示家庭成员{who(record)}已死亡")

    for record in _records_of(records, RecordKind.MOVED_OUT):
        add(RuleCode.MOVED_AWAY_LONG_TERM, f"户籍登记显示家庭成员{who(record)}户口已迁出")

    for flag in dict.fromkeys(facts.exclusion_flags):
        add(RuleCode(flag.value), _FLAG_MESSAGES[flag])
    return found


def assess(
    facts: HouseholdFacts,
    pack: RulePack,
    standard: Standard | None = None,
    month: str = "",
) -> Assessment:
    """Decide eligibility and the monthly amount from the facts and the case's rule pack, on the
    standard in force for the month assessed (`standard`; the pack's own figure when None).

    Failures come one per RuleCode (a rule triggered by several facts names them all), in
    RuleCode declaration order, so that refusal notices are stable. The amount is per month for
    the whole household, and 0 when the household is not eligible.
    """
    size = len(facts.members)
    if size == 0:
        raise ValueError("a household without members cannot be assessed")
    if standard is None:
        standard = pack_standard(facts.area_type, pack)
    if standard.area_type is not facts.area_type:
        raise ValueError(
            f"a {standard.area_type} standard cannot assess a {facts.area_type} household"
        )
    income = counted_income_fen_month(facts)
    per_capita = round_fen(Fraction(income, size), pack.amount_rounding)
    standard_month = monthly_standard_fen(standard, pack)

    facts_by_code = _must_exclude(facts, pack)
    if income >= standard.per_month * size:
        facts_by_code[RuleCode.INCOME_ABOVE_STANDARD] = [
            f"家庭计入收入每月合计 {format_yuan(income)} 元，共 {size} 人，"
            f"月人均收入 {format_yuan(per_capita)} 元，"
            f"达到或超过{standard.wording(standard_month)}"
        ]
    failures = tuple(
        RuleFailure(code, _message(code, facts_by_code[code]))
        for code in RuleCode
        if code in facts_by_code
    )

    category = household_category(facts.members)
    amount = 0 if failures else household_amount_fen(standard, income, size, category, pack)
    return Assessment(
        eligible=not failures,
        failures=failures,
        household_size=size,
        counted_income_fen_month=income,
        per_capita_income_fen_month=per_capita,
        standard_fen_month=standard_month,
        monthly_amount_fen=amount,
        category=category,
        priority=priority_reasons(facts.members),
        standard=standard,
        assessed_month=month,
    )


def _message(code: RuleCode, facts: list[str]) -> str:
    text = "；".join(dict.fromkeys(facts))
    suffix = _RULE_SUFFIX.get(code)
    return f"{text}，{suffix}" if suffix else text
