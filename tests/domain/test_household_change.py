"""Family changes of a recipient household (动态管理): the new household, checked, and the
payment change it causes. Sources: mca-2021 Arts. 30–32 (the family reports, the county
decides 增发/减发/停发 and says why), 003 line 228 (7) (a deceased member still paid is
excluded), 001 陕西 第十条(四) (every change posted)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dibao.domain.application import Application, IncomeItem
from dibao.domain.eligibility import HouseholdCategory, assess, household_facts
from dibao.domain.enums import AreaType, IncomeCategory, Relation
from dibao.domain.household_change import (
    HouseholdChange,
    HouseholdEvent,
    Successor,
    changed_facts,
    changed_members,
    effective_month,
    household_change_problems,
    household_decision,
    successor_case_id,
)
from dibao.domain.recipient import ChangeKind, RecipientState
from dibao.domain.rulepacks import SEED_DEFAULT
from tests.domain.factories import GRANDSON_ID, HEAD_ID, SON_ID, member
from tests.domain.factories import application as base_application

NEWBORN_ID = "610423202610050036"  # born 2026-10-05 (GB 11643 birth date in the number)
BRIDE_ID = "610423199503030027"
TODAY = date(2026, 11, 20)


def application() -> Application:
    """The factories' three-person rural household, with a wage of 300 元 a month."""
    return base_application(incomes=(IncomeItem(IncomeCategory.WAGES, 30_000),))


