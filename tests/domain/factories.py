"""Builders for domain values used by the pure unit tests (no Temporal, no database)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dibao.domain.application import Application, Assets, Hukou, IncomeItem, Member
from dibao.domain.enums import AreaType, IncomeCategory, Relation

# Valid resident ID numbers (GB 11643 check digit verified with stdnum.cn.ric.is_valid).
HEAD_ID = "612522195803120027"
SON_ID = "61042319850101001X"
GRANDSON_ID = "610423201205060033"
DAUGHTER_IN_LAW_ID = "610423198807090024"
OTHER_ID = "610423199002140033"

HUKOU = Hukou(
    province_code="61",
    county_code="610423",
    township_code="610423100",
    village_code="610423100201",
    address="示例镇示例村三组12号",
)


def member(
    name: str = "王秀英",
    id_number: str = HEAD_ID,
    relation: Relation = Relation.HEAD,
    **fields: Any,
) -> Member:
    return Member(name=name, id_number=id_number, relation=relation, **fields)


def household(*extra: Member) -> tuple[Member, ...]:
    """A head of household followed by `extra` members."""
    return (member(), *extra)


def application(**overrides: Any) -> Application:
    """A valid, complete application of a healthy three-person rural household."""
    base = Application(
        members=household(
            member("王建军", SON_ID, Relation.CHILD, able_to_work=True),
            member("王小明", GRANDSON_ID, Relation.GRANDCHILD),
        ),
        hukou=HUKOU,
        area_type=AreaType.RURAL,
        incomes=(
            IncomeItem(IncomeCategory.WAGES, 80_000),
            IncomeItem(IncomeCategory.STUDENT_AID, 10_000),
        ),
        assets=Assets(deposits_fen=300_000, homes=1),
        materials=(),
        declaration_signed=True,
        verification_authorised=True,
        phone="029-12345678",
    )
    return replace(base, **overrides)


def hukou(**overrides: str) -> Hukou:
    return replace(HUKOU, **overrides)
