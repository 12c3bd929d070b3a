"""Writing a row keyed by (case, step) once: a retried activity, a replayed workflow or a reset
finds the first write instead of making a second one."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.models import Base

R = TypeVar("R", bound=Base)


async def write_once(session: AsyncSession, row: R, constraint: str, *, commit: bool = True) -> R:
    """Insert `row` unless its (case_id, step_key) was written already; the stored row either
    way. Unset attributes (None) are left to the table's defaults. `commit=False`: part of a
    larger transaction (a stage transition), which its caller commits."""
    model: Any = type(row)
    values = {
        column.name: getattr(row, column.name)
        for column in model.__table__.columns
        if getattr(row, column.name) is not None
    }
    await session.execute(
        insert(model).values(**values).on_conflict_do_nothing(constraint=constraint)
    )
    if commit:
        await session.commit()
    stored: R = (
        await session.execute(
            select(model).where(model.case_id == row.case_id, model.step_key == row.step_key)  # type: ignore[attr-defined]
        )
    ).scalar_one()
    return stored
