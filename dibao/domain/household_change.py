"""Family changes of a recipient household (动态管理: 人口状况变化).

A member joins (birth, marriage, moving in) or leaves (death, marriage, moving out), or the
head of household (户主) changes. The family must report it (mca-2021 Art. 30); the township
checks it and the county decides an increase, reduction or stop (Art. 31 增发、减发、停发),
telling the family why when it reduces or stops (Art. 32; 003 line 443). A deceased member
still paid is a must-exclude (003 line 228 (7), line 387), so a member who leaves is not paid
for from the month after leaving.

When the head leaves, the office names a new head on the same case or closes the case and
opens a linked new one for the remaining household (停旧建新); the payment history continues
from the month after the old case's last month.

Pure rules: the case workflow (workflows/case_household.py) applies them.
"""

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from stdnum.cn import ric

from dibao.domain.actor import Actor
from dibao.domain.application import FieldError, IncomeItem, Member, validate_id_number
from dibao.domain.eligibility import Assessment, HouseholdFacts
from dibao.domain.enums import Relation
from dibao.domain.money import format_yuan
from dibao.domain.recipient import (
    ChangeKind,
    PaymentChange,
    RecipientState,
    in_ledger_order,
    next_month,
)

MAX_MEMBERS = 30  # as an application (dibao/domain/application.py)


class HouseholdEvent(StrEnum):
    BIRTH = "birth"  # 出生
    MARRIAGE_IN = "marriage_in"  # 婚入
    MOVE_IN = "move_in"  # 迁入
    DEATH = "death"  # 死亡
    MARRIAGE_OUT = "marriage_out"  # 婚出
    MOVE_OUT = "move_out"  # 迁出
    HEAD_CHANGE = "head_change"  # 户主变更, nobody leaves

    @property
    def joins(self) -> bool:
        return self in JOINING

    @property
    def leaves(self) -> bool:
        return self in LEAVING


JOINING = frozenset({HouseholdEvent.BIRTH, HouseholdEvent.MARRIAGE_IN, HouseholdEvent.MOVE_IN})
LEAVING = frozenset({HouseholdEvent.DEATH, HouseholdEvent.MARRIAGE_OUT, HouseholdEvent.MOVE_OUT})

EVENT_WORDS: dict[HouseholdEvent, str] = {
    HouseholdEvent.BIRTH: "出生",
    HouseholdEvent.MARRIAGE_IN: "婚入",
    HouseholdEvent.MOVE_IN: "迁入",
    HouseholdEvent.DEATH: "死亡",
    HouseholdEvent.MARRIAGE_OUT: "婚出",
    HouseholdEvent.MOVE_OUT: "迁出",
    HouseholdEvent.HEAD_CHANGE: "户主变更",
}


class Successor(StrEnum):
    """When the head leaves: a new head on the same case, or 停旧建新."""

    SAME_CASE = "same_case"
    NEW_CASE = "new_case"


@dataclass(frozen=True)
class HouseholdChange:
    event: HouseholdEvent
    on: str  # ISO date of the event
    # Who leaves (LEAVING events); the new member (JOINING events).
    member_id_number: str = ""
    joining: Member | None = None
    # The new head: required when the head leaves or for HEAD_CHANGE, refused otherwise.
    new_head_id_number: str = ""
    successor: Successor = Successor.SAME_CASE
    # The household's incomes after the change, when the change alters them (a member who
    # leaves takes a wage with them); None: as last assessed.
    incomes: tuple[IncomeItem, ...] | None = None
    details: str = ""


def _tail(id_number: str) -> str:
    return id_number[-4:]


def household_change_problems(
    members: tuple[Member, ...], change: HouseholdChange, today: date
) -> list[FieldError]:
    """Every reason the change cannot be applied to the household; empty when it can."""
    errors: list[FieldError] = []
    try:
        on = date.fromisoformat(change.on)
    except ValueError:
        return [FieldError(("on",), "must be a date, YYYY-MM-DD")]
    if on > today:
        errors.append(FieldError(("on",), "lies in the future"))
    ids = {m.id_number.upper() for m in members}
    head = next((m for m in members if m.relation is Relation.HEAD), None)
    leaving = change.member_id_number.upper()
    new_head = change.new_head_id_number.upper()
    if change.event.leaves:
        if not leaving:
            errors.append(FieldError(("member_id_number",), "say which member leaves"))
        elif leaving not in ids:
            errors.append(FieldError(("member_id_number",), "not a member of this household"))
        elif len(members) == 1:
            errors.append(
                FieldError(
                    ("member_id_number",),
                    "the household's only member: its benefit stops; report the circumstance "
                    "death_of_only_member or moved_away instead",
                )
            )
    elif change.member_id_number:
        errors.append(FieldError(("member_id_number",), "only for a member who leaves"))
    if change.event.joins:
        errors.extend(_joining_problems(change, ids, len(members), on, today))
    elif change.joining is not None:
        errors.append(FieldError(("joining",), "only for a member who joins"))
    head_leaves = head is not None and change.event.leaves and leaving == head.id_number.upper()
    if head_leaves or change.event is HouseholdEvent.HEAD_CHANGE:
        if not new_head:
            errors.append(
                FieldError(
                    ("new_head_id_number",),
                    "the head of household leaves or changes: name the new head among the "
                    "remaining members",
                )
            )
        elif new_head not in ids or new_head == leaving:
            errors.append(
                FieldError(("new_head_id_number",), "not a remaining member of this household")
            )
        elif head is not None and new_head == head.id_number.upper():
            errors.append(FieldError(("new_head_id_number",), "is already the head"))
    elif new_head:
        errors.append(
            FieldError(
                ("new_head_id_number",),
                "the head stays; a new head is named only when the head leaves or changes",
            )
        )
    if change.successor is Successor.NEW_CASE and not head_leaves:
        errors.append(
            FieldError(
                ("successor",),
                "a new linked case (停旧建新) is opened only when the head of household leaves",
            )
        )
    for i, item in enumerate(change.incomes or ()):
        if item.monthly_fen < 0:
            errors.append(FieldError(("incomes", i, "monthly_fen"), "must not be negative"))
    return errors


