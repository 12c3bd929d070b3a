"""find_discrepancies: what the registries show that the household did not declare."""

from __future__ import annotations

import random
from typing import Any

from dibao.domain.application import Assets, IncomeItem
from dibao.domain.enums import IncomeCategory, Relation, VehicleKind
from dibao.domain.money import format_amount as yuan
from dibao.domain.survey import SurveyReport
from dibao.domain.verification import (
    Department,
    Discrepancy,
    RecordKind,
    RegistryRecord,
    find_discrepancies,
)
from tests.domain.factories import (
    DAUGHTER_IN_LAW_ID,
    GRANDSON_ID,
    HEAD_ID,
    OTHER_ID,
    SON_ID,
    application,
    household,
    member,
)

D = Department
K = RecordKind


def rec(
    department: Department,
    id_number: str,
    kind: RecordKind,
    amount_fen: int | None = None,
    detail: str = "",
) -> RegistryRecord:
    return RegistryRecord(department, id_number, kind, amount_fen, detail, "2026-10-31")


def survey(**fields: Any) -> SurveyReport:
    base: dict[str, Any] = {
        "investigators": ("staff-1", "staff-2"),
        "surveyed_on": "2026-11-23",
        "members": household(member("王建军", SON_ID, Relation.CHILD, able_to_work=True)),
        "incomes": (),
        "assets": Assets(),
        "living_conditions": "土坯房两间，家具简陋",
    }
    base.update(fields)
    return SurveyReport(**base)


def find(*records: RegistryRecord, **overrides: Any) -> tuple[Discrepancy, ...]:
    return find_discrepancies(application(**overrides), None, records)


# --- nothing to find ------------------------------------------------------------------------


def test_no_records_no_discrepancies() -> None:
    assert find() == ()


def test_records_matching_the_declaration_are_not_discrepancies() -> None:
    # The sample declares 800 元/月 wages, deposits of 3,000 元 and one home.
    assert (
        find(
            rec(D.TAX, SON_ID, K.WAGE_INCOME, 80_000),
            rec(D.BANKS, HEAD_ID, K.DEPOSIT, 300_000),
            rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail="不动产权第0001号"),
        )
        == ()
    )


def test_records_of_people_outside_the_household_are_ignored() -> None:
    outsider = [
        rec(D.TAX, OTHER_ID, K.WAGE_INCOME, 900_000),
        rec(D.SOCIAL_INSURANCE, OTHER_ID, K.PENSION, 300_000),
        rec(D.REAL_ESTATE, OTHER_ID, K.HOME),
        rec(D.REAL_ESTATE, OTHER_ID, K.HOME),
        rec(D.REAL_ESTATE, OTHER_ID, K.SHOP),
        rec(D.VEHICLES, OTHER_ID, K.VEHICLE, detail="car"),
        rec(D.BUSINESS_REGISTRATION, OTHER_ID, K.BUSINESS_LICENCE),
        rec(D.HOUSING_FUND, OTHER_ID, K.HOUSING_FUND_CONTRIBUTION, 50_000),
        rec(D.HOUSEHOLD_REGISTRATION, OTHER_ID, K.DECEASED),
        rec(D.HOUSEHOLD_REGISTRATION, OTHER_ID, K.MOVED_OUT),
        rec(D.BANKS, OTHER_ID, K.DEPOSIT, 10_000_000),
    ]
    assert find(*outsider) == ()


# --- wages ----------------------------------------------------------------------------------


def test_undeclared_wage_income() -> None:
    (found,) = find(
        rec(D.TAX, SON_ID, K.WAGE_INCOME, 120_000),
        incomes=(IncomeItem(IncomeCategory.STUDENT_AID, 10_000),),
    )
    assert found == Discrepancy(
        department=D.TAX,
        id_number=SON_ID,
        kind=K.WAGE_INCOME,
        declared="无工资性收入",
        found="1,200.00 元/月",
        message="税务部门登记王建军有工资性收入每月 1,200.00 元，申报无工资性收入",
    )


def test_undeclared_wage_income_of_unknown_amount() -> None:
    (found,) = find(rec(D.SOCIAL_INSURANCE, SON_ID, K.WAGE_INCOME), incomes=())
    assert found.found == "有工资性收入"
    assert "金额不详" in found.message


