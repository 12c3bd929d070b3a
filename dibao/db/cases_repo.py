"""Queries on the case projection and the filed applications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    bindparam,
    func,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import recusal_repo, rulepacks_repo
from dibao.db.models import ApplicationRow, CaseRow, StageEventRow
from dibao.domain.enums import CaseStatus, Stage
from dibao.domain.ops import WAITING_ROLE
from dibao.domain.stages import DELEGATED_APPROVAL
from dibao.messages.case import CaseInput, RecordStage, StageRecorded


@dataclass(frozen=True)
class Reserved:
    case_id: str


@dataclass(frozen=True)
class SameRequest:
    """The idempotency key was used before for this very request: answer with that case."""

    case_id: str


@dataclass(frozen=True)
class KeyReused:
    """The idempotency key was used before for a different request."""

    case_id: str


@dataclass(frozen=True)
class HouseholdHasOpenCase:
    case_id: str


ReserveOutcome = Reserved | SameRequest | KeyReused | HouseholdHasOpenCase


async def _prior_outcome(
    session: AsyncSession, case: CaseInput, idempotency_key: str | None, request_sha256: str
) -> ReserveOutcome | None:
    # The household first, the key second: a case and its application commit together, so a
    # filing committed between the two reads is seen by the key read at least, and a repeat
    # of it is answered as the same request rather than as a second filing of the household.
    open_case = await open_case_for_household(session, case.application.head.id_number)
    if idempotency_key is not None:
        row = (
            await session.execute(
                select(ApplicationRow.case_id, ApplicationRow.request_sha256).where(
                    ApplicationRow.idempotency_key == idempotency_key
                )
            )
        ).first()
        if row is not None:
            if row.request_sha256 == request_sha256:
                return SameRequest(row.case_id)
            return KeyReused(row.case_id)
    if open_case is not None:
        return HouseholdHasOpenCase(open_case)
    return None


async def reserve_case(
    session: AsyncSession,
    case: CaseInput,
    payload: dict[str, Any],
    idempotency_key: str | None,
    request_sha256: str,
) -> ReserveOutcome:
    """Write the case row and the application in one transaction, or say why not.

    Checked before the insert, so the common case gets its precise answer without a violation;
    between simultaneous filings the unique indexes decide, and the losers answer from the row
    that won.
    """
    # A loser of a race finds the winner once the winner commits; a winner that is rolled back
    # or closed in between leaves room for another attempt.
    for _ in range(3):
        prior = await _prior_outcome(session, case, idempotency_key, request_sha256)
        if prior is not None:
            return prior
        try:
            await _insert(session, case, payload, idempotency_key, request_sha256)
        except IntegrityError:
            # The violation's text names the row values (an ID number): it is neither logged
            # nor shown; the rows themselves say what won.
            await session.rollback()
            continue
        return Reserved(case.case_id)
    raise RaceLost()


class RaceLost(Exception):
    """Simultaneous filings kept displacing each other: the caller may simply try again."""


async def _insert(
    session: AsyncSession,
    case: CaseInput,
    payload: dict[str, Any],
    idempotency_key: str | None,
    request_sha256: str,
) -> None:
    hukou = case.application.hukou
    session.add(
        CaseRow(
            case_id=case.case_id,
            head_id_number=case.application.head.id_number,
            stage=Stage.APPLICATION.value,
            status=CaseStatus.FILED.value,
            stage_seq=0,
            rule_pack_id=case.rule_pack_id,
            rule_pack_version=case.rule_pack_version,
            area_type=case.application.area_type.value,
            province_code=hukou.province_code,
            county_code=hukou.county_code,
            township_code=hukou.township_code,
            village_code=hukou.village_code,
            stage_entered_at=case.filed_at,
            filed_at=case.filed_at,
        )
    )
    # Flushed apart so the application's foreign key finds its case; either insert may be the
    # one a simultaneous filing violates.
    await session.flush()
    session.add(
        ApplicationRow(
            case_id=case.case_id,
            payload=payload,
            request_sha256=request_sha256,
            idempotency_key=idempotency_key,
            filed_by=case.filed_by.id,
            filed_role=case.filed_by.role.value,
        )
    )
    await session.commit()


async def open_case_for_household(session: AsyncSession, head_id_number: str) -> str | None:
    return (
        await session.execute(
            select(CaseRow.case_id).where(
                CaseRow.head_id_number == head_id_number, CaseRow.closed_at.is_(None)
            )
        )
    ).scalar_one_or_none()


async def get_case(session: AsyncSession, case_id: str) -> CaseRow | None:
    return await session.get(CaseRow, case_id)


async def get_application_payload(session: AsyncSession, case_id: str) -> ApplicationRow | None:
    return await session.get(ApplicationRow, case_id)


# Beyond this many matching cases a listing says "at least" instead of counting them all: a
# count over a county's 500,000 cases costs more than the page.
TOTAL_CAP = 1000


# What a listing shows of each case (api.schemas.CaseSummaryOut): read as columns, not rows.
_SUMMARY = (
    CaseRow.case_id,
    CaseRow.stage,
    CaseRow.status,
    CaseRow.area_type,
    CaseRow.county_code,
    CaseRow.township_code,
    CaseRow.village_code,
    CaseRow.filed_at,
    CaseRow.stage_entered_at,
    CaseRow.due_at,
    CaseRow.due_warning,
)


@dataclass(frozen=True)
class CasePage:
    rows: Sequence[Row[Any]]  # the columns of _SUMMARY, by name
    total: int  # matching cases, at most TOTAL_CAP
    total_capped: bool  # there are more than `total`
    after: tuple[datetime, str] | None  # the key of the last row, when more rows follow


# The filters a listing may have, by parameter name, in the order they are applied.
_FILTERS = {
    "stage": CaseRow.stage,
    "status": CaseRow.status,
    "county": CaseRow.county_code,
    "township": CaseRow.township_code,
    "village": CaseRow.village_code,
}


@lru_cache(maxsize=128)
def _listing(filters: tuple[str, ...], keyed: bool, recusal: bool) -> Select[Any]:
    """The statement of a listing so filtered, its values as parameters: built once per shape
    (constructing it cost more than its round trip), not on every request."""
    conditions: list[ColumnElement[bool]] = []
    if recusal:
        conditions.append(recusal_repo.not_recused_in_statement())
    conditions += [_FILTERS[name] == bindparam(name) for name in filters]
    capped = select(literal(1)).select_from(CaseRow).where(*conditions).limit(TOTAL_CAP + 1)
    counted = select(func.count().label("counted")).select_from(capped.subquery()).subquery()
    newest_first = (CaseRow.filed_at.desc(), CaseRow.case_id)
    if not keyed:
        page = (
            select(*_SUMMARY)
            .where(*conditions)
            .order_by(*newest_first)
            .limit(bindparam("page_rows"))
            .offset(bindparam("skip"))
            .subquery()
        )
    else:
        # After (filed_at, case_id) in this order is two ranges of the index: the rest of the
        # cases filed at that instant (a ledger import files thousands at once), then those
        # filed before. As one OR the index could start at neither, and a page 10,000 deep
        # would first read the 10,000 before it.
        after_at = bindparam("after_at", type_=CaseRow.filed_at.type)
        same_instant = (
            select(*_SUMMARY)
            .where(
                *conditions, CaseRow.filed_at == after_at, CaseRow.case_id > bindparam("after_id")
            )
            .order_by(CaseRow.case_id)
            .limit(bindparam("wanted"))
        )
        before = (
            select(*_SUMMARY)
            .where(*conditions, CaseRow.filed_at < after_at)
            .order_by(*newest_first)
            .limit(bindparam("wanted"))
        )
        ranges = union_all(same_instant, before).subquery()
        page = (
            select(*ranges.c)
            .order_by(ranges.c.filed_at.desc(), ranges.c.case_id)
            .limit(bindparam("page_rows"))
            .offset(bindparam("skip"))
            .subquery()
        )
    # The count's one row joined to the page's: an empty page still brings its count.
    return (
        select(counted.c.counted, *page.c)
        .select_from(counted.outerjoin(page, true()))
        .order_by(page.c.filed_at.desc(), page.c.case_id)
    )


async def list_cases(
    session: AsyncSession,
    *,
    stage: Stage | None = None,
    status: CaseStatus | None = None,
    county: str | None = None,
    township: str | None = None,
    village: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after: tuple[datetime, str] | None = None,
    visible_to: str | None = None,
) -> CasePage:
    """Newest filing first, by key (filed_at desc, case_id) after `after`: each page is one
    range of ix_cases_filed (or ix_cases_county_filed); `offset` still skips rows for old
    clients. `visible_to`: leave out the cases that user is recused from (近亲属备案).
    The page and its capped count are one statement (one snapshot, one round trip)."""
    values: dict[str, Any] = {
        "stage": stage.value if stage is not None else None,
        "status": status.value if status is not None else None,
        "county": county,
        "township": township,
        "village": village,
    }
    params = {name: value for name, value in values.items() if value is not None}
    params |= {"page_rows": limit + 1, "skip": offset}
    if visible_to is not None:
        params["recusal_staff_id"] = visible_to
    if after is not None:
        params |= {"after_at": after[0], "after_id": after[1], "wanted": limit + 1 + offset}
    filters = tuple(name for name in _FILTERS if values[name] is not None)
    statement = _listing(filters, after is not None, visible_to is not None)
    found = (await session.execute(statement, params)).all()
    counted_n = int(found[0].counted)
    rows = [r for r in found if r.case_id is not None]
    more = len(rows) > limit
    rows = rows[:limit]
    return CasePage(
        rows=rows,
        total=min(counted_n, TOTAL_CAP),
        total_capped=counted_n > TOTAL_CAP,
        after=(rows[-1].filed_at, rows[-1].case_id) if more and rows else None,
    )


async def record_stage(
    session: AsyncSession,
    change: RecordStage,
    recorded: StageRecorded,
    closed: bool,
    *,
    commit: bool = True,
) -> None:
    """Append the stage event once and move the projection forward, never backward."""
    await session.execute(
        insert(StageEventRow)
        .values(
            case_id=change.case_id,
            seq=change.seq,
            stage=change.stage.value,
            status=change.status.value,
            entered_at=change.entered_at,
            due_at=recorded.due_at,
        )
        .on_conflict_do_nothing(constraint="uq_stage_events_case_seq")
    )
    closed_at: datetime | None = change.entered_at if closed else None
    role = WAITING_ROLE[change.stage]
    if change.stage is Stage.COUNTY_APPROVAL:
        # mca-2021 Art. 2: where the county delegated approval, the township decides.
        pinned = (
            await session.execute(
                select(CaseRow.rule_pack_id, CaseRow.rule_pack_version).where(
                    CaseRow.case_id == change.case_id
                )
            )
        ).first()
        if pinned is not None and await rulepacks_repo.approval_delegated(session, *pinned):
            role = DELEGATED_APPROVAL.waiting_role
    await session.execute(
        update(CaseRow)
        .where(CaseRow.case_id == change.case_id, CaseRow.stage_seq < change.seq)
        .values(
            stage=change.stage.value,
            status=change.status.value,
            stage_seq=change.seq,
            stage_entered_at=change.entered_at,
            due_at=recorded.due_at,
            due_warning=recorded.due_warning,
            closed_at=closed_at,
            recused_staff=",".join(recorded.recused_staff) or None,
            waiting_role=role.value if role else None,
            overdue_since=None,
        )
    )
    if commit:
        await session.commit()


async def stage_events(session: AsyncSession, case_id: str) -> list[StageEventRow]:
    rows = await session.execute(
        select(StageEventRow).where(StageEventRow.case_id == case_id).order_by(StageEventRow.seq)
    )
    return list(rows.scalars())


async def receiving_case_ids(session: AsyncSession, county_code: str) -> list[str]:
    rows = await session.execute(
        select(CaseRow.case_id)
        .where(CaseRow.county_code == county_code, CaseRow.status == CaseStatus.RECEIVING.value)
        .order_by(CaseRow.case_id)
    )
    return list(rows.scalars())


async def receiving_case_page(
    session: AsyncSession, county_code: str, after: str, limit: int
) -> list[str]:
    """The next `limit` receiving cases of the county after `after`, by key: each page is one
    range read of ix_cases_county_status_case, however far into the county it is."""
    rows = await session.execute(
        select(CaseRow.case_id)
        .where(
            CaseRow.county_code == county_code,
            CaseRow.status == CaseStatus.RECEIVING.value,
            CaseRow.case_id > after,
        )
        .order_by(CaseRow.case_id)
        .limit(limit)
    )
    return list(rows.scalars())


async def count_receiving(session: AsyncSession, county_code: str) -> int:
    rows = await session.execute(
        select(func.count())
        .select_from(CaseRow)
        .where(CaseRow.county_code == county_code, CaseRow.status == CaseStatus.RECEIVING.value)
    )
    return int(rows.scalar_one())


async def record_procedure_deadline(
    session: AsyncSession, case_id: str, due_at: datetime, *, commit: bool = True
) -> None:
    """The whole procedure's due moment (mca-2021 Art. 22), as first set or as extended; the
    overdue mark goes with the deadline it was raised against."""
    await session.execute(
        update(CaseRow)
        .where(CaseRow.case_id == case_id)
        .values(
            procedure_due_at=due_at,
            procedure_overdue_since=None,
        )
    )
    if commit:
        await session.commit()
