"""Recusal (回避) decided from PostgreSQL: the near-relative registry (近亲属备案) matched to the
ID numbers of the members a case's application lists.

The `cases.recused_staff` column is what the workflow last recorded; a registration made since
is only in the registry, so access checks and listings ask the registry, and registration
writes the column of every open case it touches at once.
"""

from __future__ import annotations

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    TextClause,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.models import ApplicationRow, CaseRow
from dibao.domain.access import CasePlace

# Registered relatives who are members of the household of `cases.case_id` (the members as the
# application lists them; the registry stores ID numbers upper-cased).
_REGISTERED = """
    SELECT sr.staff_id
    FROM applications a
    CROSS JOIN LATERAL jsonb_array_elements(a.payload -> 'members') m
    JOIN staff_relatives sr ON sr.relative_id_number = upper(m ->> 'id_number')
    WHERE a.case_id = cases.case_id
"""


def _in_column(staff_id: str | BindParameter[str]) -> ColumnElement[bool]:
    recorded = "," + func.coalesce(CaseRow.recused_staff, "") + ","
    return func.strpos(recorded, "," + staff_id + ",") > 0


async def not_recused(session: AsyncSession, staff_id: str) -> ColumnElement[bool]:
    """Listing filter: the cases a user is not recused from, by the registry or the column.

    Most users have no relative registered; their listing pays for the column test only."""
    has_relatives = (
        await session.execute(
            text("SELECT EXISTS (SELECT 1 FROM staff_relatives WHERE staff_id = :staff_id)"),
            {"staff_id": staff_id},
        )
    ).scalar_one()
    if not has_relatives:
        return not_(_in_column(staff_id))
    registered: TextClause = text(
        f"EXISTS ({_REGISTERED} AND sr.staff_id = :recusal_staff_id)"
    ).bindparams(recusal_staff_id=staff_id)
    return not_(or_(registered, _in_column(staff_id)))


def not_recused_in_statement() -> ColumnElement[bool]:
    """As `not_recused`, without a statement of its own, for the user the statement's
    `recusal_staff_id` parameter names (so a listing's statement is built once, not per
    user): whether the user has a relative registered is asked once inside the statement (an
    InitPlan), so most users' listings still test the column only and no extra round trip is
    paid for the question."""
    none_registered: TextClause = text(
        "NOT EXISTS (SELECT 1 FROM staff_relatives WHERE staff_id = :recusal_staff_id)"
    )
    not_registered: TextClause = text(
        f"NOT EXISTS ({_REGISTERED} AND sr.staff_id = :recusal_staff_id)"
    )
    staff = bindparam("recusal_staff_id", type_=String)
    return and_(not_(_in_column(staff)), or_(none_registered, not_registered))


async def recused_staff(session: AsyncSession, case: CaseRow) -> tuple[str, ...]:
    """Everyone recused from the case: as recorded, and as the registry says now."""
    rows = await session.execute(
        text(_REGISTERED.replace("cases.case_id", ":case_id")), {"case_id": case.case_id}
    )
    recorded = CasePlace.parse_recused(case.recused_staff)
    return tuple(sorted(set(recorded) | set(rows.scalars())))


async def open_cases_of(session: AsyncSession, id_number: str) -> list[str]:
    """Open cases whose application lists a member with this ID number."""
    rows = await session.execute(
        select(CaseRow.case_id)
        .join(ApplicationRow, ApplicationRow.case_id == CaseRow.case_id)
        .where(
            CaseRow.closed_at.is_(None),
            text(
                "EXISTS (SELECT 1 FROM jsonb_array_elements(applications.payload -> 'members') m "
                "WHERE upper(m ->> 'id_number') = :id_number)"
            ).bindparams(id_number=id_number.upper()),
        )
        .order_by(CaseRow.case_id)
    )
    return list(rows.scalars())


async def record_recusal(session: AsyncSession, case_ids: list[str], staff_id: str) -> None:
    """Add the staff member to the recorded recusals of these cases (once each)."""
    if not case_ids:
        return
    await session.execute(
        update(CaseRow)
        .where(CaseRow.case_id.in_(case_ids), ~_in_column(staff_id))
        .values(recused_staff=func.concat_ws(",", func.nullif(CaseRow.recused_staff, ""), staff_id))
        .execution_options(synchronize_session=False)
    )
    await session.commit()
