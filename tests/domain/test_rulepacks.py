"""Rule packs: the policy parameters chosen per jurisdiction (DOMAIN.md)."""

from __future__ import annotations

import pytest

from dibao.domain.enums import Stage
from dibao.domain.rulepacks import MCA_2021, RULE_PACKS, SEED_DEFAULT, RulePack, get_rule_pack


def test_both_packs_are_available_by_id() -> None:
    assert get_rule_pack("seed-default") is SEED_DEFAULT
    assert get_rule_pack("mca-2021") is MCA_2021
    assert set(RULE_PACKS) == {"seed-default", "mca-2021"}


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


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
@pytest.mark.parametrize(
    "stage",
    [
        Stage.APPLICATION,
        Stage.VERIFICATION,
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
