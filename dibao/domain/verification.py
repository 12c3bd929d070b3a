"""Cross-department verification (家庭经济状况核对): registry records and discrepancies.

The connectors that fetch records live in `activities/verification/`; comparing them with what
the household declared is a pure rule, here.

No `from __future__ import annotations` in this module: Temporal reads the type hints of
`VerifyHousehold` and `VerificationOutcome` at runtime to decode activity payloads.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from dibao.domain.application import Application, Assets, IncomeItem, Member
from dibao.domain.enums import IncomeCategory
from dibao.domain.money import format_amount
from dibao.domain.survey import SurveyReport


class Department(StrEnum):
    TAX = "tax"  # 税务
    SOCIAL_INSURANCE = "social_insurance"  # 人社: social insurance and pensions
    REAL_ESTATE = "real_estate"  # 不动产登记
    VEHICLES = "vehicles"  # 公安交管
    BUSINESS_REGISTRATION = "business_registration"  # 市场监管
    HOUSING_FUND = "housing_fund"  # 住房公积金
    HOUSEHOLD_REGISTRATION = "household_registration"  # 公安户籍: registration and deaths
    BANKS = "banks"  # 银行存款


class RecordKind(StrEnum):
    WAGE_INCOME = "wage_income"  # monthly, fen
    PENSION = "pension"  # monthly, fen
    HOME = "home"  # one record per home
    SHOP = "shop"  # commercial property
    VEHICLE = "vehicle"  # detail holds the vehicle kind (car, van, truck, ship, motorcycle ...)
    BUSINESS_LICENCE = "business_licence"
    HOUSING_FUND_CONTRIBUTION = "housing_fund_contribution"  # monthly, fen
    DECEASED = "deceased"
    MOVED_OUT = "moved_out"
    DEPOSIT = "deposit"  # balance, fen


@dataclass(frozen=True)
class RegistryRecord:
    department: Department
    id_number: str
    kind: RecordKind
    amount_fen: int | None = None
    detail: str = ""
    as_of: str = ""  # ISO date of the extract


@dataclass(frozen=True)
class Discrepancy:
    department: Department
    id_number: str
    kind: RecordKind
    declared: str
    found: str
    message: str  # Chinese, fit to show the household


@dataclass(frozen=True)
class VerificationOutcome:
    checked: tuple[Department, ...]
    records: tuple[RegistryRecord, ...]
    discrepancies: tuple[Discrepancy, ...]


@dataclass(frozen=True)
class VerifyHousehold:
    """Input of the `verify_household` activity; (case_id, step_key) keys the stored run."""

    case_id: str
    step_key: str
    application: Application
    survey: SurveyReport | None


DEPARTMENT_LABELS: dict[Department, str] = {
    Department.TAX: "税务部门",
    Department.SOCIAL_INSURANCE: "人社部门",
    Department.REAL_ESTATE: "不动产登记",
    Department.VEHICLES: "公安交管部门",
    Department.BUSINESS_REGISTRATION: "市场监管部门",
    Department.HOUSING_FUND: "住房公积金管理中心",
    Department.HOUSEHOLD_REGISTRATION: "公安户籍",
    Department.BANKS: "银行",
}

VEHICLE_LABELS: dict[str, str] = {
    "car": "小汽车",
    "van": "面包车",
    "truck": "货车",
    "ship": "船舶",
    "motorcycle": "摩托车",
    "tricycle": "三轮车",
    "farm_machinery": "农用机械",
}

_KIND_ORDER = {kind: i for i, kind in enumerate(RecordKind)}
_DEPARTMENT_ORDER = {department: i for i, department in enumerate(Department)}


@dataclass(frozen=True)
class _Declared:
    """What the comparison is made against: the survey's findings, else the declaration."""

    members: tuple[Member, ...]
    incomes: tuple[IncomeItem, ...]
    assets: Assets


def _declared(application: Application, survey: SurveyReport | None) -> _Declared:
    if survey is not None:
        return _Declared(survey.members, survey.incomes, survey.assets)
    return _Declared(application.members, application.incomes, application.assets)


