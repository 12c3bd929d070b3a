"""The recipient phase (动态管理): review cadence, payment changes and the events that cause them.

Pure rules; the case workflow applies them and its activities write the ledger and notices.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from fractions import Fraction

from dibao.domain.application import Member, Payee
from dibao.domain.calendar import CHINA_TZ
from dibao.domain.eligibility import (
    Assessment,
    HouseholdCategory,
    household_amount_fen,
    monthly_standard_fen,
    single_person_amount_fen,
)
from dibao.domain.enums import AreaType
from dibao.domain.money import format_yuan, round_fen
from dibao.domain.rulepacks import RulePack
from dibao.domain.standards import Standard, pack_standard


class ChangeKind(StrEnum):
    START = "start"
    INCREASE = "increase"  # 增发
    DECREASE = "decrease"  # 减发
    UNCHANGED = "unchanged"
    STOP = "stop"  # 停发
    SUSPEND = "suspend"  # 暂停
    RESUME = "resume"  # 恢复


class CircumstanceKind(StrEnum):
    DEATH_OF_ONLY_MEMBER = "death_of_only_member"
    MOVED_AWAY = "moved_away"
    INCOME_CHANGE = "income_change"
    MEMBERS_CHANGE = "members_change"


# Events that end payment at once; others call for a re-review.
STOPPING_CIRCUMSTANCES = frozenset(
    {CircumstanceKind.DEATH_OF_ONLY_MEMBER, CircumstanceKind.MOVED_AWAY}
)

MISSED_SIGN_INS_TO_STOP = 2  # 000 篇2: two consecutive missed sign-ins → payment stopped
ABSENCES_TO_SUSPEND = 2  # 000 篇2: two unjustified labour absences → suspended for 3 months
SUSPENSION_MONTHS = 3

# Review cadence in months by household category (001 三(五), 002): A stable, C changing.
DEFAULT_REVIEW_MONTHS: dict[HouseholdCategory, int] = {
    HouseholdCategory.A: 12,
    HouseholdCategory.B: 6,
    HouseholdCategory.C: 3,
}


@dataclass(frozen=True)
class PaymentChange:
    kind: ChangeKind
    monthly_amount_fen: int  # the amount from `effective_month` on (0 when stopped/suspended)
    effective_month: str  # "YYYY-MM"
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RecipientState:
    """Everything the recipient phase carries from one review cycle (run) to the next."""

    certificate_no: str
    category: HouseholdCategory
    monthly_amount_fen: int  # entitled amount when not suspended
    area_type: AreaType
    members: tuple[Member, ...]
    cycle: int
    next_review_on: str  # ISO date
    seq: int  # the projection's stage sequence, continued across runs
    missed_sign_ins: int = 0
    unjustified_absences: int = 0
    suspended_until: str = ""  # "YYYY-MM": first month paid again
    handled_requests: tuple[str, ...] = ()
    notice_ids: tuple[str, ...] = ()
    # Counted income per person at the last assessment: a change of standard is applied to it
    # without a new survey.
    per_capita_income_fen_month: int = 0
    # 渐退: a member's new wage, not counted until this month ("YYYY-MM"), then counted.
    gradual_exit_until: str = ""
    reemployment_wage_fen: int = 0
    # mca-2021 Art. 34: unjustified refusals of suitable work per member (ID number, count),
    # and members whose own portion is stopped.
    work_refusals: tuple[tuple[str, int], ...] = ()
    portion_stopped: tuple[str, ...] = ()
    # The payee account recorded after filing, carried across runs (None: the application's).
    payee: Payee | None = None
    # The household's counted income at the last assessment, exact (None in states saved
    # before it was kept: per-capita income × size stands in).
    counted_income_fen_month: int | None = None
    # The latest month the case's ledger (entitlement_changes) has an entry from; "" in states
    # saved before it was kept.
    ledger_month: str = ""
    # Staff recused from the household (近亲属备案), carried so a new run refuses them at once.
    recused_staff: tuple[str, ...] = ()
    # The first month paid ("YYYY-MM"; "" in states recorded before it was kept): no sign-in
    # is owed for a month before it.
    paid_from: str = ""
    # One answer per month ("YYYY-MM", signed in): a month reported again is not counted again.
    sign_ins: tuple[tuple[str, bool], ...] = ()
    # 单人保 (mca-2021 Art. 8): this many members are covered alone, and the amount is theirs
    # (a new standard or a wage changes it only through the next re-review's assessment).
    single_person_count: int = 0
    # 停旧建新 (dibao/domain/household_change.py): the linked new case that continues this
    # household's payment from `successor_from_month`, at `successor_amount_fen` a month.
    successor_case_id: str = ""
    successor_from_month: str = ""
    successor_amount_fen: int = 0


def household_income_fen(state: RecipientState) -> int:
    if state.counted_income_fen_month is not None:
        return state.counted_income_fen_month
    return state.per_capita_income_fen_month * len(state.members)


def in_ledger_order(change: PaymentChange, ledger_month: str) -> PaymentChange:
    """The change as the ledger must record it: from no earlier than its latest entry.

    The ledger reads, for each month, the entry that took effect latest; an entry dated before
    the latest one would be overridden by it, so a stop (停发) dated there would leave the
    household paid while its case says exited. A change dated earlier (a standard change from
    a month before the household's start) therefore takes effect from the latest entry's month.
    """
    if ledger_month and change.effective_month < ledger_month:
        return PaymentChange(change.kind, change.monthly_amount_fen, ledger_month, change.reasons)
    return change


def add_months(month: str, count: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(day: date) -> str:
    return add_months(month_of(day), 1)


def first_moment(month: str) -> datetime:
    """00:00 China time on the first day of the month: when a scheduled change takes effect."""
    return datetime.combine(date(int(month[:4]), int(month[5:7]), 1), time(0, 0), CHINA_TZ)


def review_months(pack: RulePack, category: HouseholdCategory) -> int:
    for name, months in pack.review_months:
        if name == category.value:
            return months
    return DEFAULT_REVIEW_MONTHS[category]


def next_review_on(pack: RulePack, category: HouseholdCategory, after: date) -> date:
    target = add_months(month_of(after), review_months(pack, category))
    day = min(after.day, 28)  # every month has a 28th
    return date(int(target[:4]), int(target[5:7]), day)


def review_change(current_fen: int, assessment: Assessment, effective_month: str) -> PaymentChange:
    """The outcome of a re-review (复核). Nothing material changed → the amount stays
    (mca-2021 Art. 31); no longer eligible → stopped, with every failed rule as a reason."""
    if not assessment.eligible:
        return PaymentChange(
            ChangeKind.STOP, 0, effective_month, tuple(f.message for f in assessment.failures)
        )
    new = assessment.monthly_amount_fen
    if new == current_fen:
        return PaymentChange(ChangeKind.UNCHANGED, current_fen, effective_month, ())
    kind = ChangeKind.INCREASE if new > current_fen else ChangeKind.DECREASE
    reason = (
        f"复核后家庭人均收入为 {format_yuan(assessment.per_capita_income_fen_month)} 元/月，"
        f"月保障金额由 {format_yuan(current_fen)} 元调整为 {format_yuan(new)} 元"
    )
    return PaymentChange(kind, new, effective_month, (reason,))


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def sign_in_problem(state: RecipientState, month: str, today: date) -> str | None:
    """Why a sign-in for `month` cannot be taken, or None: a sign-in is owed for each month
    paid, from the first paid month up to the month that has begun."""
    if not _MONTH.match(month):
        return f"month: {month!r} is not a month, YYYY-MM"
    if state.paid_from and month < state.paid_from:
        return (
            f"month: {month} is before {state.paid_from}, the first month paid; "
            "no sign-in is owed for it"
        )
    current = month_of(today)
    if month > current:
        return f"month: {month} has not begun (this is {current}); sign in once it has"
    return None


@dataclass(frozen=True)
class SignInOutcome:
    sign_ins: tuple[tuple[str, bool], ...]  # every month answered, in month order
    missed_sign_ins: int  # consecutive missed months up to the latest month answered
    change: PaymentChange | None  # the stop, when this report makes two missed months in a row
    repeated: bool  # the month was already answered the same way: nothing changed
    corrected: bool  # the month was answered the other way before; this answer replaces it


def record_sign_in(state: RecipientState, month: str, done: bool) -> SignInOutcome:
    """A sign-in is per month: the same month reported again changes nothing (or corrects the
    earlier answer), so one missed month never counts twice. Payment stops when the missed
    months run to MISSED_SIGN_INS_TO_STOP consecutive calendar months."""
    months = dict(state.sign_ins)
    before = months.get(month)
    if before is done:
        return SignInOutcome(state.sign_ins, state.missed_sign_ins, None, True, False)
    # A count kept before months were (a state of an older case): misses of unknown months,
    # taken as the run the first per-month report continues.
    legacy = state.missed_sign_ins if not state.sign_ins else 0
    months[month] = done
    ordered = tuple(sorted(months.items()))
    trailing = _missed_run(months, ordered[-1][0], -1)
    change = None
    if not done:
        back, ahead = _missed_run(months, month, -1), _missed_run(months, month, +1)
        first, last = add_months(month, 1 - back), add_months(month, ahead - 1)
        run = back + ahead - 1 + legacy
        if last == ordered[-1][0]:
            trailing += legacy
        if run >= MISSED_SIGN_INS_TO_STOP:
            reason = f"连续 {run} 个月未按规定签到（{first} 至 {last}），依规停发"
            change = PaymentChange(ChangeKind.STOP, 0, add_months(last, 1), (reason,))
    return SignInOutcome(ordered, trailing, change, False, before is not None)


def _missed_run(months: dict[str, bool], month: str, step: int) -> int:
    """How many months in a row from `month` (included), going by `step`, were missed."""
    count = 0
    while months.get(month) is False:
        count += 1
        month = add_months(month, step)
    return count


def absence_change(
    state: RecipientState, justified: bool, on: date
) -> tuple[int, PaymentChange | None]:
    """New count of unjustified public-labour absences, and the suspension it causes."""
    if justified:
        return state.unjustified_absences, None
    absences = state.unjustified_absences + 1
    if absences >= ABSENCES_TO_SUSPEND and not state.suspended_until:
        start = next_month(on)
        reason = (
            f"无正当理由 {absences} 次不参加公益劳动，暂停发放 {SUSPENSION_MONTHS} 个月，"
            f"自 {add_months(start, SUSPENSION_MONTHS)} 起自动恢复"
        )
        return 0, PaymentChange(ChangeKind.SUSPEND, 0, start, (reason,))
    return absences, None


def standard_change(
    state: RecipientState,
    pack: RulePack,
    effective_month: str,
    standard: Standard | None = None,
) -> PaymentChange:
    """A new local standard (`standard`; the one in `pack` when None) applied to the
    household's last assessed income."""
    if standard is None:
        standard = pack_standard(state.area_type, pack)
    written = format_yuan(monthly_standard_fen(standard, pack))
    new = amount_for(state, pack, household_income_fen(state), standard)
    if new == state.monthly_amount_fen:
        return PaymentChange(ChangeKind.UNCHANGED, new, effective_month, ())
    if new <= 0:
        reason = (
            f"低保标准调整为每人每月 {written} 元后，家庭人均收入 "
            f"{format_yuan(state.per_capita_income_fen_month)} 元不低于标准"
        )
        return PaymentChange(ChangeKind.STOP, 0, effective_month, (reason,))
    kind = ChangeKind.INCREASE if new > state.monthly_amount_fen else ChangeKind.DECREASE
    reason = (
        f"低保标准调整为每人每月 {written} 元，自 {effective_month} 起"
        f"月保障金额由 {format_yuan(state.monthly_amount_fen)} 元调整为 {format_yuan(new)} 元"
    )
    return PaymentChange(kind, new, effective_month, (reason,))


def amount_for(
    state: RecipientState, pack: RulePack, income_fen: int, standard: Standard | None = None
) -> int:
    """The household's amount for a counted income (whole household, per month)."""
    if standard is None:
        standard = pack_standard(state.area_type, pack)
    if state.single_person_count:
        return single_person_amount_fen(standard, state.single_person_count, pack)
    return household_amount_fen(standard, income_fen, len(state.members), state.category, pack)


def gradual_exit_end(
    state: RecipientState, pack: RulePack, standard: Standard | None = None
) -> PaymentChange:
    """End of 渐退 (004 line 42): the re-employed member's wage now counts."""
    income = household_income_fen(state) + state.reemployment_wage_fen
    per_capita = round_fen(Fraction(income, len(state.members)), pack.amount_rounding)
    new = amount_for(state, pack, income, standard)
    month = state.gradual_exit_until
    reason = (
        f"渐退期满，新就业成员工资 {format_yuan(state.reemployment_wage_fen)} 元/月计入家庭收入，"
        f"家庭人均收入为 {format_yuan(per_capita)} 元/月"
    )
    if new == 0:
        return PaymentChange(ChangeKind.STOP, 0, month, (reason + "，不低于低保标准，停发",))
    if new == state.monthly_amount_fen:
        return PaymentChange(ChangeKind.UNCHANGED, new, month, (reason,))
    kind = ChangeKind.INCREASE if new > state.monthly_amount_fen else ChangeKind.DECREASE
    return PaymentChange(kind, new, month, (reason + f"，月保障金额调整为 {format_yuan(new)} 元",))


def work_refusal_change(
    state: RecipientState, pack: RulePack, member_id: str, on: date
) -> tuple[tuple[tuple[str, int], ...], PaymentChange | None]:
    """Count an unjustified refusal of suitable work; at the pack's limit (Art. 34) the member's
    own portion (the household amount divided by its size) stops from next month."""
    counts = dict(state.work_refusals)
    counts[member_id] = counts.get(member_id, 0) + 1
    updated = tuple(sorted(counts.items()))
    limit = pack.work_refusals_to_stop_portion
    if limit is None or counts[member_id] < limit or member_id in state.portion_stopped:
        return updated, None
    paid_members = len(state.members) - len(state.portion_stopped)
    portion = state.monthly_amount_fen // paid_members if paid_members else 0
    new = max(0, state.monthly_amount_fen - portion)
    reason = (
        f"家庭成员（身份证号尾号 {member_id[-4:]}）无正当理由连续 {counts[member_id]} 次拒绝接受"
        f"介绍的工作，停发其本人份额 {format_yuan(portion)} 元/月"
    )
    kind = ChangeKind.STOP if new == 0 else ChangeKind.DECREASE
    return updated, PaymentChange(kind, new, next_month(on), (reason,))