def _joining_problems(
    change: HouseholdChange, ids: set[str], size: int, on: date, today: date
) -> list[FieldError]:
    member = change.joining
    if member is None:
        return [FieldError(("joining",), "give the member who joins")]
    errors: list[FieldError] = []
    number = member.id_number.upper()
    if not member.name.strip():
        errors.append(FieldError(("joining", "name"), "must not be blank"))
    reason = validate_id_number(number, today)
    if reason:
        errors.append(FieldError(("joining", "id_number"), reason))
    elif number in ids:
        errors.append(FieldError(("joining", "id_number"), "already a member of this household"))
    elif change.event is HouseholdEvent.BIRTH and ric.get_birth_date(number) != on:
        # A newborn's ID number carries the birth date (GB 11643).
        errors.append(
            FieldError(("joining", "id_number"), "its birth date is not the date of the birth")
        )
    if member.relation is Relation.HEAD:
        errors.append(
            FieldError(
                ("joining", "relation"),
                "a member who joins is not the head; change the head with head_change",
            )
        )
    if size >= MAX_MEMBERS:
        errors.append(FieldError(("joining",), f"a household has at most {MAX_MEMBERS} members"))
    return errors


def changed_members(members: tuple[Member, ...], change: HouseholdChange) -> tuple[Member, ...]:
    """The household after the change (validated first with `household_change_problems`):
    the leaving member removed, the joining one added, the new head's relation HEAD and the
    former head's (when staying) OTHER, since relations are to the head."""
    leaving = change.member_id_number.upper() if change.event.leaves else ""
    new_head = change.new_head_id_number.upper()
    after: list[Member] = []
    for member in members:
        number = member.id_number.upper()
        if number == leaving:
            continue
        if new_head and number == new_head:
            member = dataclasses.replace(member, relation=Relation.HEAD)
        elif new_head and member.relation is Relation.HEAD:
            member = dataclasses.replace(member, relation=Relation.OTHER)
        after.append(member)
    if change.event.joins and change.joining is not None:
        joining = change.joining
        after.append(dataclasses.replace(joining, id_number=joining.id_number.upper()))
    # The head first, as on an application.
    after.sort(key=lambda m: m.relation is not Relation.HEAD)
    return tuple(after)


def changed_facts(
    facts: HouseholdFacts, members: tuple[Member, ...], change: HouseholdChange
) -> HouseholdFacts:
    """The facts the household is assessed on after the change: its new members, and its
    incomes as now reported when the change alters them. Registry records of a member who
    left no longer count (eligibility reads only the members' records)."""
    incomes = facts.incomes if change.incomes is None else change.incomes
    return dataclasses.replace(facts, members=members, incomes=incomes)


def effective_month(change: HouseholdChange, state: RecipientState, today: date) -> str:
    """From when the change is paid. A member who leaves is not paid for from the month after
    leaving (003 line 228 (7): a deceased member still paid must be excluded; months already
    paid come back as a recovery); a member who joins is paid for from the month after the
    report (Art. 30: the family reports it; nothing is owed back before the office knew).
    Never before the ledger's latest entry (`in_ledger_order`), and during a suspension from
    its end, when payment resumes at the new amount."""
    month = next_month(date.fromisoformat(change.on)) if change.event.leaves else next_month(today)
    if state.suspended_until and month < state.suspended_until:
        month = state.suspended_until
    return in_ledger_order(
        PaymentChange(ChangeKind.UNCHANGED, 0, month, ()), state.ledger_month
    ).effective_month


