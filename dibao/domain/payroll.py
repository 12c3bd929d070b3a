"""The payroll (发放): what each household is owed for a period, the 花名册 and the bank file.

The ledger is the `entitlement_changes` table read as effective-dated rows: a row sets the
household's monthly amount from its `effective_month` until the next row (ordered by
effective_month, then id); an amount of 0 means nothing is paid (停发/暂停). What was paid is
the sum of the lines of released payroll runs. A payroll pays, for every month up to the end
of its period, the difference between the two: so a change recorded after a month was paid
(a backdated 增发 or 停发) is settled in the next payroll as 补发 or 追回, and building a payroll
again after its release finds nothing left to pay.

Also the messages of the payroll workflow (no `from __future__ import annotations`: Temporal
resolves these type hints at runtime).
"""

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property

from dibao.domain.actor import Actor
from dibao.domain.enums import Role
from dibao.domain.money import format_yuan
from dibao.domain.spreadsheet import text_cell


class LineKind(StrEnum):
    REGULAR = "regular"  # 正常发放: a month of the period
    ARREARS = "arrears"  # 补发: an earlier month paid less than entitled
    RECOVERY = "recovery"  # 追回: a month paid more than entitled (negative)


class RosterSection(StrEnum):
    """The tables of the 花名册, in the order it prints them."""

    PAID = "paid"  # in the bank file
    OFFSET = "offset"  # 补发 and 追回 net to zero
    OUTSTANDING = "outstanding"  # overpaid: recovered outside the bank file
    HELD = "held"  # no account: paid once one is recorded


LINE_LABELS = {LineKind.REGULAR: "正常发放", LineKind.ARREARS: "补发", LineKind.RECOVERY: "追回"}


class RunStatus(StrEnum):
    DRAFT = "draft"  # built, waiting for the checker (审核人)
    RELEASED = "released"  # checked and handed to the bank: immutable from here on


class Cadence(StrEnum):
    # Urban recipients are paid monthly, rural ones quarterly or, where possible, monthly
    # (DOMAIN.md step 8; 001 第十一条 "按季度, 有条件的按月").
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


# Who may check and release a roster (审核人): payment decisions are the county civil-affairs
# bureau's (DOMAIN.md, "Who uses the system"). Who may prepare one (制表人) is the API's role
# table (dibao.domain.access); the schedule's runs are made by SCHEDULE_ACTOR.
CHECKER_ROLES = frozenset({Role.COUNTY_APPROVER})

# The actor named as maker of the runs the Temporal Schedule starts.
SCHEDULE_ACTOR = Actor(id="payroll-schedule", role=Role.SYSTEM)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_COUNTY = re.compile(r"^\d{6}$")


class InvalidPeriod(ValueError):
    pass


# --- months and periods --------------------------------------------------------------------


def _ym(month: str) -> tuple[int, int]:
    found = _MONTH.match(month)
    if found is None:
        raise InvalidPeriod(f"{month!r} is not a month (YYYY-MM)")
    return int(found[1]), int(found[2])


def month_index(month: str) -> int:
    """Months numbered year * 12 + month - 1, so that a range of months is an integer series
    (the roster query in dibao.db.payroll_repo numbers them the same way in SQL)."""
    year, mon = _ym(month)
    return year * 12 + mon - 1


