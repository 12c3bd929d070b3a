"""Issue 17, income and 单人保: how mca-2021 Arts. 8, 13 and 14 count a household, on both packs.

Each test names the article (reference/mca-2021-measures.md) or seed line it enforces.
"""

from __future__ import annotations

from dataclasses import replace

from dibao.domain.application import (
    Assets,
    IncomeItem,
    Member,
    RigidExpense,
    SupportObligor,
)
from dibao.domain.eligibility import (
    RESIDENT_PENSION_DETAIL,
    HouseholdFacts,
    IncomeNoteKind,
    RuleCode,
    assess,
)
from dibao.domain.enums import (
    AreaType,
    DisabilityKind,
    IncomeCategory,
    Material,
    Relation,
    RigidExpenseKind,
    SupportRule,
    VehicleKind,
)
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT
from dibao.domain.verification import Department, RecordKind, RegistryRecord
from tests.domain.factories import GRANDSON_ID, HEAD_ID, SON_ID, member

HEAD = member()
SON = member("王建军", SON_ID, Relation.CHILD, able_to_work=True)
GRANDSON = member("王小明", GRANDSON_ID, Relation.GRANDCHILD)
URBAN = 53_000  # 530 元/人·月 in both packs


def facts(
    *,
    members: tuple[Member, ...] = (HEAD, SON, GRANDSON),
    incomes: tuple[IncomeItem, ...] = (),
    assets: Assets = Assets(),
    records: tuple[RegistryRecord, ...] = (),
    rigid: tuple[RigidExpense, ...] = (),
    obligors: tuple[SupportObligor, ...] = (),
    materials: tuple[Material, ...] = (),
) -> HouseholdFacts:
    return HouseholdFacts(
        area_type=AreaType.URBAN,
        members=members,
        incomes=incomes,
        assets=assets,
        registry_records=records,
        rigid_expenses=rigid,
        support_obligors=obligors,
        materials=materials,
    )


def kinds(notes: object) -> list[IncomeNoteKind]:
    return [n.kind for n in notes]  # type: ignore[attr-defined]


# --- Art. 13(一): wages net of necessary employment costs --------------------------------------


def test_art13_wages_are_counted_net_of_the_employment_cost_share_on_mca_2021() -> None:
    household = facts(incomes=(IncomeItem(IncomeCategory.WAGES, 90_000),))
    mca = assess(household, MCA_2021)
    assert mca.counted_income_fen_month == 72_000  # 900 − 20 % = 720 元
    (note,) = mca.income_notes
    assert note.kind is IncomeNoteKind.DEDUCTION
    assert note.amount_fen == 18_000
    assert "必要的就业成本" in note.text and "180.00" in note.text and "第十三条" in note.text
    # seed-default (陕西 第八条) counts wages after tax and social insurance, nothing more.
    seed = assess(household, SEED_DEFAULT)
    assert seed.counted_income_fen_month == 90_000
    assert seed.income_notes == ()


def test_art13_a_fixed_employment_cost_is_per_earner_and_never_more_than_the_wage() -> None:
    pack = replace(SEED_DEFAULT, employment_cost_fen_month=50_000)
    household = facts(
        incomes=(IncomeItem(IncomeCategory.WAGES, 80_000), IncomeItem(IncomeCategory.WAGES, 30_000))
    )
    result = assess(household, pack)
    assert result.counted_income_fen_month == 30_000  # 800 − 500, and 300 − 300
    assert "2 名就业人员" in result.income_notes[0].text


# --- Art. 13: rigid costs of a disability or serious illness, with proof ---------------------

DISABLED_HEAD = replace(HEAD, disability_grade=2, disability_kind=DisabilityKind.PHYSICAL)
CARE = RigidExpense(HEAD_ID, RigidExpenseKind.DISABILITY, 20_000, "康复护理")
PROOF = (Material.DISABILITY_CERTIFICATE, Material.RIGID_EXPENSE_RECEIPTS)


def test_art13_a_proven_rigid_cost_of_disability_is_deducted_on_mca_2021() -> None:
    household = facts(
        members=(DISABLED_HEAD, SON, GRANDSON),
        incomes=(IncomeItem(IncomeCategory.BUSINESS, 100_000),),
        rigid=(CARE,),
        materials=PROOF,
    )
    mca = assess(household, MCA_2021)
    assert mca.counted_income_fen_month == 80_000
    assert kinds(mca.income_notes) == [IncomeNoteKind.DEDUCTION]
    assert "因残疾增加的刚性支出" in mca.income_notes[0].text
    assert "王秀英" in mca.income_notes[0].text
    # seed-default has no such deduction.
    assert assess(household, SEED_DEFAULT).counted_income_fen_month == 100_000


