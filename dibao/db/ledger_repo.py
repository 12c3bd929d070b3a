"""Ledger imports: the uploaded file under its import, its errors or its households (each a
case in the recipient phase, written in one transaction, so a file is imported whole or not at
all), the imports' progress, and the county's past imports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.golive_models import LedgerImportFileRow, LedgerImportHouseholdRow, LedgerImportRow
from dibao.db.models import ApplicationRow, AuditRow, CaseRow, StageEventRow
from dibao.db.procedure_models import EntitlementRow
from dibao.domain.enums import AuditAction, CaseStatus, Stage
from dibao.domain.hashing import canonical_json, payload_sha256
from dibao.domain.ledger import (
    IMPORTED_SEQ,
    ImportedHousehold,
    ImportStatus,
    LedgerError,
    application_of,
    case_id_for,
    household_record,
)
from dibao.messages.case import Actor

CHUNK = 1000  # rows per INSERT statement
IMPORT_STEP = "ledger-import"  # the step key of the import's audit and ledger rows


def import_id_for(file_sha: str) -> str:
    return f"LI-{file_sha[:16]}"


async def find_import(session: AsyncSession, file_sha: str) -> LedgerImportRow | None:
    return (
        await session.execute(
            select(LedgerImportRow).where(LedgerImportRow.file_sha256 == file_sha)
        )
    ).scalar_one_or_none()


async def get_import(session: AsyncSession, import_id: str) -> LedgerImportRow | None:
    return await session.get(LedgerImportRow, import_id)


async def create_import(
    session: AsyncSession,
    *,
    file_sha: str,
    file_name: str,
    county_code: str,
    content: bytes,
    actor: Actor,
    at: datetime,
) -> tuple[LedgerImportRow, bool]:
    """The import of this file, new (status checking, the file stored with it) or the one of
    the same file uploaded before; and whether it is new."""
    prior = await find_import(session, file_sha)
    if prior is not None:
        return prior, False
    import_id = import_id_for(file_sha)
    row = LedgerImportRow(
        import_id=import_id,
        file_sha256=file_sha,
        county_code=county_code,
        file_name=file_name[:200],
        households=0,
        persons=0,
        imported_by=actor.id,
        started_at=at,
        status=ImportStatus.CHECKING.value,
        error_count=0,
    )
    session.add(row)
    try:
        await session.flush()
        session.add(LedgerImportFileRow(import_id=import_id, content=content))
        await session.commit()
    except IntegrityError:
        # The same file uploaded at the same moment: its import is the one.
        await session.rollback()
        prior = await find_import(session, file_sha)
        assert prior is not None
        return prior, False
    return row, True


async def check_again(
    session: AsyncSession, import_id: str, content: bytes, actor: Actor, at: datetime
) -> None:
    """The same file uploaded again after its check found errors (which may be gone: a case
    closed meanwhile): checked again under the same import, as this upload."""
    await session.execute(
        update(LedgerImportRow)
        .where(
            LedgerImportRow.import_id == import_id,
            LedgerImportRow.status == ImportStatus.ERRORS.value,
        )
        .values(
            status=ImportStatus.CHECKING.value,
            error_count=0,
            imported_by=actor.id,
            started_at=at,
        )
    )
    await keep_file(session, import_id, content)
    await session.execute(
        update(LedgerImportFileRow)
        .where(LedgerImportFileRow.import_id == import_id)
        .values(errors=None)
    )
    await session.commit()


async def keep_file(session: AsyncSession, import_id: str, content: bytes) -> None:
    """Store the file of an import that has none (one imported before files were kept)."""
    await session.execute(
        insert(LedgerImportFileRow)
        .values(import_id=import_id, content=content)
        .on_conflict_do_nothing()
    )
    await session.commit()


async def file_of(session: AsyncSession, import_id: str) -> LedgerImportFileRow | None:
    return await session.get(LedgerImportFileRow, import_id)


async def record_errors(
    session: AsyncSession,
    import_id: str,
    errors: Sequence[LedgerError],
    households: int,
    persons: int,
) -> None:
    """The check's outcome for a file with errors: nothing else is written."""
    await session.execute(
        update(LedgerImportFileRow)
        .where(LedgerImportFileRow.import_id == import_id)
        .values(errors=[{"row": e.row, "column": e.column, "message": e.message} for e in errors])
    )
    await session.execute(
        update(LedgerImportRow)
        .where(LedgerImportRow.import_id == import_id)
        .values(
            status=ImportStatus.ERRORS.value,
            error_count=len(errors),
            households=households,
            persons=persons,
        )
    )
    await session.commit()


async def errors_of(session: AsyncSession, import_id: str) -> tuple[LedgerError, ...]:
    found = (
        await session.execute(
            select(LedgerImportFileRow.errors).where(LedgerImportFileRow.import_id == import_id)
        )
    ).scalar_one_or_none()
    return tuple(
        LedgerError(int(str(e["row"])), str(e["column"]), str(e["message"])) for e in found or ()
    )