def _normalise_id(id_number: str) -> str:
    # The check character X is sometimes typed as lower case in departmental extracts.
    return id_number.strip().upper()


def _vehicle_kind(detail: str) -> str:
    return detail.strip().lower() or "unknown"


def _vehicle_label(kind: str) -> str:
    if kind == "unknown":
        return "车辆（种类不详）"
    return VEHICLE_LABELS.get(kind, kind)


def _known_total(records: Iterable[RegistryRecord]) -> int:
    return sum(r.amount_fen for r in records if r.amount_fen is not None)


def _all_amounts_known(records: Iterable[RegistryRecord]) -> bool:
    return all(r.amount_fen is not None for r in records)


class _Comparison:
    """Records of one household, grouped, and the discrepancies found so far."""

    def __init__(self, declared: _Declared, records: tuple[RegistryRecord, ...]) -> None:
        self.declared = declared
        self.position = {_normalise_id(m.id_number): i for i, m in enumerate(declared.members)}
        self.names = {_normalise_id(m.id_number): m.name for m in declared.members}
        # (kind, department) -> member ID -> that member's records of the kind from that department
        self.grouped: dict[tuple[RecordKind, Department], dict[str, list[RegistryRecord]]] = (
            defaultdict(lambda: defaultdict(list))
        )
        for record in records:
            id_number = _normalise_id(record.id_number)
            if id_number in self.position:  # not a member of this household: not our business
                self.grouped[(record.kind, record.department)][id_number].append(record)
        self.found: list[Discrepancy] = []

    def groups(self, kind: RecordKind) -> list[tuple[Department, dict[str, list[RegistryRecord]]]]:
        return sorted(
            ((d, by_member) for (k, d), by_member in self.grouped.items() if k is kind),
            key=lambda item: _DEPARTMENT_ORDER[item[0]],
        )

    def in_household_order(self, ids: Iterable[str]) -> list[str]:
        return sorted(ids, key=lambda i: self.position[i])

    def names_of(self, ids: Iterable[str]) -> str:
        return "、".join(self.names[i] or i for i in self.in_household_order(ids))

    def main_holder(self, weights: dict[str, int]) -> str:
        """The member a household-level finding is filed under: the heaviest share, then the
        first in household order (so the result never depends on the order records came in)."""
        return min(weights, key=lambda i: (-weights[i], self.position[i]))

    def add(
        self,
        department: Department,
        id_number: str,
        kind: RecordKind,
        declared: str,
        found: str,
        message: str,
    ) -> None:
        self.found.append(Discrepancy(department, id_number, kind, declared, found, message))

    def result(self) -> tuple[Discrepancy, ...]:
        return tuple(
            sorted(
                self.found,
                key=lambda d: (
                    _KIND_ORDER[d.kind],
                    self.position[d.id_number],
                    _DEPARTMENT_ORDER[d.department],
                    d.found,
                ),
            )
        )


def _wages(c: _Comparison) -> None:
    declared_fen = sum(
        item.monthly_fen for item in c.declared.incomes if item.category is IncomeCategory.WAGES
    )
    # One department's records are summed over the household; departments are never added to
    # each other because tax and social insurance can report the same wage.
    for department, by_member in c.groups(RecordKind.WAGE_INCOME):
        records = [r for rs in by_member.values() for r in rs]
        total = _known_total(records)
        label = DEPARTMENT_LABELS[department]
        who = c.names_of(by_member)
        holder = c.main_holder({i: _known_total(rs) for i, rs in by_member.items()})
        if declared_fen == 0 and (total > 0 or not _all_amounts_known(records)):
            found = f"{format_amount(total)}/月" if _all_amounts_known(records) else "有工资性收入"
            amount = (
                f"每月 {format_amount(total)}" if _all_amounts_known(records) else "（金额不详）"
            )
            c.add(
                department,
                holder,
                RecordKind.WAGE_INCOME,
                "无工资性收入",
                found,
                f"{label}登记{who}有工资性收入{amount}，申报无工资性收入",
            )
        elif total > declared_fen:
            c.add(
                department,
                holder,
                RecordKind.WAGE_INCOME,
                f"{format_amount(declared_fen)}/月",
                f"{format_amount(total)}/月",
                f"{label}登记{who}工资性收入合计每月 {format_amount(total)}，"
                f"高于申报的每月 {format_amount(declared_fen)}",
            )


