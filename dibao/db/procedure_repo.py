"""Queries of the procedure tables. Every write is keyed so that a retry finds the first one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.models import CaseRow
from dibao.db.once import write_once
from dibao.db.procedure_models import (
    CertificateRow,
    EntitlementRow,
    ObjectionRow,
    PayeeAccountRow,
    PostingRow,
    RecipientSpotCheckRow,
    SpotCheckRow,
    StaffRelativeRow,
)
from dibao.domain.enums import CaseStatus, PostingOutcome
from dibao.domain.procedure import SpotCheckDraw, annual_selection, spot_check


async def _lock(session: AsyncSession, key: str) -> None:
    """Serialise writers of one county-year counter for the rest of the transaction."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


# --- postings ------------------------------------------------------------------------------


async def open_posting(
    session: AsyncSession, row: PostingRow, *, commit: bool = True
) -> PostingRow:
    values = {c.name: getattr(row, c.name) for c in PostingRow.__table__.columns}
    await session.execute(
        insert(PostingRow)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_postings_case_step")
    )
    if commit:
        await session.commit()
    stored = (
        await session.execute(
            select(PostingRow).where(
                PostingRow.case_id == row.case_id, PostingRow.step_key == row.step_key
            )
        )
    ).scalar_one()
    return stored


async def close_posting(
    session: AsyncSession,
    posting_id: str,
    outcome: PostingOutcome,
    closed_at: datetime,
    *,
    commit: bool = True,
) -> PostingOutcome:
    """Close an open posting; a posting already closed keeps its first outcome."""
    await session.execute(
        update(PostingRow)
        .where(PostingRow.posting_id == posting_id, PostingRow.outcome == PostingOutcome.OPEN.value)
        .values(outcome=outcome.value, closed_at=closed_at)
    )
    if commit:
        await session.commit()
    stored = await session.get(PostingRow, posting_id, populate_existing=True)
    assert stored is not None
    return PostingOutcome(stored.outcome)


async def open_postings_in_village(
    session: AsyncSession,
    village_code: str,
    now: datetime,
    limit: int | None = None,
    after: tuple[str, datetime, str] | None = None,
) -> list[PostingRow]:
    """The village's open postings by (stage, opens_at, posting ID), after `after` (the key of
    the last one read) if given: a range of ix_postings_open_village."""
    query = select(PostingRow).where(
        PostingRow.village_code == village_code,
        PostingRow.outcome == PostingOutcome.OPEN.value,
        PostingRow.opens_at <= now,
    )
    if after is not None:
        query = query.where(
            tuple_(PostingRow.stage, PostingRow.opens_at, PostingRow.posting_id) > tuple_(*after)
        )
    rows = await session.execute(
        query.order_by(PostingRow.stage, PostingRow.opens_at, PostingRow.posting_id).limit(limit)
    )
    return list(rows.scalars())


# --- objections ----------------------------------------------------------------------------


async def add_objection(session: AsyncSession, row: ObjectionRow) -> None:
    session.add(row)
    await session.commit()


async def remove_objection(session: AsyncSession, objection_id: str) -> None:
    """Undo an objection the workflow refused (not in a posting): it never took effect."""
    row = await session.get(ObjectionRow, objection_id)
    if row is not None:
        await session.delete(row)
        await session.commit()


# --- county spot checks --------------------------------------------------------------------


async def draw_spot_check(
    session: AsyncSession,
    case_id: str,
    county_code: str,
    year: int,
    seed: str,
    share: float,
    *,
    commit: bool = True,
) -> SpotCheckRow:
    existing = await session.get(SpotCheckRow, case_id)
    if existing is not None:
        return existing
    await _lock(session, f"spot-check:{county_code}:{year}")
    counts = (
        await session.execute(
            select(func.count(), func.count().filter(SpotCheckRow.selected)).where(
                SpotCheckRow.county_code == county_code, SpotCheckRow.year == year
            )
        )
    ).one()
    draw: SpotCheckDraw = spot_check(case_id, seed, share, int(counts[1]), int(counts[0]))
    row = SpotCheckRow(
        case_id=case_id,
        county_code=county_code,
        year=year,
        seed=draw.seed,
        draw=draw.draw,
        share=share,
        selected=draw.selected,
        reason=draw.reason,
    )
    session.add(row)
    await (session.commit() if commit else session.flush())
    return row


# --- certificates and entitlements ---------------------------------------------------------