def test_wage_income_above_declared_is_summed_over_the_household() -> None:
    (found,) = find(
        rec(D.TAX, HEAD_ID, K.WAGE_INCOME, 40_000),
        rec(D.TAX, SON_ID, K.WAGE_INCOME, 60_000),
    )
    assert found.kind is K.WAGE_INCOME
    assert found.id_number == SON_ID  # the larger share
    assert (found.declared, found.found) == ("800.00 元/月", "1,000.00 元/月")
    assert found.message == (
        "税务部门登记王秀英、王建军工资性收入合计每月 1,000.00 元，高于申报的每月 800.00 元"
    )


def test_wage_income_at_or_below_declared_is_fine() -> None:
    assert find(rec(D.TAX, SON_ID, K.WAGE_INCOME, 80_000)) == ()
    assert find(rec(D.TAX, SON_ID, K.WAGE_INCOME, 50_000)) == ()


def test_wages_reported_by_two_departments_are_not_added_together() -> None:
    # Tax and social insurance both know the same wage; adding them would double it.
    assert (
        find(
            rec(D.TAX, SON_ID, K.WAGE_INCOME, 80_000),
            rec(D.SOCIAL_INSURANCE, SON_ID, K.WAGE_INCOME, 80_000),
        )
        == ()
    )


def test_only_declared_wages_count_against_wage_records() -> None:
    # 1,000 元 of declared rental income does not explain 1,000 元 of wages.
    found = find(
        rec(D.TAX, SON_ID, K.WAGE_INCOME, 100_000),
        incomes=(IncomeItem(IncomeCategory.RENTAL, 100_000),),
    )
    assert [d.kind for d in found] == [K.WAGE_INCOME]


# --- pension, shop, business licence, housing fund ----------------------------------------


def test_pension_when_declared_not_receiving_one() -> None:
    (found,) = find(rec(D.SOCIAL_INSURANCE, HEAD_ID, K.PENSION, 110_000))
    assert (found.department, found.id_number, found.kind) == (
        D.SOCIAL_INSURANCE,
        HEAD_ID,
        K.PENSION,
    )
    assert (found.declared, found.found) == ("未领取养老金", "养老金 1,100.00 元/月")
    assert found.message == "人社部门登记王秀英领取养老金或退休金每月 1,100.00 元，申报未领取"


def test_declared_pension_is_not_a_discrepancy() -> None:
    records = (rec(D.SOCIAL_INSURANCE, HEAD_ID, K.PENSION, 110_000),)
    assert find(*records, assets=Assets(homes=1, receives_pension=True)) == ()


def test_shop_when_no_business_assets_declared() -> None:
    (found,) = find(rec(D.REAL_ESTATE, SON_ID, K.SHOP, detail="商铺 某街12号"))
    assert found.kind is K.SHOP
    assert found.found == "商铺 1 处"
    assert "王建军" in found.message
    declared = Assets(homes=1, shop_or_business_assets=True)
    assert find(rec(D.REAL_ESTATE, SON_ID, K.SHOP), assets=declared) == ()


def test_business_licence_when_none_declared() -> None:
    (found,) = find(rec(D.BUSINESS_REGISTRATION, SON_ID, K.BUSINESS_LICENCE, detail="某某小卖部"))
    assert (found.declared, found.found) == ("无营业执照", "营业执照 1 件")
    declared = Assets(homes=1, business_licence=True)
    assert find(rec(D.BUSINESS_REGISTRATION, SON_ID, K.BUSINESS_LICENCE), assets=declared) == ()


def test_housing_fund_contribution_is_always_a_discrepancy() -> None:
    everything_declared = Assets(
        deposits_fen=10_000_000,
        homes=5,
        shop_or_business_assets=True,
        business_licence=True,
        receives_pension=True,
    )
    (found,) = find(
        rec(D.HOUSING_FUND, SON_ID, K.HOUSING_FUND_CONTRIBUTION, 60_000),
        assets=everything_declared,
        incomes=(IncomeItem(IncomeCategory.WAGES, 1_000_000),),
    )
    assert found.kind is K.HOUSING_FUND_CONTRIBUTION
    assert found.found == "缴存 600.00 元/月"
    assert "表明有工作单位" in found.message


# --- homes, vehicles, deposits --------------------------------------------------------------


def test_more_homes_than_declared() -> None:
    (found,) = find(
        rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail="不动产权第0001号"),
        rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail="不动产权第0002号"),
    )
    assert found == Discrepancy(
        department=D.REAL_ESTATE,
        id_number=HEAD_ID,
        kind=K.HOME,
        declared="1 套",
        found="2 套",
        message="不动产登记显示王秀英名下有住房 2 套，申报 1 套",
    )