def _per_member(
    c: _Comparison,
    kind: RecordKind,
    describe: Callable[[Department, str, list[RegistryRecord]], tuple[str, str, str]],
) -> None:
    """One discrepancy for each member (and department) that has records of `kind`."""
    for department, by_member in c.groups(kind):
        for id_number in c.in_household_order(by_member):
            declared, found, message = describe(department, id_number, by_member[id_number])
            c.add(department, id_number, kind, declared, found, message)


def _pensions(c: _Comparison) -> None:
    if c.declared.assets.receives_pension:
        return

    def describe(
        department: Department, id_number: str, rs: list[RegistryRecord]
    ) -> tuple[str, str, str]:
        amount = (
            f"每月 {format_amount(_known_total(rs))}" if _all_amounts_known(rs) else "（金额不详）"
        )
        found = (
            f"养老金 {format_amount(_known_total(rs))}/月"
            if _all_amounts_known(rs)
            else "领取养老金"
        )
        message = (
            f"{DEPARTMENT_LABELS[department]}登记{c.names[id_number]}领取养老金或退休金{amount}，"
            "申报未领取"
        )
        return "未领取养老金", found, message

    _per_member(c, RecordKind.PENSION, describe)


def _distinct_count(records: Iterable[RegistryRecord]) -> int:
    """Homes counted once per certificate: co-owners (husband and wife) each have a record of
    the same home. Records without a detail cannot be matched and each count as one."""
    details = set()
    blank = 0
    for record in records:
        if record.detail.strip():
            details.add(record.detail.strip())
        else:
            blank += 1
    return len(details) + blank


def _homes(c: _Comparison) -> None:
    declared = c.declared.assets.homes
    for department, by_member in c.groups(RecordKind.HOME):
        count = _distinct_count(r for rs in by_member.values() for r in rs)
        if count > declared:
            holder = c.main_holder({i: _distinct_count(rs) for i, rs in by_member.items()})
            c.add(
                department,
                holder,
                RecordKind.HOME,
                f"{declared} 套",
                f"{count} 套",
                f"{DEPARTMENT_LABELS[department]}显示{c.names_of(by_member)}名下有住房 "
                f"{count} 套，申报 {declared} 套",
            )


def _shops(c: _Comparison) -> None:
    if c.declared.assets.shop_or_business_assets:
        return

    def describe(
        department: Department, id_number: str, rs: list[RegistryRecord]
    ) -> tuple[str, str, str]:
        count = _distinct_count(rs)
        message = (
            f"{DEPARTMENT_LABELS[department]}显示{c.names[id_number]}名下有商铺 {count} 处，"
            "申报无商铺或经营性资产"
        )
        return "无商铺或经营性资产", f"商铺 {count} 处", message

    _per_member(c, RecordKind.SHOP, describe)


def _vehicles(c: _Comparison) -> None:
    declared: dict[str, int] = defaultdict(int)
    for vehicle in c.declared.assets.vehicles:
        declared[vehicle.value] += 1
    for department, by_member in c.groups(RecordKind.VEHICLE):
        by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for id_number, rs in by_member.items():
            for record in rs:
                by_kind[_vehicle_kind(record.detail)][id_number] += 1
        for kind in sorted(by_kind):
            holders = by_kind[kind]
            count = sum(holders.values())
            if count <= declared[kind]:
                continue
            label = _vehicle_label(kind)
            holder = c.main_holder(holders)
            c.add(
                department,
                holder,
                RecordKind.VEHICLE,
                f"{label} {declared[kind]} 辆",
                f"{label} {count} 辆",
                f"{DEPARTMENT_LABELS[department]}登记{c.names_of(holders)}名下有{label} "
                f"{count} 辆，申报 {declared[kind]} 辆",
            )


