"""Rules the case workflow applies, tested without Temporal: the next stage, labour absences,
re-reviews, work refusals, the end of a gradual exit and the survey's acceptance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dibao.domain.application import Assets
from dibao.domain.eligibility import Assessment, HouseholdCategory, RuleCode, RuleFailure
from dibao.domain.enums import AreaType, Stage
from dibao.domain.procedure import first_stage, next_stage
from dibao.domain.recipient import (
    ChangeKind,
    RecipientState,
    absence_change,
    gradual_exit_end,
    review_change,
    work_refusal_change,
)
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, RulePack
from dibao.domain.survey import SurveyReport, validate_survey
from tests.domain.factories import GRANDSON_ID, SON_ID, household, member

APPROVED = {Stage.EVALUATION: True, Stage.TOWNSHIP_REVIEW: True, Stage.COUNTY_APPROVAL: True}


def walk(pack: RulePack, approved: dict[Stage, bool]) -> list[Stage]:
    stages = [first_stage(pack)]
    while stages[-1] is not Stage.RECIPIENT:
        stages.append(next_stage(pack, stages[-1], approved=approved, after_objection=False))
    return stages


# --- the next stage ---------------------------------------------------------------------------


def test_seed_default_runs_three_levels_and_three_postings() -> None:
    assert walk(SEED_DEFAULT, APPROVED) == [*SEED_DEFAULT.procedure, Stage.RECIPIENT]


def test_a_negative_opinion_is_not_posted_but_the_next_level_still_decides() -> None:
    stages = walk(SEED_DEFAULT, {**APPROVED, Stage.EVALUATION: False})
    assert Stage.POSTING_BEFORE_REVIEW not in stages
    assert Stage.TOWNSHIP_REVIEW in stages and Stage.POSTING_BEFORE_APPROVAL in stages
    stages = walk(SEED_DEFAULT, {**APPROVED, Stage.TOWNSHIP_REVIEW: False})
    assert Stage.POSTING_BEFORE_APPROVAL not in stages and Stage.COUNTY_APPROVAL in stages


def test_mca_2021_goes_without_evaluation() -> None:
    assert Stage.EVALUATION not in walk(MCA_2021, APPROVED)


def test_mca_2021_evaluation_after_an_objection_goes_to_the_township_then_the_county() -> None:
    assert next_stage(MCA_2021, Stage.EVALUATION, approved=APPROVED, after_objection=True) is (
        Stage.TOWNSHIP_REVIEW
    )
    after = next_stage(MCA_2021, Stage.TOWNSHIP_REVIEW, approved=APPROVED, after_objection=True)
    assert after is Stage.COUNTY_APPROVAL  # no second posting of the re-examined case


# --- the recipient phase ------------------------------------------------------------------------


def recipient(**fields: object) -> RecipientState:
    base = RecipientState(
        certificate_no="610423-2026-0001",
        category=HouseholdCategory.A,
        monthly_amount_fen=90_000,
        area_type=AreaType.RURAL,
        members=household(member("王建军", SON_ID), member("王小明", GRANDSON_ID)),
        cycle=1,
        next_review_on="2027-12-15",
        seq=9,
        counted_income_fen_month=0,
        paid_from="2027-01",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_justified_absence_counts_nothing() -> None:
    assert absence_change(recipient(unjustified_absences=1), True, date(2027, 3, 4)) == (1, None)


def test_the_second_unjustified_absence_suspends_from_next_month_for_three_months() -> None:
    count, change = absence_change(recipient(), False, date(2027, 3, 4))
    assert (count, change) == (1, None)
    count, change = absence_change(recipient(unjustified_absences=1), False, date(2027, 3, 4))
    assert count == 0 and change is not None
    assert (change.kind, change.monthly_amount_fen, change.effective_month) == (
        ChangeKind.SUSPEND,
        0,
        "2027-04",
    )
    assert "2027-07" in change.reasons[0]  # resumes by itself


def test_no_second_suspension_while_one_runs() -> None:
    state = recipient(unjustified_absences=1, suspended_until="2027-07")
    assert absence_change(state, False, date(2027, 4, 4)) == (2, None)


def assessment(eligible: bool, amount: int) -> Assessment:
    failures = (
        ()
        if eligible
        else (RuleFailure(RuleCode.INCOME_ABOVE_STANDARD, "家庭人均收入高于低保标准"),)
    )
    return Assessment(
        eligible=eligible,
        failures=failures,
        household_size=3,
        counted_income_fen_month=30_000,
        per_capita_income_fen_month=10_000,
        standard_fen_month=30_917,
        monthly_amount_fen=amount,
        category=HouseholdCategory.A,
        priority=(),
    )


def test_a_review_that_finds_nothing_material_keeps_the_amount() -> None:
    change = review_change(90_000, assessment(True, 90_000), "2028-01")
    assert (change.kind, change.reasons) == (ChangeKind.UNCHANGED, ())


def test_a_review_changes_the_amount_with_the_reason() -> None:
    change = review_change(90_000, assessment(True, 60_000), "2028-01")
    assert change.kind is ChangeKind.DECREASE and change.monthly_amount_fen == 60_000
    assert "900.00" in change.reasons[0] and "600.00" in change.reasons[0]
    assert review_change(60_000, assessment(True, 90_000), "2028-01").kind is ChangeKind.INCREASE


def test_a_review_that_finds_the_household_ineligible_stops_with_every_failed_rule() -> None:
    change = review_change(90_000, assessment(False, 0), "2028-01")
    assert (change.kind, change.monthly_amount_fen) == (ChangeKind.STOP, 0)
    assert change.reasons == ("家庭人均收入高于低保标准",)


def test_work_refusals_stop_only_that_members_portion_at_the_packs_limit() -> None:
    state = recipient()
    for count in (1, 2):
        counts, change = work_refusal_change(state, MCA_2021, SON_ID, date(2027, 5, 2))
        assert dict(counts)[SON_ID] == count and change is None
        state = replace(state, work_refusals=counts)
    counts, change = work_refusal_change(state, MCA_2021, SON_ID, date(2027, 5, 2))
    assert change is not None and change.kind is ChangeKind.DECREASE
    assert (change.monthly_amount_fen, change.effective_month) == (60_000, "2027-06")
    assert SON_ID not in change.reasons[0] and SON_ID[-4:] in change.reasons[0]


def test_work_refusals_stop_nothing_where_the_pack_has_no_such_rule() -> None:
    state = recipient(work_refusals=((SON_ID, 5),))
    assert work_refusal_change(state, SEED_DEFAULT, SON_ID, date(2027, 5, 2))[1] is None


def test_a_portion_already_stopped_is_not_stopped_again() -> None:
    state = recipient(work_refusals=((SON_ID, 3),), portion_stopped=(SON_ID,))
    assert work_refusal_change(state, MCA_2021, SON_ID, date(2027, 5, 2))[1] is None


def test_the_end_of_a_gradual_exit_counts_the_wage_from_its_month() -> None:
    state = recipient(gradual_exit_until="2027-09", reemployment_wage_fen=30_000)
    change = gradual_exit_end(state, SEED_DEFAULT)
    assert change.effective_month == "2027-09"
    assert change.kind is ChangeKind.DECREASE and change.monthly_amount_fen < 90_000
    assert "300.00" in change.reasons[0]


def test_a_wage_lifting_the_household_above_the_standard_ends_benefit() -> None:
    state = recipient(gradual_exit_until="2027-09", reemployment_wage_fen=500_000)
    change = gradual_exit_end(state, SEED_DEFAULT)
    assert (change.kind, change.monthly_amount_fen) == (ChangeKind.STOP, 0)
    assert change.reasons[0].endswith("停发")


# --- the survey ---------------------------------------------------------------------------------


def report(**fields: object) -> SurveyReport:
    base = SurveyReport(
        investigators=("zhang.wei", "zhao.min"),
        surveyed_on="2027-01-05",
        members=household(),
        incomes=(),
        assets=Assets(),
        living_conditions="土木结构房屋两间，家具陈旧",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_complete_survey_is_accepted() -> None:
    assert validate_survey(report(), date(2027, 1, 6)) == []


def test_a_survey_needs_two_different_investigators() -> None:
    (error,) = validate_survey(report(investigators=("zhang.wei", " zhang.wei ")), None)
    assert error.path == ("investigators",) and "got 1" in error.message


def test_a_survey_may_not_be_dated_in_the_future_or_undated() -> None:
    (error,) = validate_survey(report(), date(2027, 1, 4))
    assert error.path == ("surveyed_on",) and error.message == "lies in the future"
    (error,) = validate_survey(report(surveyed_on="5.1.2027"), None)
    assert error.path == ("surveyed_on",)


def test_each_problem_of_a_survey_is_named_by_its_field() -> None:
    bad_member = member(id_number="610423199001011234")
    errors = validate_survey(report(members=(bad_member,), living_conditions=" "), None)
    assert [e.path for e in errors] == [("members", 0, "id_number"), ("living_conditions",)]
    errors = validate_survey(report(members=()), None)
    assert [e.path for e in errors] == [("members",)]
