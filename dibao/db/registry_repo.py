"""Queries on the registry extracts and the stored verification runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.registry_models import RegistryBatchRow, RegistryRecordRow, VerificationRunRow
from dibao.domain.verification import (
    Department,
    Discrepancy,
    RecordKind,
    RegistryRecord,
    VerificationOutcome,
)


def _to_record(row: RegistryRecordRow) -> RegistryRecord:
    return RegistryRecord(
        department=Department(row.department),
        id_number=row.id_number,
        kind=RecordKind(row.kind),
        amount_fen=row.amount_fen,
        detail=row.detail,
        as_of=row.as_of.isoformat() if row.as_of else "",
    )


_RECORD_ORDER = (
    RegistryRecordRow.department,
    RegistryRecordRow.id_number,
    RegistryRecordRow.kind,
    RegistryRecordRow.id,
)


async def records_for(
    session: AsyncSession, department: Department, id_numbers: Collection[str]
) -> list[RegistryRecord]:
    """One department's records of these people, in a stable order."""
    if not id_numbers:
        return []
    rows = await session.execute(
        select(RegistryRecordRow)
        .where(
            RegistryRecordRow.department == department.value,
            RegistryRecordRow.id_number.in_(sorted(set(id_numbers))),
        )
        .order_by(*_RECORD_ORDER)
    )
    return [_to_record(row) for row in rows.scalars()]


async def records_for_person(session: AsyncSession, id_number: str) -> list[RegistryRecord]:
    """Every department's records of one person."""
    rows = await session.execute(
        select(RegistryRecordRow)
        .where(RegistryRecordRow.id_number == id_number)
        .order_by(*_RECORD_ORDER)
    )
    return [_to_record(row) for row in rows.scalars()]


@dataclass(frozen=True)
class LoadResult:
    batch_id: int
    rows: int  # rows of this batch (of the earlier load when already_loaded)
    already_loaded: bool  # the same file was loaded before: nothing was changed
    replaced_records: int  # the department's earlier records deleted by this load
    loaded_at: datetime


async def load_batch(
    session: AsyncSession,
    department: Department,
    rows: Sequence[RegistryRecord],
    file_name: str,
    sha256: str,
    loaded_by: str,
    replace: bool,
) -> LoadResult:
    """Store one extract in one transaction.

    With `replace`, the department's earlier records are deleted in the same transaction: an
    office that loads a full extract must never be left with half the old and half the new. A
    file already loaded for the department (same sha256) changes nothing.
    """
    wrong = {r.department for r in rows} - {department}
    if wrong:
        raise ValueError(f"rows of {sorted(wrong)} given for department {department.value}")
    # Loads of one department run one at a time: two --replace loads that overlapped could
    # each delete before the other inserted and leave both extracts in place.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"registry:{department}")))
    )
    batch_id = (
        await session.execute(
            pg_insert(RegistryBatchRow)
            .values(
                department=department.value,
                file_name=file_name,
                sha256=sha256,
                rows=len(rows),
                replaced=replace,
                loaded_by=loaded_by,
            )
            .on_conflict_do_nothing(constraint="uq_registry_batches_department_sha256")
            .returning(RegistryBatchRow.batch_id)
        )
    ).scalar_one_or_none()
    if batch_id is None:
        await session.rollback()
        earlier = (
            await session.execute(
                select(RegistryBatchRow).where(
                    RegistryBatchRow.department == department.value,
                    RegistryBatchRow.sha256 == sha256,
                )
            )
        ).scalar_one()
        return LoadResult(
            batch_id=earlier.batch_id,
            rows=earlier.rows,
            already_loaded=True,
            replaced_records=0,
            loaded_at=earlier.loaded_at,
        )
    replaced_records = 0
    if replace:
        deleted = await session.execute(
            delete(RegistryRecordRow).where(
                RegistryRecordRow.department == department.value,
                RegistryRecordRow.batch_id != batch_id,
            )
        )
        replaced_records = cast(CursorResult[Any], deleted).rowcount
    if rows:
        await session.execute(
            insert(RegistryRecordRow),
            [
                {
                    "department": department.value,
                    "id_number": r.id_number,
                    "kind": r.kind.value,
                    "amount_fen": r.amount_fen,
                    "detail": r.detail,
                    "as_of": date.fromisoformat(r.as_of) if r.as_of else None,
                    "batch_id": batch_id,
                }
                for r in rows
            ],
        )
    loaded_at = (
        await session.execute(
            select(RegistryBatchRow.loaded_at).where(RegistryBatchRow.batch_id == batch_id)
        )
    ).scalar_one()
    await session.commit()
    return LoadResult(
        batch_id=batch_id,
        rows=len(rows),
        already_loaded=False,
        replaced_records=replaced_records,
        loaded_at=loaded_at,
    )


# --- verification runs ---------------------------------------------------------------------


def outcome_to_json(outcome: VerificationOutcome) -> dict[str, Any]:
    return {
        "checked": [d.value for d in outcome.checked],
        "records": [
            {
                "department": r.department.value,
                "id_number": r.id_number,
                "kind": r.kind.value,
                "amount_fen": r.amount_fen,
                "detail": r.detail,
                "as_of": r.as_of,
            }
            for r in outcome.records
        ],
        "discrepancies": [
            {
                "department": d.department.value,
                "id_number": d.id_number,
                "kind": d.kind.value,
                "declared": d.declared,
                "found": d.found,
                "message": d.message,
            }
            for d in outcome.discrepancies
        ],
    }


def outcome_from_json(data: dict[str, Any]) -> VerificationOutcome:
    return VerificationOutcome(
        checked=tuple(Department(d) for d in data["checked"]),
        records=tuple(
            RegistryRecord(
                department=Department(r["department"]),
                id_number=r["id_number"],
                kind=RecordKind(r["kind"]),
                amount_fen=r["amount_fen"],
                detail=r["detail"],
                as_of=r["as_of"],
            )
            for r in data["records"]
        ),
        discrepancies=tuple(
            Discrepancy(
                department=Department(d["department"]),
                id_number=d["id_number"],
                kind=RecordKind(d["kind"]),
                declared=d["declared"],
                found=d["found"],
                message=d["message"],
            )
            for d in data["discrepancies"]
        ),
    )


async def stored_run(
    session: AsyncSession, case_id: str, step_key: str
) -> VerificationOutcome | None:
    outcome = (
        await session.execute(
            select(VerificationRunRow.outcome).where(
                VerificationRunRow.case_id == case_id, VerificationRunRow.step_key == step_key
            )
        )
    ).scalar_one_or_none()
    return None if outcome is None else outcome_from_json(outcome)


async def store_run_once(
    session: AsyncSession, case_id: str, step_key: str, outcome: VerificationOutcome
) -> VerificationOutcome:
    """Store the outcome unless the step already has one; return the stored (first) outcome.

    A retried activity can fetch different records (an extract was loaded in between); the
    case must go on with the outcome that was recorded first, not a second opinion.
    """
    await session.execute(
        pg_insert(VerificationRunRow)
        .values(case_id=case_id, step_key=step_key, outcome=outcome_to_json(outcome))
        .on_conflict_do_nothing(constraint="uq_verification_runs_case_step")
    )
    await session.commit()
    stored = await stored_run(session, case_id, step_key)
    if stored is None:  # pragma: no cover - the row was just written or already there
        raise RuntimeError(f"verification run {case_id}/{step_key} vanished")
    return stored