def test_homes_are_counted_over_the_household() -> None:
    (found,) = find(
        rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail="不动产权第0001号"),
        rec(D.REAL_ESTATE, SON_ID, K.HOME, detail="不动产权第0002号"),
        rec(D.REAL_ESTATE, SON_ID, K.HOME, detail="不动产权第0003号"),
    )
    assert found.id_number == SON_ID
    assert found.message == "不动产登记显示王秀英、王建军名下有住房 3 套，申报 1 套"


def test_a_co_owned_home_counts_once() -> None:
    co_owned = "不动产权第0001号"
    assert (
        find(
            rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail=co_owned),
            rec(D.REAL_ESTATE, SON_ID, K.HOME, detail=co_owned),
        )
        == ()
    )


def test_vehicle_of_a_declared_kind_is_fine() -> None:
    declared = Assets(homes=1, vehicles=(VehicleKind.TRICYCLE,))
    assert find(rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="tricycle"), assets=declared) == ()


def test_vehicle_of_an_undeclared_kind() -> None:
    declared = Assets(homes=1, vehicles=(VehicleKind.TRICYCLE,))
    (found,) = find(
        rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="tricycle"),
        rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="car"),
        assets=declared,
    )
    assert (found.kind, found.id_number) == (K.VEHICLE, SON_ID)
    assert (found.declared, found.found) == ("小汽车 0 辆", "小汽车 1 辆")
    assert found.message == "公安交管部门登记王建军名下有小汽车 1 辆，申报 0 辆"


def test_more_vehicles_of_a_kind_than_declared() -> None:
    declared = Assets(homes=1, vehicles=(VehicleKind.CAR,))
    (found,) = find(
        rec(D.VEHICLES, HEAD_ID, K.VEHICLE, detail="car"),
        rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="Car"),
        assets=declared,
    )
    assert found.found == "小汽车 2 辆"


def test_vehicle_without_a_kind_is_reported() -> None:
    (found,) = find(rec(D.VEHICLES, SON_ID, K.VEHICLE))
    assert found.found == "车辆（种类不详） 1 辆"


def test_deposits_above_declared() -> None:
    (found,) = find(
        rec(D.BANKS, HEAD_ID, K.DEPOSIT, 200_000),
        rec(D.BANKS, SON_ID, K.DEPOSIT, 1_500_000),
    )
    assert found == Discrepancy(
        department=D.BANKS,
        id_number=SON_ID,
        kind=K.DEPOSIT,
        declared="3,000.00 元",
        found="17,000.00 元",
        message="银行显示王秀英、王建军存款合计 17,000.00 元，高于申报的 3,000.00 元",
    )


def test_deposits_up_to_declared_and_unknown_balances_are_fine() -> None:
    assert (
        find(
            rec(D.BANKS, HEAD_ID, K.DEPOSIT, 100_000),
            rec(D.BANKS, SON_ID, K.DEPOSIT, 200_000),
            rec(D.BANKS, SON_ID, K.DEPOSIT, None),
        )
        == ()
    )


# --- death and moving out -------------------------------------------------------------------


def test_deceased_and_moved_out_members() -> None:
    found = find(
        rec(D.HOUSEHOLD_REGISTRATION, HEAD_ID, K.DECEASED, detail="2026-09-02"),
        rec(D.HOUSEHOLD_REGISTRATION, GRANDSON_ID, K.MOVED_OUT),
    )
    assert [(d.kind, d.id_number) for d in found] == [
        (K.DECEASED, HEAD_ID),
        (K.MOVED_OUT, GRANDSON_ID),
    ]
    deceased, moved = found
    assert deceased.found == "已死亡（2026-09-02）"
    assert deceased.message == "公安户籍登记王秀英已死亡（2026-09-02），仍列为共同生活的家庭成员"
    assert moved.found == "户口已迁出"
    assert "王小明" in moved.message


# --- survey, identity, order ----------------------------------------------------------------


