"""The ledger's check (台账校验): every error by row and column in Chinese, nothing when any
remains, and a clean household's opening month after the month the old system paid up to."""

from __future__ import annotations

from datetime import date

from dibao.domain.ledger import case_id_for, check_ledger, recipient_state_of
from tests.golive import ledger_rows

TODAY = date(2026, 11, 20)


def test_a_clean_household_opens_the_month_after_it_was_paid_up_to() -> None:
    check = check_ledger(ledger_rows(3, paid_up_to="2026-10"), "610423", TODAY)
    assert check.errors == ()
    assert (len(check.households), check.persons) == (3, 6)
    first = check.households[0]
    assert (first.opening_month, first.monthly_amount_fen, first.category.value) == (
        "2026-11",
        30_000,
        "A",
    )
    state = recipient_state_of(first)
    assert (state.paid_from, state.ledger_month, state.next_review_on) == (
        "2026-11",
        "2026-11",
        "2027-06-01",
    )


def test_household_errors_are_named_by_row_and_column_and_nothing_is_kept() -> None:
    rows = ledger_rows(3)
    rows[1]["relation"] = "户主"  # two heads of LD000000 (rows 2 and 3)
    rows[3]["area_type"] = "城市"  # a member's household field differs from the head's (row 5)
    rows[4]["next_review_on"] = "2027-02-30"
    rows[4]["account_holder"] = "外人"
    check = check_ledger(rows, "610423", TODAY)
    assert check.households == ()
    assert [(e.row, e.column, e.message) for e in check.errors] == [
        (2, "与户主关系", "低保证号 LD000000 的家庭应有且只有一名户主（现有2名）"),
        (5, "城乡类别", "与户主行不一致"),
        (6, "下次复核日期", "应为日期，格式 YYYY-MM-DD"),
        (6, "开户人", "开户人应为家庭成员"),
    ]


def test_a_person_in_an_open_case_cannot_be_imported() -> None:
    rows = ledger_rows(2)
    check = check_ledger(rows, "610423", TODAY, in_open_cases=frozenset({rows[2]["id_number"]}))
    assert [(e.row, e.message) for e in check.errors] == [(4, "此人已有未结案件，不能再导入")]


def test_a_member_in_an_open_case_is_named_whoever_heads_that_case() -> None:
    rows = ledger_rows(3)
    # Row 5 is LD000001's child: someone else heads the open case that lists them.
    check = check_ledger(rows, "610423", TODAY, in_open_cases=frozenset({rows[3]["id_number"]}))
    assert check.households == ()
    assert [(e.row, e.column, e.message) for e in check.errors] == [
        (5, "身份证号", "此人已有未结案件，不能再导入")
    ]


def test_a_member_listed_in_two_households_of_the_file_is_named_on_both_rows() -> None:
    rows = ledger_rows(3)
    rows[5]["id_number"] = rows[1]["id_number"].lower()  # LD000002's child is LD000000's too
    check = check_ledger(rows, "610423", TODAY)
    assert check.households == ()
    assert [(e.row, e.column, e.message) for e in check.errors] == [
        (3, "身份证号", "身份证号在文件中重复出现"),
        (7, "身份证号", "身份证号在文件中重复出现"),
    ]


def test_case_ids_are_opaque_and_stable_per_file_and_household() -> None:
    a = case_id_for("f" * 64, "LD000001")
    assert a == case_id_for("f" * 64, "LD000001") != case_id_for("e" * 64, "LD000001")
    assert a.startswith("DB-L") and len(a) == 15 and "LD" not in a[4:]
