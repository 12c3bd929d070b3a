"""The console's inbox (the case projection paged by key, soonest due first) and its look-ups
by name and ID number: the queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select, true, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import recusal_repo
from dibao.db.models import ApplicationRow, AuditRow, CaseRow
from dibao.domain.access import Level, level_of
from dibao.domain.enums import Role, Stage

# The inbox's order: soonest due first, cases without a deadline last; the case ID breaks ties
# and makes the key unique. The same expression is indexed (migration 0025).
DUE_KEY = func.coalesce(CaseRow.due_at, literal_column("'infinity'::timestamptz"))
PAGE = 50
# Counts per stage stop here ("1000+"): each is then at most this many index entries read over
# an index led by (place, stage), never every open case of a county (migration 0034).
COUNT_CAP = 1000


def in_jurisdiction(jurisdiction: str) -> ColumnElement[bool]:
    level = level_of(jurisdiction)
    if level is Level.COUNTY:
        return CaseRow.county_code == jurisdiction
    if level is Level.TOWNSHIP:
        return CaseRow.township_code == jurisdiction
    if level is Level.VILLAGE:
        return CaseRow.village_code == jurisdiction
    return CaseRow.case_id.is_(None)  # no jurisdiction: nothing


def _mine(role: Role) -> list[ColumnElement[bool]]:
    """The inbox of a role with moves of its own is what waits for that role; supervision,
    audit and ops have none, and see every open case of the jurisdiction instead."""
    if role in (Role.VILLAGE_CASEWORKER, Role.TOWNSHIP_CASEWORKER, Role.COUNTY_APPROVER):
        return [CaseRow.waiting_role == role.value]
    return []


@dataclass(frozen=True)
class InboxRow:
    case_id: str
    stage: str
    status: str
    village_code: str
    due_at: datetime | None
    overdue_since: datetime | None
    procedure_due_at: datetime | None
    head_name: str


@dataclass(frozen=True)
class Inbox:
    rows: list[InboxRow]
    counts: dict[str, int]
    next_key: str | None  # "<due ISO or 'none'>|<case_id>" of the last row, when more follow
    capped: frozenset[str] = frozenset()  # stages with at least COUNT_CAP cases: "1000+"


def _row(r: Any) -> InboxRow:
    return InboxRow(*r)


# The head of household's name (户主): the member whose relation is 'head', wherever listed.
HEAD_NAME: ColumnElement[str] = literal_column(
    "(SELECT m->>'name' FROM jsonb_array_elements(applications.payload->'members') AS m "
    "WHERE m->>'relation' = 'head' LIMIT 1)"
)


def _base(conditions: list[ColumnElement[bool]]) -> Any:
    head = HEAD_NAME
    return (
        select(
            CaseRow.case_id,
            CaseRow.stage,
            CaseRow.status,
            CaseRow.village_code,
            CaseRow.due_at,
            CaseRow.overdue_since,
            CaseRow.procedure_due_at,
            head,
        )
        .join(ApplicationRow, ApplicationRow.case_id == CaseRow.case_id)
        .where(*conditions)
    )


def parse_key(key: str | None) -> tuple[datetime, str] | None:
    if not key or "|" not in key:
        return None
    due, _, case_id = key.partition("|")
    try:
        moment = datetime.fromisoformat(due) if due != "none" else datetime.max
    except ValueError:
        return None
    return moment, case_id[:32]


async def inbox(
    session: AsyncSession,
    user_id: str,
    role: Role,
    jurisdiction: str,
    stage: str | None = None,
    after: str | None = None,
) -> Inbox:
    conditions = [
        CaseRow.closed_at.is_(None),
        in_jurisdiction(jurisdiction),
        *_mine(role),
        await recusal_repo.not_recused(session, user_id),
    ]
    counts, capped = await _stage_counts(session, conditions)
    if stage:
        conditions.append(CaseRow.stage == stage)
    # The page's case IDs from the projection and its index alone; only those rows are then
    # joined to their applications for the head's name.
    page = select(CaseRow.case_id).where(*conditions)
    key = parse_key(after)
    if key is not None:
        due, case_id = key
        if due == datetime.max:
            page = page.where(CaseRow.due_at.is_(None), CaseRow.case_id > case_id)
        else:
            page = page.where(tuple_(DUE_KEY, CaseRow.case_id) > tuple_(due, case_id))
    ids = page.order_by(DUE_KEY, CaseRow.case_id).limit(PAGE + 1).subquery()
    query = _base([CaseRow.case_id.in_(select(ids.c.case_id))])
    rows = [_row(r) for r in await session.execute(query.order_by(DUE_KEY, CaseRow.case_id))]
    next_key = None
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        last = rows[-1]
        next_key = f"{last.due_at.isoformat() if last.due_at else 'none'}|{last.case_id}"
    return Inbox(rows=rows, counts=counts, next_key=next_key, capped=capped)


async def _stage_counts(
    session: AsyncSession, conditions: list[ColumnElement[bool]]
) -> tuple[dict[str, int], frozenset[str]]:
    """Open cases per stage, each counted up to COUNT_CAP, in one statement: for every stage a
    LIMITed look into the (place, stage, due) index, so a county of 100,000 open cases costs
    a few thousand index entries instead of a scan of all of them."""
    # unnest of an array rather than VALUES: SQLAlchemy caches this statement's compiled form,
    # which it cannot for a VALUES of literal rows (compiled anew on every page otherwise).
    stages = (
        func.unnest(postgresql.array([s.value for s in Stage]))
        .table_valued("stage")
        .render_derived(name="stages")
    )
    hits = (
        select(literal_column("1").label("one"))
        .select_from(CaseRow)
        .where(*conditions, CaseRow.stage == stages.c.stage)
        .limit(COUNT_CAP)
        .lateral("hits")
    )
    query = (
        select(stages.c.stage, func.count(hits.c.one))
        .select_from(stages.outerjoin(hits, true()))
        .group_by(stages.c.stage)
    )
    counts = {stage: n for stage, n in (await session.execute(query)).all() if n}
    return counts, frozenset(stage for stage, n in counts.items() if n >= COUNT_CAP)


async def find_by_name(
    session: AsyncSession, user_id: str, jurisdiction: str, name: str
) -> list[InboxRow]:
    """Cases whose head (户主) has exactly this name, within the jurisdiction."""
    query = _base(
        [
            in_jurisdiction(jurisdiction),
            ApplicationRow.payload["members"].contains([{"name": name, "relation": "head"}]),
            await recusal_repo.not_recused(session, user_id),
        ]
    )
    rows = await session.execute(query.order_by(CaseRow.filed_at.desc()).limit(PAGE))
    return [_row(r) for r in rows]


async def find_by_id_number(
    session: AsyncSession, user_id: str, jurisdiction: str, id_number: str
) -> list[InboxRow]:
    """Cases of households whose head has this ID number, within the jurisdiction."""
    query = _base(
        [
            in_jurisdiction(jurisdiction),
            CaseRow.head_id_number == id_number,
            await recusal_repo.not_recused(session, user_id),
        ]
    )
    rows = await session.execute(query.order_by(CaseRow.filed_at.desc()).limit(PAGE))
    return [_row(r) for r in rows]


async def audit_lookup(
    session: AsyncSession,
    case_ids: list[str],
    user_id: str,
    role: Role,
    query_sha256: str,
    request_id: str,
    at: datetime,
) -> None:
    """A look-up by ID number is written to the audit log of every case it found (who, when,
    the digest of the number looked for, never the number)."""
    for case_id in case_ids:
        session.add(
            AuditRow(
                case_id=case_id,
                step_key=f"lookup/{request_id}",
                actor_id=user_id,
                actor_role=role.value,
                action="lookup_id_number",
                payload_sha256=query_sha256,
                at=at,
            )
        )
    await session.commit()
