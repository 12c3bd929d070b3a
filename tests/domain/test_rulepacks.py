"""Rule packs: the policy parameters chosen per jurisdiction (DOMAIN.md)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dibao.domain.enums import Stage
from dibao.domain.rulepacks import (
    MCA_2021,
    RULE_PACKS,
    SEED_DEFAULT,
    TRAINING_SEED_DEFAULT,
    AmountMethod,
    PaymentStart,
    RulePack,
    change_problems,
    get_rule_pack,
    policy_problems,
    titled,
    unchanged_problem,
)


def test_both_packs_are_available_by_id() -> None:
    assert get_rule_pack("seed-default") is SEED_DEFAULT
    assert get_rule_pack("mca-2021") is MCA_2021
    assert set(RULE_PACKS) == {"seed-default", "mca-2021", "training-seed-default"}
    assert get_rule_pack("training-seed-default").posting_duration.total_seconds() == 60


def test_unknown_pack_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError) as excinfo:
        get_rule_pack("shaanxi-2030")
    message = str(excinfo.value)
    assert "'shaanxi-2030'" in message
    assert "mca-2021, seed-default" in message


def test_pack_lookup_is_exact() -> None:
    with pytest.raises(ValueError):
        get_rule_pack("MCA-2021")


def test_every_pack_posts_for_at_least_seven_days() -> None:
    assert all(pack.posting_days == 7 for pack in RULE_PACKS.values())


def test_seed_default_gives_township_and_county_twenty_working_days_each() -> None:
    assert SEED_DEFAULT.stage_working_days(Stage.TOWNSHIP_REVIEW) == 20
    assert SEED_DEFAULT.stage_working_days(Stage.COUNTY_APPROVAL) == 20
    assert SEED_DEFAULT.stage_working_days(Stage.SURVEY) == 20


def test_mca_2021_gives_survey_three_and_county_ten_working_days() -> None:
    assert MCA_2021.stage_working_days(Stage.SURVEY) == 3
    assert MCA_2021.stage_working_days(Stage.COUNTY_APPROVAL) == 10
    assert MCA_2021.stage_working_days(Stage.TOWNSHIP_REVIEW) == 20


def test_mca_2021_gives_county_verification_three_working_days() -> None:
    # Art. 17: the county completes the cross-department verification within 3 working days.
    assert MCA_2021.stage_working_days(Stage.VERIFICATION) == 3


def test_seed_default_sets_no_separate_verification_deadline() -> None:
    # Verification falls inside the township's 20 working days (陕西 第十条(一)).
    assert SEED_DEFAULT.stage_working_days(Stage.VERIFICATION) is None


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
@pytest.mark.parametrize(
    "stage",
    [
        Stage.APPLICATION,
        Stage.EVALUATION,
        Stage.POSTING_BEFORE_REVIEW,
        Stage.POSTING_BEFORE_APPROVAL,
        Stage.POSTING_AFTER_APPROVAL,
        Stage.RECIPIENT,
        Stage.CLOSED,
    ],
)
def test_stages_without_an_office_clock_have_no_working_day_deadline(
    pack: RulePack, stage: Stage
) -> None:
    assert pack.stage_working_days(stage) is None


def test_packs_are_immutable_so_a_running_case_keeps_its_deadlines() -> None:
    with pytest.raises(AttributeError):
        SEED_DEFAULT.county_approval_working_days = 5  # type: ignore[misc]


# --- stored parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
def test_pack_survives_a_round_trip_through_stored_parameters(pack: RulePack) -> None:
    assert RulePack.from_params(pack.to_params()) == pack


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
def test_pack_survives_a_round_trip_through_json(pack: RulePack) -> None:
    # The rule_packs table and the workflow input hold the parameters as JSON.
    params = json.loads(json.dumps(pack.to_params()))
    assert RulePack.from_params(params) == pack


def test_stored_parameters_hold_plain_json_values() -> None:
    params = MCA_2021.to_params()
    assert params["procedure"] == [s.value for s in MCA_2021.procedure]
    assert params["objection_stage"] == "evaluation"
    assert params["tier_shares"] == [["A", 1.0], ["B", 0.7], ["C", 0.4]]
    assert params["amount_method"] == "difference"
    assert params["payment_start"] == "next_month"


def test_round_trip_keeps_an_offices_changed_values() -> None:
    changed = dataclasses.replace(
        SEED_DEFAULT,
        version=2,
        amount_method=AmountMethod.TIERED,
        tier_shares=(("A", 0.9), ("B", 0.6), ("C", 0.3)),
        rural_standard_fen_year=380_000,
    )
    restored = RulePack.from_params(json.loads(json.dumps(changed.to_params())))
    assert restored == changed
    assert restored.amount_method is AmountMethod.TIERED
    assert restored.tier_shares == (("A", 0.9), ("B", 0.6), ("C", 0.3))


# --- the two procedures differ --------------------------------------------------------------


def test_seed_default_holds_democratic_evaluation_for_every_application() -> None:
    assert Stage.EVALUATION in SEED_DEFAULT.procedure
    assert SEED_DEFAULT.evaluation_only_on_objection is False
    assert SEED_DEFAULT.payment_start is PaymentStart.APPROVAL_MONTH


def test_mca_2021_holds_evaluation_only_when_a_posting_draws_an_objection() -> None:
    # Art. 19: no evaluation stage in the normal procedure; an objection sends the case there.
    assert Stage.EVALUATION not in MCA_2021.procedure
    assert MCA_2021.evaluation_only_on_objection is True
    assert MCA_2021.objection_stage is Stage.EVALUATION


def test_mca_2021_pays_from_the_month_after_approval() -> None:
    # Arts. 21, 25.
    assert MCA_2021.payment_start is PaymentStart.NEXT_MONTH


def test_the_two_packs_differ_in_procedure() -> None:
    assert SEED_DEFAULT.procedure != MCA_2021.procedure
    assert Stage.EVALUATION in set(SEED_DEFAULT.procedure) - set(MCA_2021.procedure)


def test_a_title_says_the_posting_period_of_its_own_pack() -> None:
    ten = titled(dataclasses.replace(TRAINING_SEED_DEFAULT, posting_seconds=10))
    assert ten.title == "培训演示：三级会审、三榜公示（公示期缩短为10秒）"
    assert titled(TRAINING_SEED_DEFAULT) is TRAINING_SEED_DEFAULT
    # Back to real postings: the title says how many days, not the old seconds.
    days = titled(dataclasses.replace(TRAINING_SEED_DEFAULT, posting_seconds=None, posting_days=10))
    assert days.title == "培训演示：三级会审、三榜公示（公示期10天）"
    # A training pack retitled without the note still says its postings are short.
    bare = dataclasses.replace(TRAINING_SEED_DEFAULT, title="岗前培训", posting_seconds=30)
    assert titled(bare).title == "岗前培训（公示期缩短为30秒）"
    # Titles that say nothing of the posting period are left as they are.
    assert titled(dataclasses.replace(SEED_DEFAULT, posting_days=10)).title == SEED_DEFAULT.title


# --- what a published version may be ------------------------------------------------------


def test_the_builtin_packs_pass_the_policy_checks() -> None:
    for pack in RULE_PACKS.values():
        assert policy_problems(pack) == [], pack.id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"posting_days": 0}, "posting_days: must be at least 1"),
        ({"spot_check_share": 1.5}, "spot_check_share: must be between 0 and 1"),
        ({"procedure": ()}, "procedure: must list at least one stage"),
        ({"procedure": (Stage.SURVEY, Stage.SURVEY)}, "procedure: a stage is listed twice"),
        ({"title": "  "}, "title: must not be empty"),
        ({"deposit_limit_fen": -1}, "deposit_limit_fen: must not be negative"),
        ({"whole_procedure_extended_working_days": 30}, "must exceed whole_procedure_working"),
        ({"posting_seconds": 60}, "only a training pack"),
        ({"tier_shares": (("A", 1.0), ("A", 0.5))}, "tier_shares: a category is listed twice"),
        ({"earliest_month": "1999-12"}, "earliest_month: must be a month, YYYY-MM, from 2000"),
        ({"months_ahead": 121}, "months_ahead: must be between 0 and 120"),
        ({"standard_min_fen_month": 0}, "standard_min_fen_month: must be at least 1"),
    ],
)
def test_a_pack_no_policy_could_mean_is_named_field_by_field(
    changes: dict[str, object], message: str
) -> None:
    problems = policy_problems(dataclasses.replace(MCA_2021, **changes))  # type: ignore[arg-type]
    assert any(message in p for p in problems), problems


def test_a_training_pack_may_shorten_postings_but_not_to_nothing() -> None:
    assert policy_problems(TRAINING_SEED_DEFAULT) == []
    shortened = dataclasses.replace(TRAINING_SEED_DEFAULT, posting_seconds=0)
    assert policy_problems(shortened) == ["posting_seconds: must be at least 1"]


def test_a_new_version_keeps_its_id_and_gets_the_next_number() -> None:
    assert change_problems({"posting_days": 10}) == []
    problems = change_problems({"id": "x", "version": 9, "posting_dayz": 1})
    assert problems[:3] == [
        "posting_dayz: unknown field",
        "id: cannot be changed; a different pack is a different id",
        "version: cannot be changed; a new version gets the next number",
    ]
    assert problems[3].startswith("changeable fields: ") and "posting_days" in problems[3]


def test_a_new_version_must_change_something_besides_its_number() -> None:
    next_number = dataclasses.replace(MCA_2021, version=2)
    assert (
        unchanged_problem(MCA_2021, next_number) == "the changes leave mca-2021 version 1 as it is"
    )
    assert unchanged_problem(MCA_2021, dataclasses.replace(next_number, posting_days=10)) is None