def test_the_survey_supersedes_the_declaration() -> None:
    app = application(incomes=(), assets=Assets())  # declared nothing at all
    found_by_survey = survey(
        incomes=(IncomeItem(IncomeCategory.WAGES, 150_000),),
        assets=Assets(homes=2, deposits_fen=500_000, vehicles=(VehicleKind.VAN,)),
    )
    records = (
        rec(D.TAX, SON_ID, K.WAGE_INCOME, 150_000),
        rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail="A"),
        rec(D.REAL_ESTATE, HEAD_ID, K.HOME, detail="B"),
        rec(D.BANKS, HEAD_ID, K.DEPOSIT, 500_000),
        rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="van"),
        # The grandson is on the application but not in the household the survey found.
        rec(D.HOUSEHOLD_REGISTRATION, GRANDSON_ID, K.MOVED_OUT),
    )
    assert find_discrepancies(app, found_by_survey, records) == ()
    # Without the survey the same records contradict the declaration.
    assert {d.kind for d in find_discrepancies(app, None, records)} == {
        K.WAGE_INCOME,
        K.HOME,
        K.DEPOSIT,
        K.VEHICLE,
        K.MOVED_OUT,
    }


def test_survey_members_are_the_household() -> None:
    # The survey found a daughter-in-law living in the household: her records count.
    found_by_survey = survey(
        members=household(member("李梅", DAUGHTER_IN_LAW_ID, Relation.CHILD_IN_LAW)),
        assets=Assets(homes=1),
    )
    records = (rec(D.SOCIAL_INSURANCE, DAUGHTER_IN_LAW_ID, K.PENSION, 90_000),)
    (found,) = find_discrepancies(application(), found_by_survey, records)
    assert found.id_number == DAUGHTER_IN_LAW_ID
    assert "李梅" in found.message
    assert find_discrepancies(application(), None, records) == ()


def test_a_lower_case_check_character_still_identifies_the_member() -> None:
    assert SON_ID.endswith("X")
    (found,) = find(rec(D.HOUSING_FUND, SON_ID.lower(), K.HOUSING_FUND_CONTRIBUTION, 60_000))
    assert found.id_number == SON_ID


def test_order_is_by_kind_then_household_order_whatever_the_input_order() -> None:
    records = [
        rec(D.HOUSEHOLD_REGISTRATION, GRANDSON_ID, K.MOVED_OUT),
        rec(D.BANKS, SON_ID, K.DEPOSIT, 9_000_000),
        rec(D.HOUSING_FUND, SON_ID, K.HOUSING_FUND_CONTRIBUTION, 50_000),
        rec(D.HOUSING_FUND, HEAD_ID, K.HOUSING_FUND_CONTRIBUTION, 40_000),
        rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="truck"),
        rec(D.VEHICLES, SON_ID, K.VEHICLE, detail="car"),
        rec(D.SOCIAL_INSURANCE, HEAD_ID, K.PENSION, 100_000),
        rec(D.TAX, SON_ID, K.WAGE_INCOME, 300_000),
        rec(D.SOCIAL_INSURANCE, SON_ID, K.WAGE_INCOME, 280_000),
    ]
    expected = find(*records)
    assert [(d.kind, d.department, d.id_number, d.found) for d in expected] == [
        (K.WAGE_INCOME, D.TAX, SON_ID, "3,000.00 元/月"),
        (K.WAGE_INCOME, D.SOCIAL_INSURANCE, SON_ID, "2,800.00 元/月"),
        (K.PENSION, D.SOCIAL_INSURANCE, HEAD_ID, "养老金 1,000.00 元/月"),
        (K.VEHICLE, D.VEHICLES, SON_ID, "小汽车 1 辆"),
        (K.VEHICLE, D.VEHICLES, SON_ID, "货车 1 辆"),
        (K.HOUSING_FUND_CONTRIBUTION, D.HOUSING_FUND, HEAD_ID, "缴存 400.00 元/月"),
        (K.HOUSING_FUND_CONTRIBUTION, D.HOUSING_FUND, SON_ID, "缴存 500.00 元/月"),
        (K.MOVED_OUT, D.HOUSEHOLD_REGISTRATION, GRANDSON_ID, "户口已迁出"),
        (K.DEPOSIT, D.BANKS, SON_ID, "90,000.00 元"),
    ]
    shuffled = random.Random(7)
    for _ in range(20):
        shuffled.shuffle(records)
        assert find(*records) == expected


def test_yuan_formats_fen() -> None:
    assert yuan(0) == "0.00 元"
    assert yuan(5) == "0.05 元"
    assert yuan(123_456_789) == "1,234,567.89 元"
