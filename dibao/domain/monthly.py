"""The monthly statistics (月报) of a county, per township: who received, how much was paid,
who was added, who left and why, whose amount changed.

What was paid is what the month's released payroll run booked, so the report's total is the
run's to the fen; averages are rounded once, at the end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from dibao.domain.money import round_fen

URBAN, RURAL = "urban", "rural"


@dataclass(frozen=True)
class PaidGroup:
    """Households of one township, area type and category that the month's run paid."""

    township_code: str
    area_type: str
    category: str
    households: int
    persons: int
    amount_fen: int


@dataclass(frozen=True)
class ChangeGroup:
    """Entitlement changes taking effect in the month, of one township, kind and reason."""

    township_code: str
    kind: str  # start (new households), stop (exits), increase, decrease, ...
    reason: str
    households: int


@dataclass
class Section:
    """One township's figures, or the county's (township_code "")."""

    township_code: str
    households: int = 0
    persons: int = 0
    amount_fen: int = 0
    by_area: dict[str, tuple[int, int]] = field(default_factory=dict)  # households, persons
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)
    new_households: int = 0
    exits: dict[str, int] = field(default_factory=dict)  # by reason
    increases: int = 0
    reductions: int = 0

    @property
    def average_per_person_fen(self) -> int:
        if not self.persons:
            return 0
        return round_fen(Fraction(self.amount_fen, self.persons))

    @property
    def exited(self) -> int:
        return sum(self.exits.values())


@dataclass(frozen=True)
class MonthlyReport:
    county_code: str
    month: str
    run_id: str
    run_released: bool
    county: Section
    townships: tuple[Section, ...]


def _add(counts: dict[str, tuple[int, int]], key: str, households: int, persons: int) -> None:
    h, p = counts.get(key, (0, 0))
    counts[key] = (h + households, p + persons)


def monthly_report(
    county_code: str,
    month: str,
    run_id: str,
    run_released: bool,
    paid: list[PaidGroup],
    changes: list[ChangeGroup],
) -> MonthlyReport:
    county = Section("")
    townships: dict[str, Section] = defaultdict(lambda: Section(""))
    for group in paid:
        for section in (county, townships[group.township_code]):
            section.households += group.households
            section.persons += group.persons
            section.amount_fen += group.amount_fen
            _add(section.by_area, group.area_type, group.households, group.persons)
            _add(section.by_category, group.category, group.households, group.persons)
    for change in changes:
        for section in (county, townships[change.township_code]):
            if change.kind == "start":
                section.new_households += change.households
            elif change.kind == "stop":
                section.exits[change.reason] = (
                    section.exits.get(change.reason, 0) + change.households
                )
            elif change.kind == "increase":
                section.increases += change.households
            elif change.kind == "decrease":
                section.reductions += change.households
    for code, section in townships.items():
        section.township_code = code
    return MonthlyReport(
        county_code=county_code,
        month=month,
        run_id=run_id,
        run_released=run_released,
        county=county,
        townships=tuple(townships[c] for c in sorted(townships)),
    )