def test_art13_a_rigid_cost_without_its_receipts_is_shown_but_not_deducted() -> None:
    household = facts(
        members=(DISABLED_HEAD, SON, GRANDSON),
        incomes=(IncomeItem(IncomeCategory.BUSINESS, 100_000),),
        rigid=(CARE,),
        materials=(Material.DISABILITY_CERTIFICATE,),
    )
    result = assess(household, MCA_2021)
    assert result.counted_income_fen_month == 100_000
    (note,) = result.income_notes
    assert note.kind is IncomeNoteKind.NOT_DEDUCTED
    assert "未提交支出票据" in note.text


def test_art13_a_rigid_cost_of_illness_needs_the_illness_on_file() -> None:
    cost = RigidExpense(SON_ID, RigidExpenseKind.ILLNESS, 10_000)
    household = facts(
        incomes=(IncomeItem(IncomeCategory.BUSINESS, 100_000),),
        rigid=(cost,),
        materials=(Material.MEDICAL_RECORDS, Material.RIGID_EXPENSE_RECEIPTS),
    )
    result = assess(household, MCA_2021)
    assert result.counted_income_fen_month == 100_000
    assert "该成员无患病记录" in result.income_notes[0].text


# --- Art. 13 不计入(三): the residents' basic pension, told apart from an employee pension ------


def test_art13_the_residents_basic_pension_is_left_out_on_mca_2021_and_counted_on_seed() -> None:
    household = facts(incomes=(IncomeItem(IncomeCategory.RESIDENT_BASIC_PENSION, 15_000),))
    mca = assess(household, MCA_2021)
    assert mca.counted_income_fen_month == 0
    (note,) = mca.income_notes
    assert note.kind is IncomeNoteKind.EXEMPTION and "基础养老金" in note.text
    seed = assess(household, SEED_DEFAULT)
    assert seed.counted_income_fen_month == 15_000
    # Neither pack treats it as the pension that excludes (003 必取必退).
    assert seed.eligible and mca.eligible


def test_art13_a_registry_residents_pension_never_triggers_the_pension_exclusion() -> None:
    record = RegistryRecord(
        Department.SOCIAL_INSURANCE, HEAD_ID, RecordKind.PENSION, 15_000, RESIDENT_PENSION_DETAIL
    )
    seed = assess(facts(records=(record,)), SEED_DEFAULT)
    assert RuleCode.RECEIVES_PENSION not in [f.code for f in seed.failures]
    assert seed.counted_income_fen_month == 15_000
    assert assess(facts(records=(record,)), MCA_2021).counted_income_fen_month == 0


def test_003_an_employee_pension_excludes_on_seed_default_but_is_income_on_mca_2021() -> None:
    # 003 line 384-393 (领取基本养老金或退休金) vs Art. 13(四) (离退休金 is transfer income).
    household = facts(incomes=(IncomeItem(IncomeCategory.EMPLOYEE_PENSION, 30_000),))
    seed = assess(household, SEED_DEFAULT)
    assert [f.code for f in seed.failures] == [RuleCode.RECEIVES_PENSION]
    assert "职工基本养老金或退休金" in seed.failures[0].message
    mca = assess(household, MCA_2021)
    assert mca.eligible
    assert mca.counted_income_fen_month == 30_000
    assert mca.monthly_amount_fen == 3 * URBAN - 30_000


# --- Art. 13(四): support owed by legally obliged relatives, per obligor ---------------------


def test_art13_support_is_counted_per_obligor_as_agreed() -> None:
    household = facts(
        incomes=(IncomeItem(IncomeCategory.FAMILY_SUPPORT, 99_000),),  # replaced by the list
        obligors=(
            SupportObligor("王建华", "女儿", agreed_fen_month=20_000),
            SupportObligor("王建国", "儿子", agreed_fen_month=10_000),
        ),
    )
    for pack in (SEED_DEFAULT, MCA_2021):
        result = assess(household, pack)
        assert result.counted_income_fen_month == 30_000
        texts = [n.text for n in result.income_notes]
        assert any("王建华" in t and "200.00" in t for t in texts)
        assert any("王建国" in t and "100.00" in t for t in texts)


