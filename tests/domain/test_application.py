"""validate_id_number and validate_application: what a caseworker is told when filing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from stdnum.cn import ric

from dibao.domain.application import (
    Assets,
    FieldError,
    IncomeItem,
    Payee,
    payee_holder_problems,
    validate_application,
    validate_id_number,
)
from dibao.domain.enums import IncomeCategory, Relation
from tests.domain.factories import (
    DAUGHTER_IN_LAW_ID,
    GRANDSON_ID,
    HEAD_ID,
    OTHER_ID,
    SON_ID,
    application,
    hukou,
    member,
)


def with_check_digit(first17: str) -> str:
    """A full ID number with the correct GB 11643 check digit for `first17`."""
    number = first17 + ric.calc_check_digit(first17 + "0")
    assert ric.is_valid(number)
    return number


def paths(errors: list[FieldError]) -> list[tuple[str | int, ...]]:
    return [e.path for e in errors]


# --- validate_id_number ---------------------------------------------------------------------


@pytest.mark.parametrize("id_number", [HEAD_ID, SON_ID, GRANDSON_ID, DAUGHTER_IN_LAW_ID, OTHER_ID])
def test_valid_resident_id_numbers_are_accepted(id_number: str) -> None:
    assert validate_id_number(id_number) is None


def test_id_number_ending_in_x_check_digit_is_accepted() -> None:
    assert SON_ID.endswith("X")
    assert validate_id_number(SON_ID) is None


def test_id_number_with_wrong_check_digit_is_rejected_with_check_digit_reason() -> None:
    wrong = HEAD_ID[:17] + "8"
    reason = validate_id_number(wrong)
    assert reason is not None
    assert "check digit" in reason


def test_id_number_with_impossible_birth_date_is_rejected_even_with_matching_check_digit() -> None:
    first17 = "61042319850230001"  # born 1985-02-30
    number = first17 + ric.calc_check_digit(first17 + "0")
    assert not ric.is_valid(number)
    reason = validate_id_number(number)
    assert reason is not None
    assert "birth date" in reason


@pytest.mark.parametrize(
    "id_number",
    [
        HEAD_ID[:17],  # 17 characters
        HEAD_ID + "0",  # 19 characters
        "",
        "61252219580312002A",  # letter other than X
        "6125221958031X0027",  # X not in last place
        " " + HEAD_ID[1:],  # blank inside
    ],
)
def test_id_number_with_wrong_shape_is_rejected_with_format_reason(id_number: str) -> None:
    assert validate_id_number(id_number) == "must be 18 characters: 17 digits then a digit or X"


def test_lowercase_x_check_digit_is_rejected_with_a_reason_naming_uppercase_x() -> None:
    # The API upper-cases ID numbers before validating; the domain check itself is strict.
    reason = validate_id_number(SON_ID.lower())
    assert reason is not None
    assert "X" in reason


def test_id_number_with_birth_date_in_the_future_is_rejected() -> None:
    number = with_check_digit("61042320270101001")  # born 2027-01-01
    assert validate_id_number(number, today=date(2026, 11, 22)) == "birth date lies in the future"
    assert validate_id_number(number, today=date(2027, 1, 1)) is None


def test_cached_region_check_gives_the_same_answers_as_python_stdnum_every_time() -> None:
    # A file repeats regions and birth years: asked again, the cached check must still say
    # what python-stdnum itself says, for valid numbers and for every kind of invalid one.
    region_never_assigned = "990101" + "19800101" + "001"
    county_not_yet_assigned = "610403" + "19500101" + "001"  # 杨陵区 exists from 1997 only

    def checked(first17: str) -> str:
        return first17 + ric.calc_check_digit(first17 + "0")

    numbers = [
        HEAD_ID,
        SON_ID,
        checked(region_never_assigned),
        checked(county_not_yet_assigned),
        with_check_digit("610403" + "20000101" + "001"),
        HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1"),
        checked("61042319581331002"),
    ]
    for _ in range(3):
        for number in numbers:
            expected = ric.is_valid(number)
            assert (validate_id_number(number) is None) is expected, number
    assert validate_id_number(numbers[2]) == (
        "check digit, birth date or region code is wrong (GB 11643)"
    )


# --- validate_application: a valid application ---------------------------------------------


def test_complete_valid_application_has_no_errors() -> None:
    assert validate_application(application()) == []


def test_application_with_head_alone_is_valid() -> None:
    assert validate_application(application(members=(member(),))) == []


def test_positive_disability_grades_one_to_four_are_valid() -> None:
    for grade in (1, 2, 3, 4):
        app = application(members=(member(disability_grade=grade),))
        assert validate_application(app) == [], grade


# --- members and head of household ---------------------------------------------------------


def test_application_without_members_is_rejected_on_members() -> None:
    errors = validate_application(application(members=()))
    assert paths(errors) == [("members",)]
    assert "head of household" in errors[0].message


def test_application_without_a_head_is_rejected_with_count_found() -> None:
    members = (
        member("王建军", SON_ID, Relation.CHILD),
        member("王小明", GRANDSON_ID, Relation.GRANDCHILD),
    )
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members",)]
    assert "exactly one" in errors[0].message
    assert "found 0" in errors[0].message


def test_application_with_two_heads_is_rejected_with_count_found() -> None:
    members = (member(), member("王建军", SON_ID, Relation.HEAD))
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members",)]
    assert "found 2" in errors[0].message


def test_application_with_more_than_thirty_members_is_rejected() -> None:
    members = [member()]
    for i in range(30):
        members.append(
            member(f"成员{i}", with_check_digit(f"61042319900101{i:03d}"), Relation.OTHER)
        )
    assert len(members) == 31
    errors = validate_application(application(members=tuple(members)))
    assert paths(errors) == [("members",)]
    assert "at most 30" in errors[0].message


def test_thirty_members_is_still_accepted() -> None:
    members = [member()]
    for i in range(29):
        members.append(
            member(f"成员{i}", with_check_digit(f"61042319900101{i:03d}"), Relation.OTHER)
        )
    assert validate_application(application(members=tuple(members))) == []


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_blank_member_name_is_rejected_with_field_path(name: str) -> None:
    members = (member(), member(name, SON_ID, Relation.CHILD))
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members", 1, "name")]


def test_id_number_with_wrong_check_digit_is_rejected_with_field_path() -> None:
    members = (member(), member("王建军", SON_ID[:17] + "0", Relation.CHILD))
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members", 1, "id_number")]
    assert "check digit" in errors[0].message


def test_duplicate_id_number_is_reported_on_the_second_member_naming_the_first() -> None:
    members = (
        member(),
        member("王建军", SON_ID, Relation.CHILD),
        member("王建国", SON_ID, Relation.CHILD),
    )
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members", 2, "id_number")]
    assert errors[0].message == "same ID number as members[1]"


def test_id_number_used_three_times_reports_each_repeat_against_the_first() -> None:
    members = (
        member(),
        member("甲", HEAD_ID, Relation.CHILD),
        member("乙", HEAD_ID, Relation.CHILD),
    )
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members", 1, "id_number"), ("members", 2, "id_number")]
    assert all(e.message == "same ID number as members[0]" for e in errors)


@pytest.mark.parametrize("grade", [0, 5, -1])
def test_disability_grade_outside_one_to_four_is_rejected_with_field_path(grade: int) -> None:
    members = (member(), member("王建军", SON_ID, Relation.CHILD, disability_grade=grade))
    errors = validate_application(application(members=members))
    assert paths(errors) == [("members", 1, "disability_grade")]
    assert errors[0].message == "must be 1 to 4"


# --- household registration (hukou) codes -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "length"),
    [
        ("province_code", "610", 2),
        ("county_code", "61042", 6),
        ("township_code", "6104231000", 9),
        ("village_code", "61042310020", 12),
        ("village_code", "61042310020A", 12),
    ],
)
def test_division_code_of_wrong_length_or_non_digits_is_rejected_with_field_path(
    field: str, value: str, length: int
) -> None:
    errors = validate_application(application(hukou=hukou(**{field: value})))
    assert paths(errors) == [("hukou", field)]
    assert errors[0].message == f"must be {length} digits"


def test_village_code_outside_the_township_is_rejected_on_village_code() -> None:
    errors = validate_application(application(hukou=hukou(village_code="610423101201")))
    assert paths(errors) == [("hukou", "village_code")]
    assert errors[0].message == "does not lie within township_code"


def test_township_code_outside_the_county_is_rejected_on_township_code() -> None:
    errors = validate_application(
        application(hukou=hukou(township_code="610424100", village_code="610424100201"))
    )
    assert paths(errors) == [("hukou", "township_code")]
    assert errors[0].message == "does not lie within county_code"


def test_county_code_outside_the_province_is_rejected_on_county_code() -> None:
    errors = validate_application(
        application(
            hukou=hukou(
                county_code="620423", township_code="620423100", village_code="620423100201"
            )
        )
    )
    assert paths(errors) == [("hukou", "county_code")]
    assert errors[0].message == "does not lie within province_code"


def test_each_broken_level_of_the_division_chain_is_reported() -> None:
    bad = hukou(county_code="620423", township_code="610423100", village_code="610423101201")
    errors = validate_application(application(hukou=bad))
    assert paths(errors) == [
        ("hukou", "county_code"),
        ("hukou", "township_code"),
        ("hukou", "village_code"),
    ]


def test_malformed_parent_code_does_not_also_report_a_nesting_error_on_the_child() -> None:
    errors = validate_application(application(hukou=hukou(township_code="61042")))
    assert paths(errors) == [("hukou", "township_code")]


# --- amounts ---------------------------------------------------------------------------------


def test_negative_income_is_rejected_with_the_api_field_path_of_that_item() -> None:
    incomes = (
        IncomeItem(IncomeCategory.WAGES, 80_000),
        IncomeItem(IncomeCategory.RENTAL, -1),
    )
    errors = validate_application(application(incomes=incomes))
    assert paths(errors) == [("incomes", 1, "monthly_amount")]
    assert errors[0].message == "must not be negative"


def test_zero_income_is_accepted() -> None:
    incomes = (IncomeItem(IncomeCategory.WAGES, 0),)
    assert validate_application(application(incomes=incomes)) == []


@pytest.mark.parametrize(
    ("assets", "path"),
    [
        (Assets(deposits_fen=-1), ("assets", "deposits")),
        (Assets(securities_fen=-100), ("assets", "securities")),
        (Assets(homes=-1), ("assets", "homes")),
    ],
)
def test_negative_asset_amount_is_rejected_with_the_api_field_path(
    assets: Assets, path: tuple[str, ...]
) -> None:
    errors = validate_application(application(assets=assets))
    assert paths(errors) == [path]
    assert errors[0].message == "must not be negative"


# --- all problems at once ------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_field_order() -> None:
    app = application(
        members=(
            member(),
            member(" ", SON_ID, Relation.CHILD, disability_grade=7),
            member("王小明", HEAD_ID, Relation.GRANDCHILD),
        ),
        hukou=hukou(village_code="610423999201"),
        incomes=(IncomeItem(IncomeCategory.WAGES, -5),),
        assets=Assets(deposits_fen=-1, homes=-2),
    )
    assert paths(validate_application(app)) == [
        ("members", 1, "name"),
        ("members", 1, "disability_grade"),
        ("members", 2, "id_number"),
        ("hukou", "village_code"),
        ("incomes", 0, "monthly_amount"),
        ("assets", "deposits"),
        ("assets", "homes"),
    ]


# --- whose account is paid (代发账户) --------------------------------------------------------

ACCOUNT = Payee(account_holder="王建军", bank="示例农商银行", account_no="6217000000000000002")


def test_an_account_held_by_a_member_of_the_household_is_accepted() -> None:
    assert validate_application(application(payee=ACCOUNT)) == []


def test_an_account_held_by_someone_outside_the_household_is_refused_naming_the_holder() -> None:
    stranger = replace(ACCOUNT, account_holder="刘志强")
    errors = validate_application(application(payee=stranger))
    assert paths(errors) == [("payee", "account_holder")]
    assert "agent" in errors[0].message
    assert "刘志强" not in errors[0].message  # no personal data in error texts


def test_an_agent_outside_the_household_is_accepted_with_a_reason_and_refused_without() -> None:
    agent = replace(
        ACCOUNT, account_holder="刘志强", agent=True, agent_reason="户主卧床，监护人代领"
    )
    assert validate_application(application(payee=agent)) == []
    no_reason = replace(agent, agent_reason="  ")
    assert paths(validate_application(application(payee=no_reason))) == [("payee", "agent_reason")]


def test_a_member_is_not_recorded_as_an_agent_nor_a_reason_given_without_agent() -> None:
    member_as_agent = replace(ACCOUNT, agent=True, agent_reason="代领")
    assert paths(payee_holder_problems(member_as_agent, application().members)) == [
        ("payee", "agent")
    ]
    reason_only = replace(ACCOUNT, agent_reason="代领")
    assert paths(payee_holder_problems(reason_only, application().members)) == [("payee", "agent")]
