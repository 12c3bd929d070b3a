"""The monthly statistics (月报) as an xlsx workbook, and as plain data for the API."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from dibao.domain.money import format_yuan
from dibao.domain.monthly import RURAL, URBAN, MonthlyReport, Section

CATEGORIES = ("A", "B", "C")
HEADER = (
    "乡镇",
    "保障户数",
    "保障人数",
    "城市户数",
    "城市人数",
    "农村户数",
    "农村人数",
    *(f"{c}类户数" for c in CATEGORIES),
    "发放金额（元）",
    "人均（元）",
    "新增户数",
    "停保户数",
    "增发户数",
    "减发户数",
)


def _cells(name: str, s: Section) -> list[Any]:
    return [
        name,
        s.households,
        s.persons,
        *s.by_area.get(URBAN, (0, 0)),
        *s.by_area.get(RURAL, (0, 0)),
        *(s.by_category.get(c, (0, 0))[0] for c in CATEGORIES),
        format_yuan(s.amount_fen),
        format_yuan(s.average_per_person_fen),
        s.new_households,
        s.exited,
        s.increases,
        s.reductions,
    ]


def monthly_xlsx(report: MonthlyReport) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "月报"
    sheet.append([f"{report.county_code} 低保月报 {report.month}（发放批次 {report.run_id}）"])
    sheet.append(list(HEADER))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for township in report.townships:
        sheet.append(_cells(township.township_code, township))
    sheet.append(_cells("全县合计", report.county))
    exits = book.create_sheet("停保原因")
    exits.append(["乡镇", "原因", "户数"])
    for township in report.townships:
        for reason, count in sorted(township.exits.items()):
            exits.append([township.township_code, reason, count])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def section_data(s: Section) -> dict[str, Any]:
    return {
        "township_code": s.township_code or None,
        "households": s.households,
        "persons": s.persons,
        "urban": dict(zip(("households", "persons"), s.by_area.get(URBAN, (0, 0)), strict=True)),
        "rural": dict(zip(("households", "persons"), s.by_area.get(RURAL, (0, 0)), strict=True)),
        "by_category": {
            c: dict(zip(("households", "persons"), s.by_category.get(c, (0, 0)), strict=True))
            for c in CATEGORIES
        },
        "amount_paid": format_yuan(s.amount_fen),
        "amount_paid_fen": s.amount_fen,
        "average_per_person": format_yuan(s.average_per_person_fen),
        "new_households": s.new_households,
        "exits": s.exited,
        "exits_by_reason": dict(sorted(s.exits.items())),
        "increases": s.increases,
        "reductions": s.reductions,
    }


def report_data(report: MonthlyReport) -> dict[str, Any]:
    return {
        "county_code": report.county_code,
        "month": report.month,
        "run_id": report.run_id,
        "run_released": report.run_released,
        "county": section_data(report.county),
        "townships": [section_data(t) for t in report.townships],
    }
