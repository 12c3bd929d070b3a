"""Eligibility and amount (资格认定与救助金额): pure rules from the case's rule pack.

Every rule that fails is named, in words fit for a refusal notice (不予批准通知书).
"""

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from dibao.domain.application import (
    Application,
    Assets,
    IncomeItem,
    Member,
    RigidExpense,
    SupportObligor,
)
from dibao.domain.enums import (
    AreaType,
    DisabilityKind,
    IncomeCategory,
    Material,
    RigidExpenseKind,
    SupportRule,
    VehicleKind,
)
from dibao.domain.money import format_yuan, round_fen
from dibao.domain.rulepacks import SEED_DEFAULT, AmountMethod, RulePack
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


class IncomeNoteKind(StrEnum):
    DEDUCTION = "deduction"  # 扣减: taken off the counted income
    EXEMPTION = "exemption"  # 不计入: income left out
    COUNTED = "counted"  # 计入: counted by a rule the family should see (赡养费 per obligor)
    NOT_DEDUCTED = "not_deducted"  # claimed but not deducted, with the reason


@dataclass(frozen=True)
class IncomeNote:
    """One deduction, exemption or rule of counting, in words for the case and the notice."""

    kind: IncomeNoteKind
    amount_fen: int  # per month
    text: str  # Chinese, the article it applies included


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
    # Declared with the application (the survey does not restate them).
    rigid_expenses: tuple[RigidExpense, ...] = ()
    support_obligors: tuple[SupportObligor, ...] = ()
    materials: tuple[Material, ...] = ()


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
    # Each deduction and exemption the counted income reflects (mca-2021 Arts. 13–14).
    income_notes: tuple[IncomeNote, ...] = ()
    # 单人保 (Art. 8): the members covered alone, by name, and why in words; the amount is
    # theirs, not the household's. Empty when the household as a whole is assessed.
    single_person_members: tuple[str, ...] = ()
    single_person_basis: str = ""

    @property
    def covered_size(self) -> int:
        """How many people the amount is for (保障人数)."""
        return len(self.single_person_members) or self.household_size


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
        found = HouseholdFacts(
            area_type=application.area_type,
            members=application.members,
            incomes=application.incomes,
            assets=application.assets,
            exclusion_flags=(),
            registry_records=records,
        )
    else:
        found = HouseholdFacts(
            area_type=application.area_type,
            members=survey.members,
            incomes=survey.incomes,
            assets=survey.assets,
            exclusion_flags=survey.exclusion_flags,
            registry_records=records,
        )
    return dataclasses.replace(
        found,
        rigid_expenses=application.rigid_expenses,
        support_obligors=application.support_obligors,
        materials=application.materials,
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
    RuleCode.RECEIVES_PENSION: "领取职工基本养老金或退休金的人员不能纳入低保",
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


def counted_income_fen_month(facts: HouseholdFacts, pack: RulePack | None = None) -> int:
    """The household's counted income per month, in fen (see `income_breakdown`)."""
    pack = pack or SEED_DEFAULT
    standard = pack_standard(facts.area_type, pack)
    return income_breakdown(facts, pack, standard)[0]


# Registry pension records of the residents' scheme carry this detail (社会保险经办: 城乡居民
# 基本养老保险); any other PENSION record is an employee pension or retirement pay.
RESIDENT_PENSION_DETAIL = "resident_basic"


def _resident_pension(record: RegistryRecord) -> bool:
    return record.detail.strip() == RESIDENT_PENSION_DETAIL


def income_breakdown(
    facts: HouseholdFacts, pack: RulePack, standard: Standard
) -> tuple[int, tuple[IncomeNote, ...]]:
    """The household's counted income per month (fen), and each deduction and exemption.

    * Wages: the larger of the declared WAGES and the registry WAGE_INCOME total (the registry
      can only show more than was declared; taking the larger avoids counting a wage twice),
      less the pack's necessary employment cost per earner (Art. 13(一)): a fixed amount, never
      more than the wage, or a share. Each WAGES item (or registry record) is one earner.
    * Transfer: the larger of the declared TRANSFER + EMPLOYEE_PENSION and the registry
      employee-pension total (a pension is transfer income, Art. 13(四)).
    * The residents' basic pension, declared or in the registry: counted as transfer income,
      or left out where the pack says so (Art. 13 不计入(三)).
    * Support (赡养费): per obligor by the pack's SupportRule when obligors are listed, else the
      declared FAMILY_SUPPORT.
    * Every other counted category as declared; not-counted categories left out (and said so).
    * Rigid costs of a disability or serious illness (Art. 13), where the pack deducts them:
      only a member's with the condition on file and the receipts among the materials.
    Never below zero: deductions stop at the income they reduce.
    """
    records = _member_records(facts)
    notes: list[IncomeNote] = []
    names = {m.id_number.upper(): m.name for m in facts.members}

    declared_wages = [i.monthly_fen for i in facts.incomes if i.category is IncomeCategory.WAGES]
    registry_wages = [r.amount_fen or 0 for r in _records_of(records, RecordKind.WAGE_INCOME)]
    earners = registry_wages if sum(registry_wages) > sum(declared_wages) else declared_wages
    wages = sum(earners)
    cost = 0
    if pack.employment_cost_share:
        cost = round_fen(Fraction(wages) * _share(pack.employment_cost_share), pack.amount_rounding)
        basis = f"工资性收入的 {_percent(pack.employment_cost_share)}"
    elif pack.employment_cost_fen_month:
        cost = sum(min(w, pack.employment_cost_fen_month) for w in earners)
        basis = f"每名就业人员每月 {format_yuan(pack.employment_cost_fen_month)} 元"
    if cost:
        notes.append(
            IncomeNote(
                IncomeNoteKind.DEDUCTION,
                cost,
                f"扣减必要的就业成本每月 {format_yuan(cost)} 元（{basis}，"
                f"{len([w for w in earners if w])} 名就业人员；《办法》第十三条）",
            )
        )

    pensions = [r for r in _records_of(records, RecordKind.PENSION) if not _resident_pension(r)]
    transfer = max(
        _declared(facts, IncomeCategory.TRANSFER)
        + _declared(facts, IncomeCategory.EMPLOYEE_PENSION),
        _total(pensions),
    )
    resident = max(
        _declared(facts, IncomeCategory.RESIDENT_BASIC_PENSION),
        _total([r for r in _records_of(records, RecordKind.PENSION) if _resident_pension(r)]),
    )
    if resident and not pack.resident_pension_counted:
        notes.append(
            IncomeNote(
                IncomeNoteKind.EXEMPTION,
                resident,
                f"城乡居民基本养老保险基础养老金每月 {format_yuan(resident)} 元不计入家庭收入"
                "（《办法》第十三条：“十四五”期间中央确定的基础养老金不计入）",
            )
        )
        resident = 0

    support = _declared(facts, IncomeCategory.FAMILY_SUPPORT)
    if facts.support_obligors:
        support = 0
        for obligor in facts.support_obligors:
            owed, how = _support_owed(obligor, pack, standard)
            support += owed
            notes.append(
                IncomeNote(
                    IncomeNoteKind.COUNTED,
                    owed,
                    f"赡养（抚养、扶养）义务人{obligor.name}（{obligor.relation}）应付赡养费"
                    f"每月 {format_yuan(owed)} 元计入家庭收入（{how}；《办法》第十三条）",
                )
            )

    others = sum(
        i.monthly_fen
        for i in facts.incomes
        if i.category.counted
        and i.category
        not in (
            IncomeCategory.WAGES,
            IncomeCategory.TRANSFER,
            IncomeCategory.EMPLOYEE_PENSION,
            IncomeCategory.FAMILY_SUPPORT,
        )
    )
    for category in IncomeCategory:
        left_out = _declared(facts, category)
        if left_out and not category.counted and category in _NOT_COUNTED_LABELS:
            notes.append(
                IncomeNote(
                    IncomeNoteKind.EXEMPTION,
                    left_out,
                    f"{_NOT_COUNTED_LABELS[category]}每月 {format_yuan(left_out)} 元不计入家庭收入",
                )
            )

    rigid = 0
    if pack.rigid_expenses_deducted:
        for expense in facts.rigid_expenses:
            reason = _rigid_proof_missing(expense, facts)
            who = names.get(expense.member_id_number.upper(), "家庭成员")
            what = _RIGID_LABELS[expense.kind]
            if reason:
                notes.append(
                    IncomeNote(
                        IncomeNoteKind.NOT_DEDUCTED,
                        expense.monthly_fen,
                        f"{who}{what}每月 {format_yuan(expense.monthly_fen)} 元未予扣减：{reason}",
                    )
                )
                continue
            rigid += expense.monthly_fen
            notes.append(
                IncomeNote(
                    IncomeNoteKind.DEDUCTION,
                    expense.monthly_fen,
                    f"扣减{who}{what}每月 {format_yuan(expense.monthly_fen)} 元"
                    "（《办法》第十三条）",
                )
            )
    gross = wages - cost + transfer + resident + support + others
    if rigid > gross:
        notes.append(
            IncomeNote(
                IncomeNoteKind.NOT_DEDUCTED,
                rigid - gross,
                f"刚性支出超过家庭收入的部分每月 {format_yuan(rigid - gross)} 元不再扣减"
                "（家庭收入按零计）",
            )
        )
    return max(gross - rigid, 0), tuple(notes)


_NOT_COUNTED_LABELS: dict[IncomeCategory, str] = {
    IncomeCategory.PREFERENTIAL_CARE: "优待抚恤金",
    IncomeCategory.HONOURS: "政府颁发的荣誉性奖金",
    IncomeCategory.STUDENT_AID: "奖学金、助学金",
    IncomeCategory.FAMILY_PLANNING: "计划生育奖励与扶助金",
    IncomeCategory.MEDICAL_REIMBURSEMENT: "医疗保险报销",
    IncomeCategory.MEDICAL_ASSISTANCE: "医疗救助金",
    IncomeCategory.TEMPORARY_RELIEF: "临时救助金",
}

_RIGID_LABELS: dict[RigidExpenseKind, str] = {
    RigidExpenseKind.DISABILITY: "因残疾增加的刚性支出",
    RigidExpenseKind.ILLNESS: "因患重病增加的刚性支出",
}


def _rigid_proof_missing(expense: RigidExpense, facts: HouseholdFacts) -> str:
    """Why a rigid cost cannot be deducted, or "": the member must be in the household with the
    condition on file (disability certificate / diagnosis) and the receipts among the materials."""
    member = next(
        (m for m in facts.members if m.id_number.upper() == expense.member_id_number.upper()),
        None,
    )
    if member is None:
        return "所列人员不是共同生活的家庭成员"
    if expense.kind is RigidExpenseKind.DISABILITY:
        if member.disability_grade is None:
            return "该成员无残疾等级记录"
        if Material.DISABILITY_CERTIFICATE not in facts.materials:
            return "未提交残疾人证"
    elif not (member.major_illness or member.chronic_illness):
        return "该成员无患病记录"
    elif Material.MEDICAL_RECORDS not in facts.materials:
        return "未提交医院诊断证明"
    if Material.RIGID_EXPENSE_RECEIPTS not in facts.materials:
        return "未提交支出票据"
    return ""


def _support_owed(obligor: SupportObligor, pack: RulePack, standard: Standard) -> tuple[int, str]:
    """The support counted for one obligor, and the rule in words."""
    agreed = obligor.agreed_fen_month
    if (
        pack.support_rule is SupportRule.CAPACITY
        and obligor.family_income_fen_month is not None
        and obligor.family_size
    ):
        line = standard.per_month * _share(pack.support_base_multiplier) * obligor.family_size
        above = max(Fraction(obligor.family_income_fen_month) - line, Fraction(0))
        capacity = round_fen(above * _share(pack.support_share), pack.amount_rounding)
        if capacity > agreed:
            return capacity, (
                f"义务人家庭收入超过 {_times(pack.support_base_multiplier)} 倍低保标准部分的 "
                f"{_percent(pack.support_share)}，高于约定的 {format_yuan(agreed)} 元"
            )
    return agreed, "按约定、判决或实际给付的数额"


def _share(value: float) -> Fraction:
    return Fraction(Decimal(str(value)))


def _percent(value: float) -> str:
    return f"{(Decimal(str(value)) * 100).normalize():f}%"


def _times(value: float) -> str:
    return f"{Decimal(str(value)).normalize():f}"


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
    holdings = deposits + assets.securities_fen + assets.other_financial_fen
    if holdings >= pack.deposit_limit_fen:
        what = (
            "存款、有价证券及基金、商业保险、互联网金融资产等（《办法》第十四条）"
            if assets.other_financial_fen
            else "存款及有价证券"
        )
        fact = f"家庭{what}合计 {format_yuan(holdings)} 元"
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

    # 003: an employee pension or retirement pay excludes where the pack keeps the rule; the
    # residents' basic pension never does (it is the scheme every rural resident is in).
    if pack.pension_excludes:
        if assets.receives_pension or _declared(facts, IncomeCategory.EMPLOYEE_PENSION):
            add(RuleCode.RECEIVES_PENSION, "家庭成员领取基本养老金或退休金")
        for record in _records_of(records, RecordKind.PENSION):
            if _resident_pension(record):
                continue
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
    income, notes = income_breakdown(facts, pack, standard)
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
    single, basis = single_person_coverage(facts, pack, standard, income, failures)
    if single:
        failures = ()
        amount = single_person_amount_fen(standard, len(single), pack)
        category = HouseholdCategory.A
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
        income_notes=notes,
        single_person_members=tuple(m.name for m in single),
        single_person_basis=basis,
    )


