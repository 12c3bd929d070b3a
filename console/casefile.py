"""What the household's file (一户一档) page says in words: the assessment's arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console import labels
from dibao.domain.enums import IncomeCategory
from dibao.domain.money import format_yuan
from dibao.domain.verification import DEPARTMENT_LABELS, Department


@dataclass(frozen=True)
class IncomeLine:
    label: str
    fen: int
    counted: bool


@dataclass(frozen=True)
class Arithmetic:
    source: str  # 入户调查 or 申请人申报
    counted: list[IncomeLine] = field(default_factory=list)
    exempt: list[IncomeLine] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


class Recorded(dict[str, Any]):
    """The procedure's record as the page reads it: a part not recorded reads as none. The
    page is also shown from the database alone (the workflow not answering: a case just
    filed, no worker up), when the record has none of its parts."""

    def __missing__(self, key: str) -> None:
        return None


def _fen(item: dict[str, Any]) -> int:
    if "monthly_fen" in item:
        return int(item["monthly_fen"])
    yuan, _, jiao = str(item.get("monthly_amount", "0")).replace(",", "").partition(".")
    return int(yuan or 0) * 100 + int((jiao + "00")[:2])


def arithmetic(procedure: dict[str, Any], application: dict[str, Any]) -> Arithmetic | None:
    assessment = procedure.get("assessment")
    if not assessment:
        return None
    survey = procedure.get("survey")
    incomes = (survey or {}).get("incomes") if survey else application.get("incomes", [])
    counted: list[IncomeLine] = []
    exempt: list[IncomeLine] = []
    for item in incomes or []:
        try:
            category = IncomeCategory(item["category"])
        except (KeyError, ValueError):
            continue
        line = IncomeLine(labels.INCOME[category], _fen(item), category.counted)
        (counted if category.counted else exempt).append(line)
    size = assessment["household_size"]
    total = assessment["counted_income_fen_month"]
    per_capita = assessment["per_capita_income_fen_month"]
    standard = assessment["standard_fen_month"]
    amount = assessment["monthly_amount_fen"]
    sentences = []
    std = assessment.get("standard")
    if std:
        area = "城市" if std.get("area_type") == "urban" else "农村"
        period = "每人每月" if std.get("area_type") == "urban" else "每人每年"
        since = f"，自{month_zh(std['from_month'])}起执行" if std.get("from_month") else ""
        sentences.append(
            f"适用标准：{area}低保标准{period} {format_yuan(std['amount_fen'])} 元{since}，"
            f"折合每人每月 {format_yuan(standard)} 元。"
        )
    else:
        sentences.append(f"适用标准：每人每月 {format_yuan(standard)} 元。")
    if counted:
        parts = "＋".join(f"{c.label} {format_yuan(c.fen)} 元" for c in counted)
        sentences.append(f"家庭月计算收入：{parts}，合计 {format_yuan(total)} 元。")
    else:
        sentences.append(f"家庭月计算收入：{format_yuan(total)} 元（无计入收入）。")
    if exempt:
        names = "、".join(f"{e.label} {format_yuan(e.fen)} 元" for e in exempt)
        sentences.append(f"不计入家庭收入：{names}。")
    sentences.append(
        f"家庭人均月收入：{format_yuan(total)} 元 ÷ {size} 人 ＝ {format_yuan(per_capita)} 元。"
    )
    if assessment.get("eligible"):
        gap = f"（{format_yuan(standard)} 元 － {format_yuan(per_capita)} 元）× {size} 人"
        if (standard - per_capita) * size == amount:
            sentences.append(f"月保障金额：{gap} ＝ {format_yuan(amount)} 元。")
        else:
            # Rounding, a minimum amount or a priority increase of the rule pack moved it.
            sentences.append(
                f"月保障金额：按差额 {gap} ＝ {format_yuan((standard - per_capita) * size)} 元"
                f"计算，依规则调整后为 {format_yuan(amount)} 元。"
            )
    else:
        reasons = "；".join(f["message"] for f in assessment.get("failures", []))
        sentences.append(f"不符合条件：{reasons or '未达保障条件'}。")
    return Arithmetic(
        source="入户调查" if survey else "申请人申报",
        counted=counted,
        exempt=exempt,
        sentences=sentences,
    )


def month_zh(month: str) -> str:
    """2020-01 as 2020年1月."""
    year, _, number = month.partition("-")
    return f"{year}年{int(number)}月" if number.isdigit() else month


def department(value: str) -> str:
    try:
        return DEPARTMENT_LABELS[Department(value)]
    except ValueError:
        return value