def month_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(month: str, count: int) -> str:
    year, mon = _ym(month)
    index = year * 12 + (mon - 1) + count
    return month_of(index // 12, index % 12 + 1)


def months_from(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included; empty when first is after last."""
    months: list[str] = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def period_months(period: str) -> tuple[str, ...]:
    """The months of a payroll period: "2026-11" is one month, "2026-Q4" three."""
    if _MONTH.match(period):
        return (period,)
    found = _QUARTER.match(period)
    if found is None:
        raise InvalidPeriod(
            f"period {period!r}: a month (2026-11) or a quarter (2026-Q4) is expected"
        )
    year, quarter = int(found[1]), int(found[2])
    return tuple(month_of(year, 3 * (quarter - 1) + i) for i in (1, 2, 3))


def validate_period(period: str) -> str | None:
    """Why the period is not valid, or None."""
    try:
        period_months(period)
    except InvalidPeriod as err:
        return str(err)
    if not 2000 <= int(period[:4]) <= 2999:
        return f"period {period!r}: the year is out of range"
    return None


def validate_county(county_code: str) -> str | None:
    return None if _COUNTY.match(county_code) else "county_code: 6 digits are expected"


def period_for(day: date, cadence: Cadence) -> str:
    """The period a payroll prepared on `day` pays: the month (or quarter) that day is in.

    The roster is prepared on the 1st and the bank pays from the 10th (DOMAIN.md step 8), so a
    payroll built on 1 November pays November.
    """
    if cadence is Cadence.QUARTERLY:
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return month_of(day.year, day.month)


def period_label(period: str) -> str:
    """ "2026年11月" or "2026年第四季度", for the printed roster."""
    found = _QUARTER.match(period)
    if found:
        return f"{found[1]}年第{'一二三四'[int(found[2]) - 1]}季度"
    year, month = _ym(period)
    return f"{year}年{month}月"


def run_id_for(county_code: str, period: str) -> str:
    return f"PR-{county_code}-{period}"


def workflow_id_for(county_code: str, period: str) -> str:
    return f"payroll-{county_code}-{period}"


def schedule_id_for(county_code: str) -> str:
    return f"payroll-{county_code}"


# --- the ledger ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One row of `entitlement_changes`, as far as money goes."""

    effective_month: str  # "YYYY-MM"
    monthly_amount_fen: int
    change_kind: str = "start"
    id: int = 0  # orders two changes of the same month: the later row wins
    recorded_at: datetime | None = None
    paid_members: int = 0  # members the amount is for; 0 when not recorded


@dataclass(frozen=True)
class Line:
    month: str  # "YYYY-MM"
    kind: LineKind
    amount_fen: int  # negative for RECOVERY


def in_force_by_month(changes: Iterable[Change], months: Iterable[str]) -> dict[str, Change | None]:
    """The change in force in each month (the latest one that took effect); None before the
    first."""
    ordered = sorted(changes, key=lambda c: (c.effective_month, c.id))
    result: dict[str, Change | None] = {}
    for month in months:
        current: Change | None = None
        for change in ordered:
            if change.effective_month > month:
                break
            current = change
        result[month] = current
    return result


def entitled_by_month(changes: Iterable[Change], months: Iterable[str]) -> dict[str, int]:
    """The monthly amount in force in each month; 0 before the first change."""
    return {
        month: change.monthly_amount_fen if change else 0
        for month, change in in_force_by_month(changes, months).items()
    }


def member_shares(amount_fen: int, members: int) -> tuple[int, ...]:
    """A household amount split over the members it is paid for, in whole fen that add up to
    it exactly: the first `amount % members` members get one fen more. () when the number of
    members was not recorded (entitlements written before it was)."""
    if members <= 0:
        return ()
    base, extra = divmod(amount_fen, members)
    return tuple(base + 1 if i < extra else base for i in range(members))


@dataclass(frozen=True)
class MonthAccount:
    """One month of a household's payment history: entitled by the ledger, paid by releases."""

    month: str
    entitled_fen: int
    paid_fen: int
    paid_members: int  # members the amount is for; 0 before the first change or not recorded

    @property
    def shares(self) -> tuple[int, ...]:
        return member_shares(self.entitled_fen, self.paid_members)


def month_accounts(
    changes: Sequence[Change], paid: Mapping[str, int], through: str
) -> list[MonthAccount]:
    """Every month from the first change (or payment) to `through` or the last month paid."""
    starts = [c.effective_month for c in changes] + list(paid)
    if not starts:
        return []
    months = months_from(min(starts), max([through, *paid]))
    return [
        MonthAccount(
            month=month,
            entitled_fen=change.monthly_amount_fen if change else 0,
            paid_fen=paid.get(month, 0),
            paid_members=change.paid_members if change else 0,
        )
        for month, change in in_force_by_month(changes, months).items()
    ]


def payroll_lines(
    entitled: Mapping[str, int], paid_so_far: Mapping[str, int], period_months: Sequence[str]
) -> list[Line]:
    """What a payroll for `period_months` pays: for every month up to the end of the period,
    what is entitled minus what released payrolls already paid.

    A month of the period is REGULAR, an earlier one ARREARS (补发); any month paid more than
    entitled is a RECOVERY (追回, negative). Months after the period are left to their own
    payroll; months with nothing entitled (before the first change) are never owed.
    """
    if not period_months:
        return []
    first, last = min(period_months), max(period_months)
    months = sorted(m for m in set(entitled) | set(paid_so_far) | set(period_months) if m <= last)
    lines: list[Line] = []
    for month in months:
        owed = entitled.get(month, 0) - paid_so_far.get(month, 0)
        if owed < 0:
            lines.append(Line(month, LineKind.RECOVERY, owed))
        elif owed > 0:
            kind = LineKind.REGULAR if month >= first else LineKind.ARREARS
            lines.append(Line(month, kind, owed))
    return lines


def household_lines(
    changes: Sequence[Change], paid_so_far: Mapping[str, int], period: str
) -> list[Line]:
    """The reference computation for one household (the roster SQL must agree with it)."""
    months = period_months(period)
    starts = [c.effective_month for c in changes] + list(paid_so_far)
    if not starts:
        return []
    entitled = entitled_by_month(changes, months_from(min(starts), months[-1]))
    return payroll_lines(entitled, paid_so_far, months)


# --- runs, roster and bank file ------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdPay:
    case_id: str
    certificate_no: str  # 低保证号
    # The payee account's holder (the head of household's name when no account is recorded).
    account_holder: str
    lines: tuple[Line, ...]
    # The account paid into: recorded after filing, else the application's; empty when none
    # was given, and then the household is held back (PayrollRun.held).
    bank: str = ""
    account_no: str = ""
    # The holder collects as an agent (代领人) for this reason; the roster says so.
    agent: bool = False
    agent_reason: str = ""

    @cached_property
    def net_fen(self) -> int:
        # Cached: a build asks it of each household several times (section, bank row, total).
        return sum(line.amount_fen for line in self.lines)


@dataclass(frozen=True)
class PayrollRun:
    county_code: str
    period: str
    # Households whose lines this run books: net >= 0, in case_id order. A household netting 0
    # (e.g. 补发 of one month offset by 追回 of another) books its lines but gets no bank row.
    households: tuple[HouseholdPay, ...]
    # Households that net negative: they were paid more than they are owed and the bank cannot
    # debit them. Their lines are not booked (the overpayment stays open, and is computed again
    # by the next payroll, where later payments may offset it); the roster lists them for the
    # office to recover (追回) outside the bank file.
    outstanding: tuple[HouseholdPay, ...] = ()
    # Households owed money but with no account to pay it into: not booked and not in the bank
    # file (a payment by name alone can go astray). The roster lists them; once an account is
    # recorded, the next payroll pays the months as arrears (补发).
    held: tuple[HouseholdPay, ...] = ()

    @property
    def run_id(self) -> str:
        return run_id_for(self.county_code, self.period)

    @property
    def paid(self) -> tuple[HouseholdPay, ...]:
        """The households in the bank file."""
        return tuple(h for h in self.households if h.net_fen > 0)

    @property
    def total_fen(self) -> int:
        return sum(h.net_fen for h in self.households)


def assemble_run(county_code: str, period: str, households: Iterable[HouseholdPay]) -> PayrollRun:
    ordered = sorted((h for h in households if h.lines), key=lambda h: h.case_id)
    return PayrollRun(
        county_code=county_code,
        period=period,
        households=tuple(h for h in ordered if is_booked(h)),
        outstanding=tuple(h for h in ordered if h.net_fen < 0),
        held=tuple(h for h in ordered if is_held(h)),
    )


BANK_FILE_HEADER = (
    "seq",
    "case_id",
    "certificate_no",
    "account_holder",
    "bank",
    "account_no",
    "amount_yuan",
    "lines",
)


# How the roster (花名册) names a household's lines: its kinds, each once in the order they
# first appear ("补发、正常发放"), and each line ("2026-10 补发 727.50；2026-11 ...").
KINDS_SEPARATOR = "、"
DETAIL_SEPARATOR = "；"


def roster_kinds(lines: Iterable[Line]) -> str:
    return KINDS_SEPARATOR.join(dict.fromkeys(LINE_LABELS[line.kind] for line in lines))


def roster_detail(lines: Iterable[Line]) -> str:
    return DETAIL_SEPARATOR.join(
        f"{line.month} {LINE_LABELS[line.kind]} {format_yuan(line.amount_fen)}" for line in lines
    )


def describe_lines(lines: Iterable[Line]) -> str:
    return ";".join(
        f"{line.month}:{line.kind.value}:{format_yuan(line.amount_fen)}" for line in lines
    )


def is_booked(household: HouseholdPay) -> bool:
    """The run books the household's lines: it nets zero, or is paid into its account."""
    return household.net_fen == 0 or (household.net_fen > 0 and bool(household.account_no))


def is_held(household: HouseholdPay) -> bool:
    """Owed money but without an account to pay it into (PayrollRun.held)."""
    return household.net_fen > 0 and not household.account_no


def roster_section(household: HouseholdPay) -> RosterSection:
    if household.net_fen < 0:
        return RosterSection.OUTSTANDING
    if household.net_fen == 0:
        return RosterSection.OFFSET
    return RosterSection.PAID if household.account_no else RosterSection.HELD


def bank_csv_row(cells: Sequence[object]) -> str:
    """One row of the bank file as its CSV writer writes it (the dialect of every row: the
    build in PostgreSQL follows this function's quoting, dibao.db.payroll_repo)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def bank_file_row(seq: int, household: HouseholdPay) -> str:
    """A paid household's row: every text cell safe from spreadsheets, the amount in yuan,
    the lines it pays."""
    return bank_csv_row(
        (
            seq,
            text_cell(household.case_id),
            text_cell(household.certificate_no),
            text_cell(household.account_holder),
            text_cell(household.bank),
            text_cell(household.account_no),
            format_yuan(household.net_fen),
            describe_lines(household.lines),
        )
    )


def bank_file_total_row(households: int, total_fen: int) -> str:
    return bank_csv_row(("TOTAL", households, format_yuan(total_fen)))


def bank_file_signature(checksum: str) -> str:
    """The last row: the SHA-256 of every byte before it."""
    return f"SHA256,{checksum}\n"


def bank_file(run: PayrollRun) -> str:
    """The file for the bank (社会化发放): one row per household paid, in case_id order, a TOTAL
    row, and a last row with the SHA-256 of every byte before it, so the bank can tell a file
    damaged or edited after the checker signed the roster that prints the same checksum.

    Every row has an account: households without one are held back (PayrollRun.held).
    """
    paid = run.paid
    body = "".join(
        [
            bank_csv_row(BANK_FILE_HEADER),
            *(bank_file_row(seq, h) for seq, h in enumerate(paid, start=1)),
            bank_file_total_row(len(paid), sum(h.net_fen for h in paid)),
        ]
    )
    return body + bank_file_signature(bank_file_checksum(body))


def bank_file_checksum(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def stated_checksum(content: str) -> str:
    """The checksum a bank file states in its last row."""
    last = content.rstrip("\n").rsplit("\n", 1)[-1]
    if not last.startswith("SHA256,"):
        raise ValueError("the file has no SHA256 row")
    return last.removeprefix("SHA256,")


def verify_bank_file(content: str) -> bool:
    """True when the file's last row is the checksum of everything before it."""
    body, sep, _ = content.rstrip("\n").rpartition("\n")
    if not sep:
        return False
    try:
        return stated_checksum(content) == bank_file_checksum(body + "\n")
    except ValueError:
        return False


# --- workflow messages ---------------------------------------------------------------------


@dataclass(frozen=True)
class PayrollInput:
    county_code: str
    # "2026-11" or "2026-Q4". Empty when the Temporal Schedule starts the workflow: the
    # schedule's action is fixed when it is created, so the workflow computes the period from
    # the time the schedule fired (China time) and the cadence below.
    period: str
    requested_by: Actor
    cadence: str = Cadence.MONTHLY.value  # only used when `period` is empty


@dataclass(frozen=True)
class ReleaseRun:
    request_id: str
    checker: Actor


@dataclass(frozen=True)
class DiscardRun:
    """Set a draft aside (e.g. a change recorded after it was built): it is never paid, its
    record is kept, and the period can be built again."""

    request_id: str
    actor: Actor
    reason: str


@dataclass(frozen=True)
class DiscardPayroll:
    run_id: str
    discarded_by: str
    reason: str
    discarded_at: datetime


@dataclass(frozen=True)
class PayrollDiscarded:
    run_id: str


@dataclass(frozen=True)
class BuildPayroll:
    county_code: str
    period: str
    maker: str
    built_at: datetime


@dataclass(frozen=True)
class ReleasePayroll:
    run_id: str
    checker: str
    released_at: datetime


@dataclass(frozen=True)
class PayrollRunRef:
    """A stored run without its (large) bank file and roster: what activities return."""

    run_id: str
    county_code: str
    period: str
    status: RunStatus
    maker: str
    checker: str | None
    households: int
    total_fen: int
    bank_file_sha256: str
    built_at: datetime
    released_at: datetime | None = None


@dataclass(frozen=True)
class PayrollView:
    """The `state` query."""

    county_code: str
    period: str
    # building, draft, released; or delegated when a scheduled start handed the period's
    # work to the workflow `payroll-{county}-{period}` (named in `delegated_to`).
    status: str
    run: PayrollRunRef | None = None
    delegated_to: str = ""
    waiting_for: str = ""


@dataclass(frozen=True)
class PayrollResult:
    run_id: str
    period: str
    status: str


def build_status(
    attempt: int,
    waiting_for_worker: bool,
    last_error_kind: str,
    silent_seconds: float | None,
    heartbeat_timeout_seconds: float,
) -> str:
    """What a payroll still `building` says about its build, from Temporal's pending activity:
    retried after an interruption (a killed worker, a database outage), waiting for a worker,
    or its worker silent for longer than the heartbeat timeout. Plain `building` otherwise."""
    if attempt > 1:
        text = f"building — retrying after an interruption (attempt {attempt}"
        text += f", last error: {last_error_kind})" if last_error_kind else ")"
        if waiting_for_worker:
            text += "; waiting for a worker to take it up"
        return text
    if silent_seconds is not None and silent_seconds > heartbeat_timeout_seconds:
        return (
            f"building — its worker has not reported for {silent_seconds:.0f} s; it is retried "
            f"on a worker once {heartbeat_timeout_seconds:.0f} s have passed"
        )
    if waiting_for_worker:
        return "building — waiting for a worker to take it up (is the worker running?)"
    return "building"