async def list_imports(
    session: AsyncSession,
    county_code: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[LedgerImportRow]:
    """The county's imports, newest first, from after the key (started_at, import_id) of the
    last row of the page before."""
    query = select(LedgerImportRow).where(LedgerImportRow.county_code == county_code)
    if after is not None:
        query = query.where(
            tuple_(LedgerImportRow.started_at, LedgerImportRow.import_id) < tuple_(*after)
        )
    query = query.order_by(
        LedgerImportRow.started_at.desc(), LedgerImportRow.import_id.desc()
    ).limit(limit)
    return list((await session.execute(query)).scalars())


# Members of open cases with one of the given ID numbers: the application lists every member
# (the head too); one pass over the open cases' applications, hash-joined to the file's IDs.
_IN_OPEN_CASES = text(
    """
    SELECT DISTINCT ids.id_number
    FROM cases c
    JOIN applications a ON a.case_id = c.case_id
    CROSS JOIN LATERAL jsonb_array_elements(a.payload -> 'members') m
    JOIN unnest(CAST(:ids AS text[])) AS ids(id_number)
        ON ids.id_number = upper(m ->> 'id_number')
    WHERE c.closed_at IS NULL
    """
)


async def in_open_cases(session: AsyncSession, id_numbers: Sequence[str]) -> frozenset[str]:
    """Of these ID numbers, those of a member (head or not) of an open case."""
    ids = sorted({i.upper() for i in id_numbers})
    if not ids:
        return frozenset()
    rows = await session.execute(_IN_OPEN_CASES, {"ids": ids})
    return frozenset(rows.scalars())


async def _insert_all(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    # One statement compiled once and sent with many parameter sets (batched into multi-row
    # INSERTs by the driver layer); a VALUES list of its own per chunk compiled every row's
    # parameters in Python, most of a large import's writing time.
    statement = insert(model.__table__).on_conflict_do_nothing()
    for start in range(0, len(rows), CHUNK):
        await session.execute(statement, rows[start : start + CHUNK])


async def write_import(
    session: AsyncSession,
    *,
    file_sha: str,
    file_name: str,
    county_code: str,
    households: Sequence[ImportedHousehold],
    rule_pack_id: str,
    rule_pack_version: int,
    actor: Actor,
    at: datetime,
) -> str:
    """Every household as a case in the recipient phase with its file, timeline entry, audit
    row and opening entitlement, and the import itself (status importing); one transaction."""
    import_id = import_id_for(file_sha)
    counts = {
        "households": len(households),
        "persons": sum(len(h.members) for h in households),
        "status": ImportStatus.IMPORTING.value,
        "error_count": 0,
    }
    await session.execute(
        insert(LedgerImportRow)
        .values(
            import_id=import_id,
            file_sha256=file_sha,
            county_code=county_code,
            file_name=file_name[:200],
            imported_by=actor.id,
            started_at=at,
            **counts,
        )
        .on_conflict_do_update(index_elements=["import_id"], set_=counts)
    )
    # Built and written a chunk at a time: the event loop gets its turn at every INSERT, and
    # memory holds one chunk's rows, not the whole county's.
    for start in range(0, len(households), CHUNK):
        await _write_chunk(
            session,
            households[start : start + CHUNK],
            import_id=import_id,
            file_sha=file_sha,
            rule_pack_id=rule_pack_id,
            rule_pack_version=rule_pack_version,
            actor=actor,
            at=at,
        )
    await session.commit()
    return import_id


async def _write_chunk(
    session: AsyncSession,
    households: Sequence[ImportedHousehold],
    *,
    import_id: str,
    file_sha: str,
    rule_pack_id: str,
    rule_pack_version: int,
    actor: Actor,
    at: datetime,
) -> None:
    for model, rows in rows_of(
        households,
        import_id=import_id,
        file_sha=file_sha,
        rule_pack_id=rule_pack_id,
        rule_pack_version=rule_pack_version,
        actor=actor,
        at=at,
    ):
        await _insert_all(session, model, rows)


def rows_of(
    households: Sequence[ImportedHousehold],
    *,
    import_id: str,
    file_sha: str,
    rule_pack_id: str,
    rule_pack_version: int,
    actor: Actor,
    at: datetime,
) -> list[tuple[Any, list[dict[str, Any]]]]:
    """The rows the households are written as, per table (model), in the order written
    (bench/import.py copies the same rows as its floor)."""
    cases: list[dict[str, Any]] = []
    applications: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for household in households:
        case_id = case_id_for(file_sha, household.key)
        hukou = household.hukou
        payload = json.loads(canonical_json(application_of(household)))
        cases.append(
            {
                "case_id": case_id,
                "head_id_number": household.head.id_number,
                "stage": Stage.RECIPIENT.value,
                "status": CaseStatus.RECEIVING.value,
                "stage_seq": IMPORTED_SEQ,
                "rule_pack_id": rule_pack_id,
                "rule_pack_version": rule_pack_version,
                "area_type": household.area_type.value,
                "province_code": hukou.province_code,
                "county_code": hukou.county_code,
                "township_code": hukou.township_code,
                "village_code": hukou.village_code,
                "stage_entered_at": at,
                "filed_at": at,
            }
        )
        applications.append(
            {
                "case_id": case_id,
                "payload": payload,
                "request_sha256": payload_sha256(payload),
                "idempotency_key": f"ledger:{file_sha[:32]}:{household.key}",
                "filed_by": actor.id,
                "filed_role": actor.role.value,
            }
        )
        events.append(
            {
                "case_id": case_id,
                "seq": IMPORTED_SEQ,
                "stage": Stage.RECIPIENT.value,
                "status": CaseStatus.RECEIVING.value,
                "entered_at": at,
                "due_at": None,
            }
        )
        audits.append(
            {
                "case_id": case_id,
                "step_key": IMPORT_STEP,
                "actor_id": actor.id,
                "actor_role": actor.role.value,
                "action": AuditAction.IMPORT_LEDGER.value,
                "payload_sha256": payload_sha256(
                    {"file_sha256": file_sha, "household": household.key, "rows": household.rows}
                ),
                "at": at,
            }
        )
        ledger.append(
            {
                "case_id": case_id,
                "step_key": IMPORT_STEP,
                "certificate_no": household.certificate_no,
                "effective_month": household.opening_month,
                "monthly_amount_fen": household.monthly_amount_fen,
                "category": household.category.value,
                "reason": (
                    f"台账导入：{household.first_paid_month}起享受低保，"
                    f"原系统已发放至{household.paid_up_to}"
                ),
                "recorded_at": at,
                "change_kind": "start",
                "paid_members": len(household.members),
            }
        )
        links.append(
            {
                "import_id": import_id,
                "household_key": household.key,
                "case_id": case_id,
                "first_row": household.rows[0],
                "started": False,
                "household": household_record(household),
            }
        )
    return [
        (CaseRow, cases),
        (ApplicationRow, applications),
        (StageEventRow, events),
        (AuditRow, audits),
        (EntitlementRow, ledger),
        (LedgerImportHouseholdRow, links),
    ]


async def mark_started(session: AsyncSession, case_ids: Sequence[str]) -> None:
    if case_ids:
        await session.execute(
            update(LedgerImportHouseholdRow)
            .where(LedgerImportHouseholdRow.case_id.in_(list(case_ids)))
            .values(started=True)
        )
    await session.commit()


@dataclass(frozen=True)
class ToStart:
    case_id: str
    household: dict[str, Any] | None  # None: imported before households were kept parsed


async def unstarted_page(session: AsyncSession, import_id: str, limit: int) -> list[ToStart]:
    """The next households of the import whose workflow has not started, in file order."""
    rows = await session.execute(
        select(LedgerImportHouseholdRow.case_id, LedgerImportHouseholdRow.household)
        .where(
            LedgerImportHouseholdRow.import_id == import_id,
            LedgerImportHouseholdRow.started.is_(False),
        )
        .order_by(LedgerImportHouseholdRow.first_row)
        .limit(limit)
    )
    return [ToStart(case_id, household) for case_id, household in rows]


async def _households_where(session: AsyncSession, import_id: str, condition: Any) -> int:
    """How many of an import's households meet `condition`."""
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    LedgerImportHouseholdRow.import_id == import_id, condition
                )
            )
        ).scalar_one()
    )