def posted_category(assessment: Assessment) -> str:
    """The category a public posting shows: 单人保 says so (Art. 8), in at most 10 characters."""
    if assessment.single_person_members:
        return f"{assessment.category.value}（单人保）"
    return assessment.category.value


def single_person_eligible(member: Member) -> bool:
    """Art. 8 (一)(二): grade 1–2 disability of any kind, grade 3 intellectual or mental
    disability, or a serious illness (重特大疾病)."""
    if member.disability_grade in (1, 2) or member.major_illness:
        return True
    return member.disability_grade == 3 and member.disability_kind in (
        DisabilityKind.INTELLECTUAL,
        DisabilityKind.MENTAL,
    )


def single_person_coverage(
    facts: HouseholdFacts,
    pack: RulePack,
    standard: Standard,
    income_fen: int,
    failures: tuple[RuleFailure, ...],
) -> tuple[tuple[Member, ...], str]:
    """单人保 (mca-2021 Art. 8): the members a near-poor family (低保边缘家庭) may have covered
    alone, and the reason in words; none when the pack has no such rule or the family is not
    near-poor: it must fail on income alone (assets within limits, no must-exclude fact), with a
    per-capita income below the pack's multiplier × the standard."""
    if not pack.single_person_coverage or not failures:
        return (), ""
    if any(f.code is not RuleCode.INCOME_ABOVE_STANDARD for f in failures):
        return (), ""
    size = len(facts.members)
    ceiling = standard.per_month * _share(pack.single_person_multiplier)
    if Fraction(income_fen, size) >= ceiling:
        return (), ""
    members = tuple(m for m in facts.members if single_person_eligible(m))
    if not members:
        return (), ""
    names = "、".join(m.name for m in members)
    basis = (
        f"家庭月人均收入 {format_yuan(round_fen(Fraction(income_fen, size), pack.amount_rounding))}"
        f" 元，高于低保标准但低于标准的 {_times(pack.single_person_multiplier)} 倍"
        f"（{format_yuan(round_fen(ceiling, pack.amount_rounding))} 元），属低保边缘家庭；"
        f"{names}为重度残疾人或重病患者，单独纳入最低生活保障（单人保，《办法》第八条），"
        f"保障人数 {len(members)} 人，保障金额按其本人计算"
    )
    return members, basis


def single_person_amount_fen(standard: Standard, covered: int, pack: RulePack) -> int:
    """The amount of members covered alone: the standard per person for each (they are counted
    as a household of their own without income); tiered packs pay category A's share."""
    exact = standard.per_month * covered
    if pack.amount_method is AmountMethod.TIERED:
        exact *= _tier_share(pack, HouseholdCategory.A)
    return round_fen(exact, pack.amount_rounding)


def _message(code: RuleCode, facts: list[str]) -> str:
    text = "；".join(dict.fromkeys(facts))
    suffix = _RULE_SUFFIX.get(code)
    return f"{text}，{suffix}" if suffix else text