async def issue_certificate(
    session: AsyncSession,
    case_id: str,
    county_code: str,
    year: int,
    issued_at: datetime,
    *,
    commit: bool = True,
) -> CertificateRow:
    existing = await session.get(CertificateRow, case_id)
    if existing is not None:
        return existing
    await _lock(session, f"certificate:{county_code}:{year}")
    last = (
        await session.execute(
            select(func.coalesce(func.max(CertificateRow.seq), 0)).where(
                CertificateRow.county_code == county_code, CertificateRow.year == year
            )
        )
    ).scalar_one()
    seq = int(last) + 1
    row = CertificateRow(
        case_id=case_id,
        certificate_no=f"{county_code}{year}{seq:06d}",
        county_code=county_code,
        year=year,
        seq=seq,
        issued_at=issued_at,
    )
    session.add(row)
    await (session.commit() if commit else session.flush())
    return row


async def record_entitlement(
    session: AsyncSession, row: EntitlementRow, *, commit: bool = True
) -> int:
    return (await write_once(session, row, "uq_entitlements_case_step", commit=commit)).id


async def entitlements_for_case(session: AsyncSession, case_id: str) -> list[EntitlementRow]:
    rows = await session.execute(
        select(EntitlementRow).where(EntitlementRow.case_id == case_id).order_by(EntitlementRow.id)
    )
    return list(rows.scalars())


# --- near relatives (近亲属备案) --------------------------------------------------------------


async def recused_staff_for(session: AsyncSession, id_numbers: list[str]) -> list[str]:
    if not id_numbers:
        return []
    rows = await session.execute(
        select(StaffRelativeRow.staff_id)
        .where(StaffRelativeRow.relative_id_number.in_(id_numbers))
        .distinct()
        .order_by(StaffRelativeRow.staff_id)
    )
    return list(rows.scalars())


async def register_relative(session: AsyncSession, row: StaffRelativeRow) -> StaffRelativeRow:
    values = {
        c.name: getattr(row, c.name)
        for c in StaffRelativeRow.__table__.columns
        if c.name not in ("id", "registered_at")
    }
    await session.execute(
        insert(StaffRelativeRow)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_staff_relative")
    )
    await session.commit()
    stored = (
        await session.execute(
            select(StaffRelativeRow).where(
                StaffRelativeRow.staff_id == row.staff_id,
                StaffRelativeRow.relative_id_number == row.relative_id_number,
                StaffRelativeRow.jurisdiction_code == row.jurisdiction_code,
            )
        )
    ).scalar_one()
    return stored


async def relatives_of(session: AsyncSession, staff_id: str) -> list[StaffRelativeRow]:
    rows = await session.execute(
        select(StaffRelativeRow)
        .where(StaffRelativeRow.staff_id == staff_id)
        .order_by(StaffRelativeRow.id)
    )
    return list(rows.scalars())


async def annual_spot_check(
    session: AsyncSession, county_code: str, year: int, seed: str, share: float, drawn_by: str
) -> list[RecipientSpotCheckRow]:
    """Draw the county's recipients for the year once; later calls return that same draw."""
    await _lock(session, f"annual-spot-check:{county_code}:{year}")
    existing = await annual_rows(session, county_code, year)
    if existing:
        return existing
    case_ids = list(
        (
            await session.execute(
                select(CaseRow.case_id)
                .where(
                    CaseRow.county_code == county_code,
                    CaseRow.status == CaseStatus.RECEIVING.value,
                )
                .order_by(CaseRow.case_id)
            )
        ).scalars()
    )
    for case_id, draw, selected in annual_selection(case_ids, seed, share):
        session.add(
            RecipientSpotCheckRow(
                county_code=county_code,
                year=year,
                case_id=case_id,
                seed=seed,
                draw=draw,
                selected=selected,
                drawn_by=drawn_by,
            )
        )
    await session.commit()
    return await annual_rows(session, county_code, year)


async def annual_rows(
    session: AsyncSession, county_code: str, year: int
) -> list[RecipientSpotCheckRow]:
    rows = await session.execute(
        select(RecipientSpotCheckRow)
        .where(RecipientSpotCheckRow.county_code == county_code, RecipientSpotCheckRow.year == year)
        .order_by(RecipientSpotCheckRow.draw)
    )
    return list(rows.scalars())


# --- payee accounts ------------------------------------------------------------------------


async def record_payee(session: AsyncSession, row: PayeeAccountRow) -> int:
    return (await write_once(session, row, "uq_payee_accounts_case_step")).id