def test_art13_support_by_capacity_counts_a_share_above_the_obligors_line() -> None:
    pack = replace(
        MCA_2021, support_rule=SupportRule.CAPACITY, support_share=0.3, support_base_multiplier=2.0
    )
    obligor = SupportObligor(
        "王建华", "女儿", agreed_fen_month=5_000, family_income_fen_month=600_000, family_size=3
    )
    result = assess(facts(obligors=(obligor,)), pack)
    # (6000 − 2 × 530 × 3) × 30 % = 846 元, more than the 50 元 agreed.
    assert result.counted_income_fen_month == 84_600
    assert "高于约定" in result.income_notes[0].text
    poorer = replace(obligor, family_income_fen_month=300_000)
    assert assess(facts(obligors=(poorer,)), pack).counted_income_fen_month == 5_000


# --- Art. 8: 单人保 ------------------------------------------------------------------------

NEAR_POOR = (IncomeItem(IncomeCategory.BUSINESS, 200_000),)  # 666.67 元 each: < 1.5 × 530


def test_art8_a_severely_disabled_member_of_a_near_poor_family_is_covered_alone() -> None:
    household = facts(members=(DISABLED_HEAD, SON, GRANDSON), incomes=NEAR_POOR)
    mca = assess(household, MCA_2021)
    assert mca.eligible
    assert mca.single_person_members == ("王秀英",)
    assert mca.covered_size == 1
    assert mca.monthly_amount_fen == URBAN  # that member's, not the household's
    assert "单人保" in mca.single_person_basis and "第八条" in mca.single_person_basis
    # seed-default has no single-person coverage: the family is refused on income.
    seed = assess(household, SEED_DEFAULT)
    assert not seed.eligible and seed.single_person_members == ()


def test_art8_grade_3_covers_alone_only_for_intellectual_or_mental_disability() -> None:
    for kind, covered in ((DisabilityKind.MENTAL, True), (DisabilityKind.PHYSICAL, False)):
        head = replace(HEAD, disability_grade=3, disability_kind=kind)
        result = assess(facts(members=(head, SON, GRANDSON), incomes=NEAR_POOR), MCA_2021)
        assert result.eligible is covered


def test_art8_not_near_poor_at_or_above_the_multiplier_or_with_a_must_exclude_fact() -> None:
    rich = (IncomeItem(IncomeCategory.BUSINESS, 3 * 79_500),)  # exactly 1.5 × 530 each
    assert not assess(
        facts(members=(DISABLED_HEAD, SON, GRANDSON), incomes=rich), MCA_2021
    ).eligible
    car = facts(
        members=(DISABLED_HEAD, SON, GRANDSON),
        incomes=NEAR_POOR,
        assets=Assets(vehicles=(VehicleKind.CAR,)),
    )
    assert not assess(car, MCA_2021).eligible
    wider = replace(MCA_2021, single_person_multiplier=2.0)
    assert assess(facts(members=(DISABLED_HEAD, SON, GRANDSON), incomes=rich), wider).eligible


def test_art8_a_household_below_the_line_is_covered_whole_not_alone() -> None:
    result = assess(facts(members=(DISABLED_HEAD, SON, GRANDSON)), MCA_2021)
    assert result.single_person_members == ()
    assert result.covered_size == 3


def test_art8_a_new_standard_keeps_a_single_person_amount_that_members_own() -> None:
    from dibao.domain.eligibility import HouseholdCategory
    from dibao.domain.recipient import RecipientState, standard_change
    from dibao.domain.standards import Standard

    state = RecipientState(
        certificate_no="DB1",
        category=HouseholdCategory.A,
        monthly_amount_fen=URBAN,
        area_type=AreaType.URBAN,
        members=(DISABLED_HEAD, SON, GRANDSON),
        cycle=1,
        next_review_on="2027-12-01",
        seq=1,
        per_capita_income_fen_month=66_667,
        counted_income_fen_month=200_000,
        single_person_count=1,
    )
    change = standard_change(state, MCA_2021, "2027-07", Standard(AreaType.URBAN, 56_000))
    # The household's own amount would be 0 (income above the line): the member's is 560 元.
    assert change.monthly_amount_fen == 56_000


def test_art14_funds_insurance_and_internet_finance_count_with_deposits_on_both_packs() -> None:
    assets = Assets(deposits_fen=1_500_000, other_financial_fen=500_000)
    for pack in (SEED_DEFAULT, MCA_2021):
        result = assess(facts(assets=assets), pack)
        assert [f.code for f in result.failures] == [RuleCode.DEPOSITS_AT_OR_ABOVE_LIMIT]
        assert "互联网金融资产" in result.failures[0].message
        assert "第十四条" in result.failures[0].message