async def unparsed_count(session: AsyncSession, import_id: str) -> int:
    return await _households_where(session, import_id, LedgerImportHouseholdRow.household.is_(None))


async def keep_parsed(
    session: AsyncSession, import_id: str, households: Sequence[ImportedHousehold]
) -> None:
    """Fill in the parsed households of an import written before they were kept."""
    for h in households:
        await session.execute(
            update(LedgerImportHouseholdRow)
            .where(
                LedgerImportHouseholdRow.import_id == import_id,
                LedgerImportHouseholdRow.household_key == h.key,
                LedgerImportHouseholdRow.household.is_(None),
            )
            .values(household=household_record(h))
        )
    await session.commit()


async def finish(session: AsyncSession, import_id: str, at: datetime) -> None:
    await session.execute(
        update(LedgerImportRow)
        .where(LedgerImportRow.import_id == import_id, LedgerImportRow.finished_at.is_(None))
        .values(finished_at=at, status=ImportStatus.DONE.value)
    )
    await session.commit()


async def started_count(session: AsyncSession, import_id: str) -> int:
    return await _households_where(session, import_id, LedgerImportHouseholdRow.started.is_(True))


async def started_counts(session: AsyncSession, import_ids: Sequence[str]) -> dict[str, int]:
    """Cases started per import, for a page of the imports (one statement, not one each)."""
    if not import_ids:
        return {}
    rows = await session.execute(
        select(LedgerImportHouseholdRow.import_id, func.count())
        .where(
            LedgerImportHouseholdRow.import_id.in_(list(import_ids)),
            LedgerImportHouseholdRow.started.is_(True),
        )
        .group_by(LedgerImportHouseholdRow.import_id)
    )
    return {import_id: int(n) for import_id, n in rows}


async def import_case_ids(session: AsyncSession, import_id: str) -> frozenset[str]:
    rows = await session.execute(
        select(LedgerImportHouseholdRow.case_id).where(
            LedgerImportHouseholdRow.import_id == import_id
        )
    )
    return frozenset(rows.scalars())