def state(**fields: object) -> RecipientState:
    app = application()
    base = RecipientState(
        certificate_no="610423-2026-0001",
        category=HouseholdCategory.C,
        monthly_amount_fen=assessed(app.members).monthly_amount_fen,
        area_type=AreaType.RURAL,
        members=app.members,
        cycle=1,
        next_review_on="2027-06-15",
        seq=9,
        ledger_month="2026-07",
        paid_from="2026-07",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def assessed(members: tuple, change: HouseholdChange | None = None):  # type: ignore[no-untyped-def,type-arg]
    facts = household_facts(application(), None)
    if change is not None:
        facts = changed_facts(facts, members, change)
    else:
        facts = replace(facts, members=members)
    return assess(facts, SEED_DEFAULT)


def decide(change: HouseholdChange, current: RecipientState | None = None):  # type: ignore[no-untyped-def]
    current = current or state()
    members = changed_members(current.members, change)
    month = effective_month(change, current, TODAY)
    return household_decision(current, current.members, change, assessed(members, change), month)


def test_a_birth_adds_the_child_and_increases_the_amount_from_the_month_after_the_report() -> None:
    child = member("王小花", NEWBORN_ID, Relation.GRANDCHILD)
    change = HouseholdChange(HouseholdEvent.BIRTH, "2026-10-05", joining=child)
    assert household_change_problems(state().members, change, TODAY) == []
    decision = decide(change)
    assert len(decision.members) == 4
    assert decision.change.kind is ChangeKind.INCREASE
    # Art. 30: nothing is owed back before the family reported it.
    assert decision.change.effective_month == "2026-12"
    assert "家庭人口由 3 人变为 4 人" in decision.change.reasons[0]
    assert "出生" in decision.change.reasons[0]


def test_a_death_removes_the_member_and_reduces_from_the_month_after_the_death() -> None:
    # 003 line 228 (7): a deceased member is not paid for after death (recovered if paid).
    change = HouseholdChange(HouseholdEvent.DEATH, "2026-09-10", member_id_number=GRANDSON_ID)
    assert household_change_problems(state().members, change, TODAY) == []
    decision = decide(change)
    assert GRANDSON_ID not in {m.id_number for m in decision.members}
    assert decision.change.kind is ChangeKind.DECREASE
    assert decision.change.effective_month == "2026-10"
    assert "死亡" in decision.change.reasons[0] and "0033" in decision.change.reasons[0]
    assert "王小明" not in decision.change.reasons[0]  # the notice names by relation, ID tail


def test_a_change_is_never_dated_before_the_ledgers_latest_entry() -> None:
    change = HouseholdChange(HouseholdEvent.DEATH, "2026-09-10", member_id_number=GRANDSON_ID)
    assert effective_month(change, state(ledger_month="2026-11"), TODAY) == "2026-11"


def test_during_a_suspension_the_change_takes_effect_when_payment_resumes() -> None:
    change = HouseholdChange(HouseholdEvent.DEATH, "2026-09-10", member_id_number=GRANDSON_ID)
    assert effective_month(change, state(suspended_until="2027-01"), TODAY) == "2027-01"


def test_a_member_leaving_takes_the_wage_reported_with_the_change() -> None:
    leaves = HouseholdChange(
        HouseholdEvent.MARRIAGE_OUT, "2026-11-01", member_id_number=SON_ID, incomes=()
    )
    kept = replace(leaves, incomes=None)  # incomes as last assessed
    with_wage, without = decide(kept), decide(leaves)
    assert without.change.monthly_amount_fen - with_wage.change.monthly_amount_fen == 30_000
    assert "婚出" in without.change.reasons[0]
    assert "家庭人均收入为 0.00 元/月" in without.change.reasons[0]


def test_the_head_dies_and_a_new_head_is_named_on_the_same_case() -> None:
    change = HouseholdChange(
        HouseholdEvent.DEATH, "2026-11-02", member_id_number=HEAD_ID, new_head_id_number=SON_ID
    )
    assert household_change_problems(state().members, change, TODAY) == []
    decision = decide(change)
    heads = [m for m in decision.members if m.relation is Relation.HEAD]
    assert [h.id_number for h in heads] == [SON_ID]
    assert decision.members[0].id_number == SON_ID  # the head first, as on an application
    assert not decision.closes_case
    assert "户主变更为身份证号尾号 001X" in decision.change.reasons[0]


def test_the_head_dies_without_a_new_head_is_refused() -> None:
    change = HouseholdChange(HouseholdEvent.DEATH, "2026-11-02", member_id_number=HEAD_ID)
    problems = household_change_problems(state().members, change, TODAY)
    assert [p.path for p in problems] == [("new_head_id_number",)]


def test_the_new_head_must_be_a_remaining_member() -> None:
    change = HouseholdChange(
        HouseholdEvent.DEATH, "2026-11-02", member_id_number=HEAD_ID, new_head_id_number=HEAD_ID
    )
    problems = household_change_problems(state().members, change, TODAY)
    assert problems[0].path == ("new_head_id_number",)
    assert "remaining" in problems[0].message


def test_stop_old_open_new_stops_this_case_from_the_month_the_new_one_is_paid() -> None:
    change = HouseholdChange(
        HouseholdEvent.DEATH,
        "2026-11-02",
        member_id_number=HEAD_ID,
        new_head_id_number=SON_ID,
        successor=Successor.NEW_CASE,
    )
    decision = decide(change)
    assert decision.closes_case
    assert decision.change.kind is ChangeKind.STOP
    assert decision.change.effective_month == "2026-12"
    assert decision.successor_amount_fen > 0
    assert "停旧建新" in decision.change.reasons[0]


def test_stop_old_open_new_only_when_the_head_leaves() -> None:
    change = HouseholdChange(
        HouseholdEvent.DEATH,
        "2026-11-02",
        member_id_number=GRANDSON_ID,
        successor=Successor.NEW_CASE,
    )
    problems = household_change_problems(state().members, change, TODAY)
    assert [p.path for p in problems] == [("successor",)]


def test_the_last_member_cannot_be_removed() -> None:
    alone = state(members=(member(),))
    change = HouseholdChange(HouseholdEvent.DEATH, "2026-11-02", member_id_number=HEAD_ID)
    problems = household_change_problems(alone.members, change, TODAY)
    assert any("only member" in p.message for p in problems)


def test_a_joining_member_needs_a_valid_new_id_number_and_is_not_the_head() -> None:
    members = state().members
    bad = HouseholdChange(
        HouseholdEvent.MARRIAGE_IN,
        "2026-11-01",
        joining=member("李娟", "610423199503030026", Relation.HEAD),
    )
    paths = {p.path for p in household_change_problems(members, bad, TODAY)}
    assert paths == {("joining", "id_number"), ("joining", "relation")}
    twice = HouseholdChange(
        HouseholdEvent.MOVE_IN, "2026-11-01", joining=member("王建军", SON_ID, Relation.CHILD)
    )
    assert "already a member" in household_change_problems(members, twice, TODAY)[0].message


def test_a_birth_must_match_the_birth_date_in_the_id_number() -> None:
    change = HouseholdChange(
        HouseholdEvent.BIRTH, "2026-10-06", joining=member("王小花", NEWBORN_ID, Relation.CHILD)
    )
    problems = household_change_problems(state().members, change, TODAY)
    assert [p.path for p in problems] == [("joining", "id_number")]


def test_an_event_in_the_future_is_refused() -> None:
    change = HouseholdChange(HouseholdEvent.DEATH, "2026-12-01", member_id_number=GRANDSON_ID)
    assert household_change_problems(state().members, change, TODAY)[0].path == ("on",)


def test_a_head_change_keeps_everyone_and_makes_the_former_head_another_member() -> None:
    change = HouseholdChange(HouseholdEvent.HEAD_CHANGE, "2026-11-01", new_head_id_number=SON_ID)
    assert household_change_problems(state().members, change, TODAY) == []
    decision = decide(change)
    assert len(decision.members) == 3
    relations = {m.id_number: m.relation for m in decision.members}
    assert relations[SON_ID] is Relation.HEAD and relations[HEAD_ID] is Relation.OTHER


def test_the_new_case_id_is_the_same_for_the_same_request_and_opaque() -> None:
    first = successor_case_id("DB-0123456789AB", "req-1")
    assert first == successor_case_id("DB-0123456789AB", "req-1")
    assert first != successor_case_id("DB-0123456789AB", "req-2")
    assert first.startswith("DB-S") and len(first) <= 32


def test_a_joining_bride_is_accepted() -> None:
    change = HouseholdChange(
        HouseholdEvent.MARRIAGE_IN,
        "2026-11-01",
        joining=member("李娟", BRIDE_ID, Relation.CHILD_IN_LAW),
    )
    assert household_change_problems(state().members, change, TODAY) == []
