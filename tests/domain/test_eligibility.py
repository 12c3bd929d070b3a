"""household_facts and assess: who is eligible, for how much, and what a refusal notice says."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest

from dibao.domain.application import Assets, IncomeItem, Member
from dibao.domain.eligibility import (
    Assessment,
    HouseholdCategory,
    HouseholdFacts,
    PriorityReason,
    RuleCode,
    assess,
    household_facts,
)
from dibao.domain.enums import (
    PACK_COUNTED_INCOME,
    AreaType,
    IncomeCategory,
    Relation,
    VehicleKind,
)
from dibao.domain.money import Rounding, format_yuan, round_fen
from dibao.domain.payroll import member_shares
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, AmountMethod
from dibao.domain.standards import Standard
from dibao.domain.survey import ExclusionFlag, SurveyReport
from dibao.domain.verification import Department, RecordKind, RegistryRecord
from tests.domain.factories import GRANDSON_ID, HEAD_ID, OTHER_ID, SON_ID, application, member

# Seed-default standards: urban 530 元/人·月; rural 3710 元/人·年 = 309.1666… 元/人·月, exact
# (written 309.17 on a notice, never computed with).
URBAN_STANDARD = 53_000
RURAL_STANDARD = Fraction(371_000, 12)

CJK = re.compile(r"[\u4e00-\u9fff]")

SON = member("王建军", SON_ID, Relation.CHILD, able_to_work=True)
GRANDSON = member("王小明", GRANDSON_ID, Relation.GRANDCHILD)
HEAD = member()


def facts(
    *,
    members: tuple[Member, ...] = (HEAD, SON, GRANDSON),
    area_type: AreaType = AreaType.RURAL,
    incomes: tuple[IncomeItem, ...] = (),
    assets: Assets = Assets(),
    flags: tuple[ExclusionFlag, ...] = (),
    records: tuple[RegistryRecord, ...] = (),
) -> HouseholdFacts:
    return HouseholdFacts(
        area_type=area_type,
        members=members,
        incomes=incomes,
        assets=assets,
        exclusion_flags=flags,
        registry_records=records,
    )


def record(
    kind: RecordKind,
    id_number: str = HEAD_ID,
    amount_fen: int | None = None,
    detail: str = "",
    department: Department = Department.TAX,
) -> RegistryRecord:
    return RegistryRecord(
        department=department,
        id_number=id_number,
        kind=kind,
        amount_fen=amount_fen,
        detail=detail,
        as_of="2026-03-01",
    )


def survey(**overrides: Any) -> SurveyReport:
    base = SurveyReport(
        investigators=("staff-01", "staff-02"),
        surveyed_on="2026-03-02",
        members=(HEAD, SON, GRANDSON),
        incomes=(IncomeItem(IncomeCategory.WAGES, 80_000),),
        assets=Assets(deposits_fen=300_000, homes=1),
        living_conditions="土木结构平房三间，家具陈旧",
    )
    return replace(base, **overrides)


def codes(result: Assessment) -> list[RuleCode]:
    return [f.code for f in result.failures]


def message(result: Assessment, code: RuleCode) -> str:
    return next(f.message for f in result.failures if f.code is code)


# --- amounts for eligible households --------------------------------------------------------


def test_eligible_rural_household_gets_the_difference_to_the_standard_in_exact_fen() -> None:
    # Factory household: 3 people, wages 800 元/月 counted, 100 元 student aid not counted.
    result = assess(household_facts(application(), None), SEED_DEFAULT)
    assert result.eligible
    assert result.failures == ()
    assert result.household_size == 3
    assert result.counted_income_fen_month == 80_000
    assert result.per_capita_income_fen_month == 26_667  # 266.666… written rounded
    assert result.standard_fen_month == 30_917  # 309.1666… written rounded
    # (3710 / 12 − 800 / 3) × 3 = 927.50 − 800 = 127.50, exactly.
    assert result.monthly_amount_fen == 12_750


def test_eligible_urban_household_gets_the_difference_to_the_monthly_urban_standard() -> None:
    result = assess(household_facts(application(area_type=AreaType.URBAN), None), SEED_DEFAULT)
    assert result.eligible
    assert result.standard_fen_month == URBAN_STANDARD
    # (530 − 800 / 3) × 3 = 1590 − 800 = 790.00, not 790.02 from a floored per-capita income.
    assert result.monthly_amount_fen == 79_000


def test_household_without_any_income_gets_the_full_standard_for_each_member() -> None:
    result = assess(facts(area_type=AreaType.URBAN), SEED_DEFAULT)
    assert result.eligible
    assert result.monthly_amount_fen == 3 * URBAN_STANDARD


def test_rural_standard_is_divided_by_twelve_exactly_and_rounded_once_at_the_end() -> None:
    pack = replace(SEED_DEFAULT, rural_standard_fen_year=320_011)  # 3200.11 元/年
    result = assess(facts(members=(HEAD,)), pack)
    assert result.standard_fen_month == 26_668  # 26667.58 written half up
    assert result.monthly_amount_fen == 26_668


def test_rural_family_of_three_gets_the_exact_difference_not_the_rounded_standard_times_three() -> (
    None
):
    # Issue 10: (3710 / 12 − 80) × 3 = 687.50; rounding 309.1666… to 309.16 first gave 687.48.
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 24_000),))
    result = assess(household, SEED_DEFAULT)
    assert result.per_capita_income_fen_month == 8_000
    assert result.monthly_amount_fen == 68_750


def test_amount_under_a_4000_yuan_standard_is_exactly_800() -> None:
    # Issue 10: 4000 / 12 × 3 − 200 = 800.00; flooring the standard (333.33) and the per-capita
    # income (66.66) gave (333.33 − 66.66) × 3 = 800.01.
    pack = replace(SEED_DEFAULT, rural_standard_fen_year=400_000)
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 20_000),))
    assert assess(household, pack).monthly_amount_fen == 80_000


@pytest.mark.parametrize(
    ("rounding", "amount"),
    [(Rounding.HALF_UP, 30_917), (Rounding.HALF_EVEN, 30_917), (Rounding.DOWN, 30_916)],
)
def test_the_pack_chooses_how_the_amount_is_rounded(rounding: Rounding, amount: int) -> None:
    # One person, no income: 3710 / 12 = 309.1666… 元.
    pack = replace(SEED_DEFAULT, amount_rounding=rounding)
    assert assess(facts(members=(HEAD,)), pack).monthly_amount_fen == amount


def test_a_half_fen_is_rounded_up_by_default_and_to_even_when_the_pack_says_so() -> None:
    # An exact half fen (12.5 fen).
    assert round_fen(Fraction(25, 2)) == 13
    assert round_fen(Fraction(25, 2), Rounding.HALF_EVEN) == 12
    assert round_fen(Fraction(27, 2), Rounding.HALF_EVEN) == 14
    assert round_fen(Fraction(25, 2), Rounding.DOWN) == 12


def test_member_shares_of_an_exact_amount_add_up_to_it() -> None:
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 24_000),))
    amount = assess(household, SEED_DEFAULT).monthly_amount_fen
    shares = member_shares(amount, 3)
    assert sum(shares) == amount == 68_750
    assert shares == (22_917, 22_917, 22_916)


def test_the_assessment_names_the_standard_and_month_it_used() -> None:
    standard = Standard(AreaType.URBAN, 60_000, from_month="2027-01", source="SC-1")
    household = facts(
        members=(HEAD, GRANDSON),
        area_type=AreaType.URBAN,
        incomes=(IncomeItem(IncomeCategory.WAGES, 30_000),),
    )
    result = assess(household, SEED_DEFAULT, standard, "2027-02")
    assert result.monthly_amount_fen == (60_000 - 15_000) * 2 == 90_000
    assert result.standard == standard
    assert result.assessed_month == "2027-02"


@pytest.mark.parametrize(
    "category",
    [c for c in IncomeCategory if not c.counted and c not in PACK_COUNTED_INCOME],
    ids=lambda c: c.value,
)
def test_exempt_income_is_not_counted(category: IncomeCategory) -> None:
    # 优抚, 荣誉奖金, 助学金, 独生子女费, 新农合报销, 医疗救助, 临时救助 (陕西 第九条).
    household = facts(
        incomes=(IncomeItem(IncomeCategory.WAGES, 80_000), IncomeItem(category, 5_000_000))
    )
    result = assess(household, SEED_DEFAULT)
    assert result.eligible
    assert result.counted_income_fen_month == 80_000
    assert result.monthly_amount_fen == 12_750


@pytest.mark.parametrize(
    "category", [c for c in IncomeCategory if c.counted], ids=lambda c: c.value
)
def test_every_counted_income_category_reduces_the_amount(category: IncomeCategory) -> None:
    household = facts(incomes=(IncomeItem(category, 30_000),))
    # Counted, not excluding: seed-default's 003 rule would refuse an employee pension outright.
    result = assess(household, replace(SEED_DEFAULT, pension_excludes=False))
    assert result.counted_income_fen_month == 30_000
    assert result.per_capita_income_fen_month == 10_000
    assert result.monthly_amount_fen == 92_750 - 30_000  # 3710 / 12 × 3 − 300


def test_several_income_items_add_up() -> None:
    household = facts(
        incomes=(
            IncomeItem(IncomeCategory.WAGES, 20_000),
            IncomeItem(IncomeCategory.WAGES, 10_000),
            IncomeItem(IncomeCategory.FAMILY_SUPPORT, 15_000),
            IncomeItem(IncomeCategory.RENTAL, 5_001),
        )
    )
    result = assess(household, SEED_DEFAULT)
    assert result.counted_income_fen_month == 50_001
    assert result.per_capita_income_fen_month == 16_667


# --- income at the standard ------------------------------------------------------------------


def test_income_exactly_at_the_standard_is_refused() -> None:
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 92_750),))  # 3 × 3710 / 12
    result = assess(household, SEED_DEFAULT)
    assert not result.eligible
    assert codes(result) == [RuleCode.INCOME_ABOVE_STANDARD]
    assert result.monthly_amount_fen == 0


def test_income_one_fen_per_person_below_the_standard_gets_one_fen_per_person() -> None:
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 92_750 - 3),))
    result = assess(household, SEED_DEFAULT)
    assert result.eligible
    assert result.per_capita_income_fen_month == 30_916  # 309.1566… written rounded
    assert result.monthly_amount_fen == 3


def test_urban_income_exactly_at_the_standard_is_refused() -> None:
    household = facts(
        members=(HEAD,),
        area_type=AreaType.URBAN,
        incomes=(IncomeItem(IncomeCategory.PROPERTY, URBAN_STANDARD),),
    )
    result = assess(household, SEED_DEFAULT)
    assert codes(result) == [RuleCode.INCOME_ABOVE_STANDARD]


def test_rural_income_refusal_states_income_and_yearly_and_monthly_standard_in_yuan() -> None:
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 100_000),))
    text = message(assess(household, SEED_DEFAULT), RuleCode.INCOME_ABOVE_STANDARD)
    assert "333.33 元" in text  # 1000 / 3 元 per person, written rounded
    assert "农村低保标准每人每年 3710.00 元（折合每月 309.17 元）" in text


def test_urban_income_refusal_states_the_monthly_urban_standard() -> None:
    household = facts(
        area_type=AreaType.URBAN, incomes=(IncomeItem(IncomeCategory.WAGES, 300_000),)
    )
    text = message(assess(household, SEED_DEFAULT), RuleCode.INCOME_ABOVE_STANDARD)
    assert "1000.00 元" in text
    assert "城市低保标准每人每月 530.00 元" in text


# --- must-exclude (必取必退) -------------------------------------------------------------------

MUST_EXCLUDE_TRIGGERS: dict[RuleCode, HouseholdFacts] = {
    RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT: facts(
        assets=Assets(deposits_fen=1_500_000, securities_fen=500_000)
    ),
    RuleCode.OWNS_VEHICLE: facts(assets=Assets(vehicles=(VehicleKind.CAR,))),
    RuleCode.TWO_OR_MORE_HOMES: facts(assets=Assets(homes=2)),
    RuleCode.SHOP_OR_BUSINESS_ASSETS: facts(assets=Assets(shop_or_business_assets=True)),
    RuleCode.RECEIVES_PENSION: facts(assets=Assets(receives_pension=True)),
    RuleCode.BUSINESS_LICENCE: facts(assets=Assets(business_licence=True)),
    RuleCode.HOUSING_FUND: facts(
        records=(
            record(
                RecordKind.HOUSING_FUND_CONTRIBUTION,
                SON_ID,
                30_000,
                department=Department.HOUSING_FUND,
            ),
        )
    ),
    RuleCode.DECEASED_MEMBER_INCLUDED: facts(
        records=(
            record(RecordKind.DECEASED, HEAD_ID, department=Department.HOUSEHOLD_REGISTRATION),
        )
    ),
    RuleCode.MOVED_AWAY_LONG_TERM: facts(
        records=(
            record(RecordKind.MOVED_OUT, SON_ID, department=Department.HOUSEHOLD_REGISTRATION),
        )
    ),
    RuleCode.RELATIVE_IN_PUBLIC_SECTOR: facts(flags=(ExclusionFlag.RELATIVE_IN_PUBLIC_SECTOR,)),
    RuleCode.LAND_COMPENSATION: facts(flags=(ExclusionFlag.LAND_COMPENSATION,)),
    RuleCode.BOUGHT_URBAN_HOUSING: facts(flags=(ExclusionFlag.BOUGHT_URBAN_HOUSING,)),
    RuleCode.CHILD_PRIVATE_SCHOOL_OR_ABROAD: facts(
        flags=(ExclusionFlag.CHILD_PRIVATE_SCHOOL_OR_ABROAD,)
    ),
    RuleCode.GRADUATE_EMPLOYED: facts(flags=(ExclusionFlag.GRADUATE_EMPLOYED,)),
    RuleCode.ADDRESS_CHANGE_UNREPORTED: facts(flags=(ExclusionFlag.ADDRESS_CHANGE_UNREPORTED,)),
}


def test_every_must_exclude_rule_has_a_refusal_case() -> None:
    assert set(MUST_EXCLUDE_TRIGGERS) == set(RuleCode) - {RuleCode.INCOME_ABOVE_STANDARD}


@pytest.mark.parametrize("code", list(MUST_EXCLUDE_TRIGGERS), ids=lambda c: c.value)
def test_each_must_exclude_fact_refuses_with_a_chinese_reason(code: RuleCode) -> None:
    result = assess(MUST_EXCLUDE_TRIGGERS[code], SEED_DEFAULT)
    assert not result.eligible
    assert codes(result) == [code]
    assert result.monthly_amount_fen == 0
    text = result.failures[0].message
    assert text.strip()
    assert CJK.search(text)


@pytest.mark.parametrize("flag", list(ExclusionFlag), ids=lambda f: f.value)
def test_each_survey_exclusion_flag_refuses_under_the_rule_of_the_same_name(
    flag: ExclusionFlag,
) -> None:
    result = assess(facts(flags=(flag,)), SEED_DEFAULT)
    assert codes(result) == [RuleCode(flag.value)]


def test_deposit_refusal_names_the_total_and_the_limit_in_yuan() -> None:
    household = facts(assets=Assets(deposits_fen=2_000_000, securities_fen=500_000))
    text = message(assess(household, SEED_DEFAULT), RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT)
    assert "家庭存款及有价证券合计 25000.00 元，达到或超过 20000.00 元的限额" in text


def test_deposits_one_fen_below_the_limit_are_allowed() -> None:
    household = facts(assets=Assets(deposits_fen=1_000_000, securities_fen=999_999))
    assert assess(household, SEED_DEFAULT).eligible


def test_deposit_limit_comes_from_the_rule_pack() -> None:
    pack = replace(SEED_DEFAULT, deposit_limit_fen=300_000)
    household = facts(assets=Assets(deposits_fen=300_000))
    result = assess(household, pack)
    assert codes(result) == [RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT]
    assert "3000.00 元的限额" in result.failures[0].message


@pytest.mark.parametrize(
    "kind", [VehicleKind.CAR, VehicleKind.VAN, VehicleKind.TRUCK, VehicleKind.SHIP]
)
def test_owning_a_car_van_truck_or_ship_refuses(kind: VehicleKind) -> None:
    result = assess(facts(assets=Assets(vehicles=(kind,))), SEED_DEFAULT)
    assert codes(result) == [RuleCode.OWNS_VEHICLE]


def test_motorcycle_tricycle_and_farm_machinery_do_not_refuse() -> None:
    working_tools = (VehicleKind.MOTORCYCLE, VehicleKind.TRICYCLE, VehicleKind.FARM_MACHINERY)
    registry = tuple(
        record(RecordKind.VEHICLE, SON_ID, detail=v.value, department=Department.VEHICLES)
        for v in working_tools
    )
    result = assess(facts(assets=Assets(vehicles=working_tools), records=registry), SEED_DEFAULT)
    assert result.eligible


def test_one_home_is_allowed() -> None:
    assert assess(facts(assets=Assets(homes=1)), SEED_DEFAULT).eligible


def test_two_homes_refusal_names_the_number_of_homes() -> None:
    text = message(assess(facts(assets=Assets(homes=3)), SEED_DEFAULT), RuleCode.TWO_OR_MORE_HOMES)
    assert "3 套" in text


# --- several failures ------------------------------------------------------------------------


def test_several_failures_are_all_reported_at_once_in_a_stable_order() -> None:
    household = facts(
        incomes=(IncomeItem(IncomeCategory.WAGES, 500_000),),
        assets=Assets(
            deposits_fen=3_000_000,
            vehicles=(VehicleKind.TRUCK,),
            homes=2,
            business_licence=True,
        ),
        flags=(ExclusionFlag.LAND_COMPENSATION, ExclusionFlag.RELATIVE_IN_PUBLIC_SECTOR),
    )
    result = assess(household, SEED_DEFAULT)
    assert not result.eligible
    assert result.monthly_amount_fen == 0
    assert codes(result) == [
        RuleCode.INCOME_ABOVE_STANDARD,
        RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT,
        RuleCode.OWNS_VEHICLE,
        RuleCode.TWO_OR_MORE_HOMES,
        RuleCode.BUSINESS_LICENCE,
        RuleCode.RELATIVE_IN_PUBLIC_SECTOR,
        RuleCode.LAND_COMPENSATION,
    ]
    assert all(CJK.search(f.message) for f in result.failures)


def test_a_rule_met_by_several_facts_is_reported_once_naming_each_fact() -> None:
    household = facts(
        assets=Assets(vehicles=(VehicleKind.CAR,)),
        records=(
            record(RecordKind.VEHICLE, SON_ID, detail="van", department=Department.VEHICLES),
            record(RecordKind.DECEASED, HEAD_ID, department=Department.HOUSEHOLD_REGISTRATION),
        ),
        flags=(ExclusionFlag.DECEASED_MEMBER_INCLUDED, ExclusionFlag.DECEASED_MEMBER_INCLUDED),
    )
    result = assess(household, SEED_DEFAULT)
    assert codes(result) == [RuleCode.OWNS_VEHICLE, RuleCode.DECEASED_MEMBER_INCLUDED]
    vehicles = message(result, RuleCode.OWNS_VEHICLE)
    assert "小汽车" in vehicles
    assert "面包车" in vehicles
    assert "王建军" in vehicles
    deceased = message(result, RuleCode.DECEASED_MEMBER_INCLUDED)
    assert "王秀英" in deceased
    assert "入户调查" in deceased


def test_refused_household_still_shows_its_income_and_standard() -> None:
    result = assess(MUST_EXCLUDE_TRIGGERS[RuleCode.OWNS_VEHICLE], SEED_DEFAULT)
    assert result.monthly_amount_fen == 0
    assert result.standard_fen_month == 30_917
    assert result.household_size == 3


# --- where the facts come from ---------------------------------------------------------------


def test_without_a_survey_the_declaration_is_used_and_records_are_carried() -> None:
    app = application()
    records = (record(RecordKind.HOME, HEAD_ID, department=Department.REAL_ESTATE),)
    result = household_facts(app, None, records)
    assert result.members == app.members
    assert result.incomes == app.incomes
    assert result.assets == app.assets
    assert result.area_type is app.area_type
    assert result.exclusion_flags == ()
    assert result.registry_records == records


def test_survey_findings_supersede_the_declaration() -> None:
    found = survey(
        members=(HEAD, SON),
        incomes=(IncomeItem(IncomeCategory.WAGES, 40_000),),
        assets=Assets(deposits_fen=100_000, vehicles=(VehicleKind.MOTORCYCLE,)),
        exclusion_flags=(ExclusionFlag.LAND_COMPENSATION,),
    )
    records = (record(RecordKind.WAGE_INCOME, SON_ID, 10_000),)
    result = household_facts(application(), found, records)
    assert result.members == (HEAD, SON)
    assert result.incomes == (IncomeItem(IncomeCategory.WAGES, 40_000),)
    assert result.assets == Assets(deposits_fen=100_000, vehicles=(VehicleKind.MOTORCYCLE,))
    assert result.exclusion_flags == (ExclusionFlag.LAND_COMPENSATION,)
    assert result.registry_records == records
    assert result.area_type is AreaType.RURAL


def test_survey_finding_more_income_than_declared_refuses_a_declared_eligible_household() -> None:
    app = application()
    assert assess(household_facts(app, None), SEED_DEFAULT).eligible
    found = survey(incomes=(IncomeItem(IncomeCategory.BUSINESS, 150_000),))
    result = assess(household_facts(app, found), SEED_DEFAULT)
    assert codes(result) == [RuleCode.INCOME_ABOVE_STANDARD]
    assert result.counted_income_fen_month == 150_000


def test_survey_correcting_a_declared_car_to_a_tricycle_makes_the_household_eligible() -> None:
    app = application(assets=Assets(vehicles=(VehicleKind.CAR,), homes=1))
    assert codes(assess(household_facts(app, None), SEED_DEFAULT)) == [RuleCode.OWNS_VEHICLE]
    found = survey(assets=Assets(vehicles=(VehicleKind.TRICYCLE,), homes=1))
    assert assess(household_facts(app, found), SEED_DEFAULT).eligible


def test_survey_household_size_sets_the_amount() -> None:
    found = survey(members=(HEAD, SON), incomes=(IncomeItem(IncomeCategory.WAGES, 40_000),))
    result = assess(household_facts(application(), found), SEED_DEFAULT)
    assert result.household_size == 2
    assert result.monthly_amount_fen == 21_833  # 3710 / 12 × 2 − 400 = 218.333…


# --- registry records ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "code"),
    [
        (
            (record(RecordKind.DEPOSIT, HEAD_ID, 2_000_000, department=Department.BANKS),),
            RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT,
        ),
        (
            (record(RecordKind.VEHICLE, SON_ID, detail="truck", department=Department.VEHICLES),),
            RuleCode.OWNS_VEHICLE,
        ),
        (
            (
                record(RecordKind.HOME, HEAD_ID, detail="陕不动产权第1号"),
                record(RecordKind.HOME, SON_ID, detail="陕不动产权第2号"),
            ),
            RuleCode.TWO_OR_MORE_HOMES,
        ),
        ((record(RecordKind.SHOP, SON_ID),), RuleCode.SHOP_OR_BUSINESS_ASSETS),
        ((record(RecordKind.PENSION, HEAD_ID, 30_000),), RuleCode.RECEIVES_PENSION),
        ((record(RecordKind.BUSINESS_LICENCE, SON_ID),), RuleCode.BUSINESS_LICENCE),
        (
            (record(RecordKind.HOUSING_FUND_CONTRIBUTION, SON_ID, 20_000),),
            RuleCode.HOUSING_FUND,
        ),
        ((record(RecordKind.DECEASED, GRANDSON_ID),), RuleCode.DECEASED_MEMBER_INCLUDED),
        ((record(RecordKind.MOVED_OUT, SON_ID),), RuleCode.MOVED_AWAY_LONG_TERM),
        ((record(RecordKind.WAGE_INCOME, SON_ID, 300_000),), RuleCode.INCOME_ABOVE_STANDARD),
    ],
    ids=lambda v: v.value if isinstance(v, RuleCode) else "",
)
def test_registry_records_refuse_even_when_the_household_declared_nothing(
    records: tuple[RegistryRecord, ...], code: RuleCode
) -> None:
    nothing_declared = application(incomes=(), assets=Assets())
    result = assess(household_facts(nothing_declared, None, records), SEED_DEFAULT)
    assert codes(result) == [code]
    assert CJK.search(result.failures[0].message)


def test_registry_deposits_larger_than_declared_replace_the_declared_deposits() -> None:
    household = facts(
        assets=Assets(deposits_fen=500_000, securities_fen=400_000),
        records=(record(RecordKind.DEPOSIT, HEAD_ID, 1_600_000, department=Department.BANKS),),
    )
    result = assess(household, SEED_DEFAULT)
    assert codes(result) == [RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT]
    assert "20000.00 元" in result.failures[0].message  # 16000 + 4000 securities


def test_registry_deposits_smaller_than_declared_do_not_lower_the_declared_deposits() -> None:
    household = facts(
        assets=Assets(deposits_fen=2_000_000),
        records=(record(RecordKind.DEPOSIT, HEAD_ID, 100_000, department=Department.BANKS),),
    )
    assert codes(assess(household, SEED_DEFAULT)) == [RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT]


def test_registry_wages_above_the_declared_wages_replace_them_rather_than_add() -> None:
    household = facts(
        incomes=(
            IncomeItem(IncomeCategory.WAGES, 30_000),
            IncomeItem(IncomeCategory.RENTAL, 3_000),
        ),
        records=(record(RecordKind.WAGE_INCOME, SON_ID, 45_000),),
    )
    result = assess(household, SEED_DEFAULT)
    assert result.counted_income_fen_month == 45_000 + 3_000


def test_registry_wages_below_the_declared_wages_do_not_lower_the_income() -> None:
    household = facts(
        incomes=(IncomeItem(IncomeCategory.WAGES, 60_000),),
        records=(
            record(RecordKind.WAGE_INCOME, SON_ID, 20_000),
            record(RecordKind.WAGE_INCOME, HEAD_ID, 10_000),
        ),
    )
    assert assess(household, SEED_DEFAULT).counted_income_fen_month == 60_000


def test_registry_pension_counts_as_transfer_income() -> None:
    household = facts(
        incomes=(IncomeItem(IncomeCategory.WAGES, 10_000),),
        records=(record(RecordKind.PENSION, HEAD_ID, 25_000),),
    )
    result = assess(household, SEED_DEFAULT)
    assert result.counted_income_fen_month == 35_000
    assert codes(result) == [RuleCode.RECEIVES_PENSION]


def test_registry_records_about_people_outside_the_household_are_ignored() -> None:
    household = facts(
        records=(
            record(RecordKind.VEHICLE, OTHER_ID, detail="car", department=Department.VEHICLES),
            record(RecordKind.WAGE_INCOME, OTHER_ID, 900_000),
            record(RecordKind.DECEASED, OTHER_ID),
        ),
    )
    result = assess(household, SEED_DEFAULT)
    assert result.eligible
    assert result.counted_income_fen_month == 0


# --- tiered amounts --------------------------------------------------------------------------

TIERED = replace(MCA_2021, amount_method=AmountMethod.TIERED)


def test_tiered_amount_is_the_category_share_of_the_standard_rounded_once() -> None:
    # Category C (the son can work): 40 % of 3710 / 12 元 for 3 people = 371.00 元 exactly; a
    # per-person amount floored first (123.66 × 3) gave 370.98.
    result = assess(facts(incomes=(IncomeItem(IncomeCategory.WAGES, 80_000),)), TIERED)
    assert result.eligible
    assert result.category is HouseholdCategory.C
    assert result.monthly_amount_fen == 37_100


def test_tiered_amount_for_category_a_is_the_full_standard() -> None:
    members = (member(disability_grade=1), replace(GRANDSON, major_illness=True))
    result = assess(facts(members=members, area_type=AreaType.URBAN), TIERED)
    assert result.category is HouseholdCategory.A
    assert result.monthly_amount_fen == 2 * URBAN_STANDARD


def test_tiered_share_is_exact_to_the_fen() -> None:
    # Category B: 70 % of 53000 fen is exactly 37100 fen, not 37099 through float error.
    result = assess(facts(members=(HEAD, GRANDSON), area_type=AreaType.URBAN), TIERED)
    assert result.category is HouseholdCategory.B
    assert result.monthly_amount_fen == 37_100 * 2


def test_tiered_pack_still_refuses_income_at_the_standard() -> None:
    # Business income: mca-2021 deducts employment costs from wages only.
    household = facts(incomes=(IncomeItem(IncomeCategory.BUSINESS, 92_750),))
    result = assess(household, TIERED)
    assert codes(result) == [RuleCode.INCOME_ABOVE_STANDARD]
    assert result.monthly_amount_fen == 0


def test_tiered_pack_without_a_share_for_the_category_is_a_configuration_error() -> None:
    pack = replace(TIERED, tier_shares=(("A", 1.0),))
    with pytest.raises(ValueError, match="tier share"):
        assess(facts(), pack)


# --- category and priority -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "category"),
    [
        ((member(disability_grade=2),), HouseholdCategory.A),
        ((member(), replace(GRANDSON, major_illness=True)), HouseholdCategory.A),
        ((member(disability_grade=3), GRANDSON), HouseholdCategory.B),
        ((member(chronic_illness=True),), HouseholdCategory.B),
        ((member(disability_grade=1), SON), HouseholdCategory.C),
        ((member(able_to_work=True),), HouseholdCategory.C),
    ],
    ids=[
        "severe-disability-no-worker-A",
        "major-illness-no-worker-A",
        "mild-disability-no-worker-B",
        "chronic-illness-no-worker-B",
        "severe-disability-with-worker-C",
        "worker-C",
    ],
)
def test_household_category(members: tuple[Member, ...], category: HouseholdCategory) -> None:
    assert assess(facts(members=members), SEED_DEFAULT).category is category


@pytest.mark.parametrize(
    ("members", "priority"),
    [
        ((HEAD, SON), ()),
        ((member(disability_grade=1), SON), (PriorityReason.SEVERE_DISABILITY,)),
        ((member(disability_grade=2),), (PriorityReason.SEVERE_DISABILITY,)),
        (
            (member(disability_grade=3), replace(GRANDSON, disability_grade=4)),
            (PriorityReason.SEVERAL_DISABLED,),
        ),
        ((HEAD, replace(SON, major_illness=True)), (PriorityReason.MAJOR_ILLNESS,)),
        (
            (member(disability_grade=2), replace(GRANDSON, disability_grade=4, major_illness=True)),
            (
                PriorityReason.SEVERE_DISABILITY,
                PriorityReason.SEVERAL_DISABLED,
                PriorityReason.MAJOR_ILLNESS,
            ),
        ),
    ],
    ids=["none", "grade-1", "grade-2", "two-disabled", "major-illness", "all-three"],
)
def test_priority_entry_reasons(
    members: tuple[Member, ...], priority: tuple[PriorityReason, ...]
) -> None:
    assert assess(facts(members=members), SEED_DEFAULT).priority == priority


def test_priority_is_reported_for_refused_households_too() -> None:
    household = facts(members=(member(disability_grade=1),), assets=Assets(homes=2))
    result = assess(household, SEED_DEFAULT)
    assert not result.eligible
    assert result.priority == (PriorityReason.SEVERE_DISABILITY,)


# --- formatting and edge cases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"), [(123_450, "1234.50"), (5, "0.05"), (0, "0.00"), (2_000_000, "20000.00")]
)
def test_yuan_amounts_are_written_with_two_decimals(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


def test_household_without_members_cannot_be_assessed() -> None:
    with pytest.raises(ValueError):
        assess(facts(members=()), SEED_DEFAULT)