def change_words(members: tuple[Member, ...], change: HouseholdChange) -> str:
    """The change in words for the notice: who (relation and ID tail, not the name), what and
    when."""
    relations = {m.id_number.upper(): m.relation for m in members}
    if change.event.joins and change.joining is not None:
        who = (
            f"{RELATION_WORDS[change.joining.relation]}（身份证号尾号 "
            f"{_tail(change.joining.id_number.upper())}）"
        )
        text = f"家庭成员{who}于 {change.on} {EVENT_WORDS[change.event]}，加入家庭"
    elif change.event.leaves:
        number = change.member_id_number.upper()
        who = f"{RELATION_WORDS[relations.get(number, Relation.OTHER)]}（身份证号尾号 {_tail(number)}）"
        text = f"家庭成员{who}于 {change.on} {EVENT_WORDS[change.event]}"
    else:
        text = f"户主于 {change.on} 变更"
    if change.new_head_id_number:
        text += f"，户主变更为身份证号尾号 {_tail(change.new_head_id_number.upper())} 的成员"
    return text


RELATION_WORDS: dict[Relation, str] = {
    Relation.HEAD: "户主",
    Relation.SPOUSE: "配偶",
    Relation.CHILD: "子女",
    Relation.PARENT: "父母",
    Relation.GRANDPARENT: "祖父母",
    Relation.GRANDCHILD: "孙子女",
    Relation.SIBLING: "兄弟姐妹",
    Relation.CHILD_IN_LAW: "儿媳（女婿）",
    Relation.OTHER: "其他成员",
}


@dataclass(frozen=True)
class HouseholdDecision:
    members: tuple[Member, ...]  # the household after the change
    change: PaymentChange  # UNCHANGED when the amount stays
    closes_case: bool  # 停旧建新: this case stops and a linked new one continues
    successor_amount_fen: int = 0  # 停旧建新: the new case's monthly amount


def successor_case_id(case_id: str, request_id: str) -> str:
    """The linked new case of 停旧建新: the same for the same request, so a repeated request
    finds it, and opaque like every case ID."""
    digest = hashlib.sha256(f"{case_id}:{request_id}".encode()).digest()
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = int.from_bytes(digest[:8], "big")
    return "DB-S" + "".join(alphabet[(value >> (5 * i)) & 31] for i in range(11))


def household_decision(
    state: RecipientState,
    before: tuple[Member, ...],
    change: HouseholdChange,
    assessment: Assessment,
    month: str,
) -> HouseholdDecision:
    """The payment change a family change causes, on the household assessed after it.

    * 停旧建新: this case stops from `month` (the new case is paid from that month on).
    * Not eligible any more: stopped, with every failed rule as a reason (Art. 32).
    * Else the new amount: increase (增发), reduction (减发), or unchanged; a member whose own
      portion is stopped (Art. 34) stays stopped.
    """
    members = changed_members(before, change)
    words = change_words(before, change)
    size = (
        f"家庭人口由 {len(before)} 人变为 {len(members)} 人" if len(members) != len(before) else ""
    )
    if not assessment.eligible:
        reasons = (words + (f"，{size}" if size else ""), *(f.message for f in assessment.failures))
        return HouseholdDecision(members, PaymentChange(ChangeKind.STOP, 0, month, reasons), False)
    new = assessment.monthly_amount_fen
    if change.successor is Successor.NEW_CASE:
        reason = (
            f"{words}；停旧建新：本户低保自 {month} 起由新立案件接续发放"
            f"（月保障金额 {format_yuan(new)} 元），原案件自该月起停发"
        )
        return HouseholdDecision(
            members, PaymentChange(ChangeKind.STOP, 0, month, (reason,)), True, new
        )
    stopped = [m for m in state.portion_stopped if m in {x.id_number for x in members}]
    if stopped:
        portion = new // max(1, assessment.household_size)
        new -= portion * len(stopped)
    current = state.monthly_amount_fen
    reason = (
        f"{words}{'，' + size if size else ''}；重新核定后家庭人均收入为 "
        f"{format_yuan(assessment.per_capita_income_fen_month)} 元/月"
    )
    if new == current:
        return HouseholdDecision(
            members,
            PaymentChange(
                ChangeKind.UNCHANGED,
                current,
                month,
                (reason + f"，月保障金额仍为 {format_yuan(current)} 元",),
            ),
            False,
        )
    kind = ChangeKind.INCREASE if new > current else ChangeKind.DECREASE
    reason += f"，自 {month} 起月保障金额由 {format_yuan(current)} 元调整为 {format_yuan(new)} 元"
    return HouseholdDecision(members, PaymentChange(kind, new, month, (reason,)), False)


@dataclass(frozen=True)
class ReportHouseholdChange:
    """The update message (workflows/case_household.py)."""

    request_id: str
    actor: Actor
    change: HouseholdChange


@dataclass(frozen=True)
class RecordHousehold:
    """The household after a family change, for the case's file (一户一档: change records,
    002, 004 line 147): notices and postings address its head from then on."""

    case_id: str
    step_key: str
    event: HouseholdEvent
    on: str
    members: tuple[Member, ...]
    recorded_at: datetime
    # The case's head follows the household's (one open case per household); not when the
    # case stops for a linked new one (停旧建新), which the new head heads.
    moves_head: bool = True


@dataclass(frozen=True)
class HouseholdRecorded:
    recorded: bool  # False: recorded before (a retry)