def _business_licences(c: _Comparison) -> None:
    if c.declared.assets.business_licence:
        return

    def describe(
        department: Department, id_number: str, rs: list[RegistryRecord]
    ) -> tuple[str, str, str]:
        message = (
            f"{DEPARTMENT_LABELS[department]}登记{c.names[id_number]}持有营业执照 {len(rs)} 件，"
            "申报无营业执照"
        )
        return "无营业执照", f"营业执照 {len(rs)} 件", message

    _per_member(c, RecordKind.BUSINESS_LICENCE, describe)


def _housing_fund(c: _Comparison) -> None:
    # Nothing in the declaration can account for it: paying into a housing fund means an
    # employer, which the must-exclude list treats as employment (003).
    def describe(
        department: Department, id_number: str, rs: list[RegistryRecord]
    ) -> tuple[str, str, str]:
        if _all_amounts_known(rs):
            found = f"缴存 {format_amount(_known_total(rs))}/月"
            amount = f"（每月 {format_amount(_known_total(rs))}）"
        else:
            found, amount = "正在缴存", ""
        message = (
            f"{DEPARTMENT_LABELS[department]}显示{c.names[id_number]}正在缴存住房公积金{amount}，"
            "表明有工作单位，申报未反映"
        )
        return "未申报就业", found, message

    _per_member(c, RecordKind.HOUSING_FUND_CONTRIBUTION, describe)


def _status(kind: RecordKind, what: str) -> Callable[[_Comparison], None]:
    def check(c: _Comparison) -> None:
        def describe(
            department: Department, id_number: str, rs: list[RegistryRecord]
        ) -> tuple[str, str, str]:
            details = sorted({r.detail.strip() for r in rs if r.detail.strip()})
            found = what + (f"（{'；'.join(details)}）" if details else "")
            message = (
                f"{DEPARTMENT_LABELS[department]}登记{c.names[id_number]}{found}，"
                "仍列为共同生活的家庭成员"
            )
            return "共同生活的家庭成员", found, message

        _per_member(c, kind, describe)

    return check


def _deposits(c: _Comparison) -> None:
    declared = c.declared.assets.deposits_fen
    for department, by_member in c.groups(RecordKind.DEPOSIT):
        # A balance the bank did not state cannot show more than was declared.
        total = _known_total(r for rs in by_member.values() for r in rs)
        if total > declared:
            holder = c.main_holder({i: _known_total(rs) for i, rs in by_member.items()})
            c.add(
                department,
                holder,
                RecordKind.DEPOSIT,
                format_amount(declared),
                format_amount(total),
                f"{DEPARTMENT_LABELS[department]}显示{c.names_of(by_member)}存款合计 {format_amount(total)}，"
                f"高于申报的 {format_amount(declared)}",
            )


_CHECKS: tuple[Callable[[_Comparison], None], ...] = (
    _wages,
    _pensions,
    _homes,
    _shops,
    _vehicles,
    _business_licences,
    _housing_fund,
    _status(RecordKind.DECEASED, "已死亡"),
    _status(RecordKind.MOVED_OUT, "户口已迁出"),
    _deposits,
)


def find_discrepancies(
    application: Application,
    survey: SurveyReport | None,
    records: tuple[RegistryRecord, ...],
) -> tuple[Discrepancy, ...]:
    """What the registries show that the household did not declare (or the survey did not find).

    The survey's findings, when there is a survey, supersede the declaration. Records of people
    who are not members of the household are ignored. Each discrepancy is one department's
    finding: household totals (wages, homes, vehicles of a kind, deposits) are compared per
    department, never added across departments that may report the same thing, and filed under
    the member with the largest share. Per-person facts (pension, shop, business licence,
    housing fund, death, moving out) give one discrepancy per member. The order is by record
    kind, then household order, then department, whatever order the records came in.
    """
    comparison = _Comparison(_declared(application, survey), records)
    for check in _CHECKS:
        check(comparison)
    return comparison.result()
