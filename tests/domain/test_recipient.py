"""Monthly sign-ins of a recipient household: one answer per month, owed only for months paid."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dibao.domain.eligibility import HouseholdCategory
from dibao.domain.enums import AreaType
from dibao.domain.recipient import (
    ChangeKind,
    RecipientState,
    record_sign_in,
    sign_in_problem,
)


def recipient(**fields: object) -> RecipientState:
    base = RecipientState(
        certificate_no="610423-2026-0001",
        category=HouseholdCategory.A,
        monthly_amount_fen=72750,
        area_type=AreaType.RURAL,
        members=(),
        cycle=1,
        next_review_on="2027-12-15",
        seq=9,
        paid_from="2027-01",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def report(state: RecipientState, month: str, done: bool) -> RecipientState:
    outcome = record_sign_in(state, month, done)
    return replace(state, sign_ins=outcome.sign_ins, missed_sign_ins=outcome.missed_sign_ins)


def test_the_same_missed_month_reported_twice_counts_once_and_stops_nothing() -> None:
    state = report(recipient(), "2027-01", done=False)
    again = record_sign_in(state, "2027-01", done=False)
    assert again.repeated and again.change is None
    assert again.missed_sign_ins == 1
    assert again.sign_ins == (("2027-01", False),)


def test_two_consecutive_missed_months_stop_payment_from_the_month_after() -> None:
    state = report(recipient(), "2027-01", done=False)
    outcome = record_sign_in(state, "2027-02", done=False)
    assert outcome.change is not None and outcome.change.kind is ChangeKind.STOP
    assert outcome.change.effective_month == "2027-03"
    assert "2027-01 至 2027-02" in outcome.change.reasons[0]


def test_missed_months_with_a_sign_in_between_do_not_stop_payment() -> None:
    state = report(recipient(), "2027-01", done=False)
    state = report(state, "2027-02", done=True)
    outcome = record_sign_in(state, "2027-03", done=False)
    assert outcome.change is None and outcome.missed_sign_ins == 1


def test_a_month_reported_late_joins_its_neighbours() -> None:
    state = report(recipient(), "2027-03", done=False)
    outcome = record_sign_in(state, "2027-02", done=False)
    assert outcome.change is not None and outcome.change.effective_month == "2027-04"


def test_a_second_answer_for_a_month_corrects_the_first() -> None:
    state = report(recipient(), "2027-01", done=False)
    corrected = record_sign_in(state, "2027-01", done=True)
    assert corrected.corrected and not corrected.repeated
    assert corrected.sign_ins == (("2027-01", True),) and corrected.missed_sign_ins == 0
    state = replace(state, sign_ins=corrected.sign_ins, missed_sign_ins=0)
    assert record_sign_in(state, "2027-02", done=False).change is None


def test_a_miss_counted_before_months_were_kept_still_counts() -> None:
    # A case whose one missed sign-in was counted by the old rule, month unknown.
    outcome = record_sign_in(recipient(missed_sign_ins=1), "2027-02", done=False)
    assert outcome.change is not None and outcome.change.kind is ChangeKind.STOP


def test_sign_ins_are_owed_from_the_first_paid_month_to_the_month_begun() -> None:
    state = recipient()
    today = date(2027, 2, 10)
    assert sign_in_problem(state, "2027-01", today) is None
    assert sign_in_problem(state, "2027-02", today) is None
    before = sign_in_problem(state, "2026-12", today)
    assert before is not None and "2026-12" in before and "first month paid" in before
    ahead = sign_in_problem(state, "2027-03", today)
    assert ahead is not None and "2027-03" in ahead and "not begun" in ahead
    for bad in ("2027-13", "2027-1", "27-01", "2027-00"):
        problem = sign_in_problem(state, bad, today)
        assert problem is not None and problem.startswith("month:")
