"""行政区划: the names of counties, townships and villages."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.console_models import RegionRow

LEVELS = {6: "county", 9: "township", 12: "village"}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None


class RegionCsvError(ValueError):
    """A line of the CSV that cannot be loaded: its number and why (nothing is loaded)."""


def parse_csv(text: str) -> list[Region]:
    """`code,name` per line (a header line `code,name` is allowed); the level and parent follow
    from the code's length. Parents come before children when sorted by code."""
    regions: list[Region] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "code":
            continue
        if len(row) < 2:
            raise RegionCsvError(f"line {number}: expected code,name")
        code, name = row[0].strip(), row[1].strip()
        if not code.isdigit() or len(code) not in LEVELS:
            raise RegionCsvError(f"line {number}: code must have 6, 9 or 12 digits")
        if not name or len(name) > 100:
            raise RegionCsvError(f"line {number}: name must have 1 to 100 characters")
        if code in seen:
            raise RegionCsvError(f"line {number}: code {code} appears twice")
        seen.add(code)
        parent = {6: None, 9: code[:6], 12: code[:9]}[len(code)]
        regions.append(Region(code, name, LEVELS[len(code)], parent))
    return sorted(regions, key=lambda r: (len(r.code), r.code))


async def load(session: AsyncSession, regions: list[Region]) -> int:
    """Insert or rename each place, in one transaction; a parent missing from both the file
    and the table fails the whole load (the foreign key)."""
    for r in regions:
        stmt = insert(RegionRow).values(
            code=r.code, name=r.name, level=r.level, parent_code=r.parent_code
        )
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["code"], set_={"name": stmt.excluded.name})
        )
    await session.commit()
    return len(regions)


async def all_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(RegionRow.code, RegionRow.name))
    return {code: name for code, name in rows.all()}


async def names_of(session: AsyncSession, codes: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(RegionRow.code, RegionRow.name).where(RegionRow.code.in_(codes))
    )
    return {code: name for code, name in rows.all()}


async def villages_in(session: AsyncSession, jurisdiction: str) -> list[Region]:
    rows = await session.execute(
        select(RegionRow)
        .where(RegionRow.level == "village", RegionRow.code.startswith(jurisdiction))
        .order_by(RegionRow.code)
    )
    return [Region(r.code, r.name, r.level, r.parent_code) for r in rows.scalars()]


def township_office(names: dict[str, str], township_code: str) -> str:
    """示例镇人民政府; the code itself while the township has no name loaded."""
    name = names.get(township_code)
    return f"{name}人民政府" if name else f"乡镇人民政府（街道办事处）（区划代码 {township_code}）"


def county_office(names: dict[str, str], county_code: str) -> str:
    """示例县民政局: the county's civil affairs bureau, which approves and issues in its name."""
    name = names.get(county_code)
    return f"{name}民政局" if name else f"县级人民政府民政部门（区划代码 {county_code}）"


def place_name(names: dict[str, str], code: str) -> str:
    """示例县示例镇示例村: the full name down to the code's level, codes where names lack."""
    parts = [code[:n] for n in (6, 9, 12) if len(code) >= n]
    return "".join(names.get(p, p) for p in parts)
