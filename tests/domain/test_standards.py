"""Dated standards, the months and standards a user may give, and payment changes in ledger
order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from dibao.domain.eligibility import HouseholdCategory
from dibao.domain.enums import AreaType
from dibao.domain.recipient import (
    ChangeKind,
    PaymentChange,
    RecipientState,
    in_ledger_order,
    standard_change,
)
from dibao.domain.rulepacks import SEED_DEFAULT
from dibao.domain.standards import (
    Standard,
    month_problem,
    standard_change_problems,
    standard_problem,
)
from tests.domain.factories import member

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "2019-12", "2029-01", "2026-13", "26-1"])
def test_months_outside_the_packs_bounds_are_refused(month: str) -> None:
    assert month_problem(month, SEED_DEFAULT, TODAY) is not None


@pytest.mark.parametrize("month", ["2020-01", "2026-12", "2028-12"])
def test_months_from_go_live_to_the_horizon_are_taken(month: str) -> None:
    assert month_problem(month, SEED_DEFAULT, TODAY) is None


def test_a_county_with_a_later_go_live_refuses_earlier_months() -> None:
    pack = replace(SEED_DEFAULT, earliest_month="2026-07", months_ahead=6)
    assert month_problem("2026-06", pack, TODAY) is not None
    assert month_problem("2027-06", pack, TODAY) is None
    assert month_problem("2027-07", pack, TODAY) is not None


@pytest.mark.parametrize(
    ("area", "amount", "ok"),
    [
        (AreaType.URBAN, 8, False),  # 0.08 元 (issue 10)
        (AreaType.URBAN, 0, False),
        (AreaType.URBAN, 60_000, True),
        (AreaType.RURAL, 400_000, True),  # 4000 元/年
        (AreaType.RURAL, 60_000, False),  # 600 元/年 is 50 元/月: below the pack's 100 元
        (AreaType.URBAN, 100_000_000, False),
    ],
)
def test_standards_are_bounded_per_month_by_the_pack(area: AreaType, amount: int, ok: bool) -> None:
    assert (standard_problem(area, amount, SEED_DEFAULT) is None) is ok


def test_a_standard_change_names_each_field_that_is_wrong() -> None:
    problems = standard_change_problems(8, 400_000, "0000-01", SEED_DEFAULT, TODAY)
    assert [p.path for p in problems] == [("effective_month",), ("urban_standard",)]


def recipient(**changes: object) -> RecipientState:
    base = RecipientState(
        certificate_no="C1",
        category=HouseholdCategory.B,
        monthly_amount_fen=72_750,
        area_type=AreaType.RURAL,
        members=(member(), member(), member()),
        cycle=1,
        next_review_on="2027-12-01",
        seq=9,
        per_capita_income_fen_month=6_667,
        counted_income_fen_month=20_000,
        ledger_month="2027-01",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_standard_change_is_applied_to_the_exact_household_income() -> None:
    standard = Standard(AreaType.RURAL, 400_000, "2027-01", "SC-1")
    change = standard_change(recipient(), SEED_DEFAULT, "2027-01", standard)
    # 4000 / 12 × 3 − 200 = 800.00, not (333.33 − 66.66) × 3 = 800.01.
    assert (change.kind, change.monthly_amount_fen) == (ChangeKind.INCREASE, 80_000)


def test_a_stop_dated_before_the_latest_ledger_entry_takes_effect_from_it() -> None:
    # Otherwise the ledger's later start row would keep paying a household whose case exited.
    stop = PaymentChange(ChangeKind.STOP, 0, "2026-01", ("标准调整后不再符合条件",))
    assert in_ledger_order(stop, "2027-01").effective_month == "2027-01"
    later = replace(stop, effective_month="2027-03")
    assert in_ledger_order(later, "2027-01") == later
    assert in_ledger_order(stop, "") == stop  # states saved before the ledger month was kept
