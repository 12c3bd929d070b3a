"""Local standards (低保标准) as dated data, and the months and amounts a user may give.

A county's standard is set from a month on (county_standards table); every assessment uses the
standard in force for the month it assesses. The rule pack pins the procedure and the bounds
checked here, not the money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from dibao.domain.application import FieldError
from dibao.domain.enums import AreaType
from dibao.domain.money import format_yuan
from dibao.domain.rulepacks import RulePack

# Where a standard came from when the case could not read the county's dated standards (cases
# assessed before they existed): the case's rule pack.
PACK_SOURCE = "rule-pack"

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Standard:
    """One standard as set: urban per person per month, rural per person per year (fen)."""

    area_type: AreaType
    amount_fen: int
    from_month: str = ""  # "YYYY-MM" it took effect; "" when it is the rule pack's figure
    source: str = PACK_SOURCE  # what set it: the seed, or a standard change's batch ID

    @property
    def per_month(self) -> Fraction:
        """Per person per month, exact: a rural yearly standard is not rounded when divided."""
        if self.area_type is AreaType.URBAN:
            return Fraction(self.amount_fen)
        return Fraction(self.amount_fen, 12)

    def wording(self, per_month_fen: int) -> str:
        """How a notice states it; `per_month_fen` is the monthly figure as rounded for people."""
        if self.area_type is AreaType.URBAN:
            return f"城市低保标准每人每月 {format_yuan(self.amount_fen)} 元"
        return (
            f"农村低保标准每人每年 {format_yuan(self.amount_fen)} 元"
            f"（折合每月 {format_yuan(per_month_fen)} 元）"
        )


@dataclass(frozen=True)
class StandardQuery:
    """Input of the `standard_in_force` activity."""

    county_code: str
    area_type: AreaType
    month: str  # "YYYY-MM"


@dataclass(frozen=True)
class StandardInForce:
    """The standard in force for a month, and the month it was asked for; None when the county
    has none for that month (the case's rule pack's figure applies)."""

    standard: Standard | None
    month: str


def pack_standard(area_type: AreaType, pack: RulePack) -> Standard:
    """The rule pack's own figure: what a case used before standards were dated data."""
    if area_type is AreaType.URBAN:
        return Standard(area_type, pack.urban_standard_fen_month)
    return Standard(area_type, pack.rural_standard_fen_year)


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def latest_month(pack: RulePack, today: date) -> str:
    return _month(today.year * 12 + today.month - 1 + pack.months_ahead)


def month_problem(month: str, pack: RulePack, today: date) -> str | None:
    """Why a month a user gave is not one the system takes, or None: it must be a real month,
    not before the county went live (the pack's `earliest_month`) and not further ahead than
    the pack's horizon."""
    if not _MONTH.match(month):
        return "must be a month, YYYY-MM"
    latest = latest_month(pack, today)
    if month < pack.earliest_month:
        return (
            f"{month} is before {pack.earliest_month}, the earliest month this county's system has"
        )
    if month > latest:
        return (
            f"{month} is more than {pack.months_ahead} months ahead; the latest month accepted "
            f"now is {latest}"
        )
    return None


def standard_problem(area_type: AreaType, amount_fen: int, pack: RulePack) -> str | None:
    """Why a standard is not one that can be meant, or None: per person per month it lies
    within the pack's bounds (a rural yearly standard is checked per month)."""
    per_month = Standard(area_type, amount_fen).per_month
    low, high = pack.standard_min_fen_month, pack.standard_max_fen_month
    if low <= per_month <= high:
        return None
    unit = "per month" if area_type is AreaType.URBAN else "per year"
    factor = 1 if area_type is AreaType.URBAN else 12
    return (
        f"{format_yuan(amount_fen)} 元 {unit} is outside {format_yuan(low * factor)}–"
        f"{format_yuan(high * factor)} 元 {unit}, the bounds the rule pack sets"
    )


@dataclass(frozen=True)
class RecordCountyStandards:
    """Input of the `record_county_standards` activity: a standard change's new standards."""

    batch_id: str  # the standard change: source of the rows, and what makes the write once
    county_code: str
    urban_standard_fen_month: int
    rural_standard_fen_year: int
    effective_month: str
    recorded_by: str


@dataclass(frozen=True)
class CountyStandardsRecorded:
    urban: Standard
    rural: Standard


def standard_change_problems(
    urban_standard_fen_month: int,
    rural_standard_fen_year: int,
    effective_month: str,
    pack: RulePack,
    today: date,
) -> list[FieldError]:
    """Why a county's standard change cannot be taken, field by field (empty: it can)."""
    problems: list[FieldError] = []
    month = month_problem(effective_month, pack, today)
    if month:
        problems.append(FieldError(("effective_month",), month))
    for field, area, amount in (
        ("urban_standard", AreaType.URBAN, urban_standard_fen_month),
        ("rural_standard", AreaType.RURAL, rural_standard_fen_year),
    ):
        problem = standard_problem(area, amount, pack)
        if problem:
            problems.append(FieldError((field,), problem))
    return problems
