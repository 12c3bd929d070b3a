"""Importing a county's ledger (台账导入), shared by the API, the console, the CLI and the
import's activities.

An upload only stores the file under a new import (`submit`) and starts the import's workflow
(workflows/ledger_import.py), which runs the rest in the worker: the whole file is checked
before anything is written (`check_and_write`: errors are kept with the import, nothing else
is written), a clean file is written in one transaction (each household a case in the
recipient phase), then the cases' workflows are started a page at a time at a limited rate
(`start_page`), so that the service keeps answering while thousands start. A file is
recognised by its SHA-256: uploading it again finds its import and writes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from dibao.codec import payloads_of_county
from dibao.db import ledger_repo, rulepacks_repo
from dibao.db.golive_models import LedgerImportRow
from dibao.domain.calendar import china_date
from dibao.domain.enums import CaseStatus, Stage
from dibao.domain.ledger import (
    ImportedHousehold,
    ImportStatus,
    LedgerError,
    application_of,
    check_ledger,
    file_sha256,
    household_of_record,
    recipient_state_of,
)
from dibao.ledger_files import marked_copy, read_ledger
from dibao.messages.case import Actor, CaseInput
from dibao.messages.ledger import (
    LedgerCasesStarted,
    LedgerImportChecked,
    LedgerImportFinished,
    LedgerImportInput,
)
from dibao.settings import Settings
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow
from workflows.ledger_import import LedgerImportWorkflow, workflow_id_for

Beat = Callable[[], None]
# A county's write may meet households filed while it was checked (each time named as errors
# by the next check); past this many rounds something else is wrong.
WRITE_ATTEMPTS = 3
MARK_EVERY = 100  # starts recorded per statement


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a file: its rows, households, and errors (none: clean)."""

    file_sha: str
    rows: list[dict[str, str]]
    households: tuple[ImportedHousehold, ...]
    errors: tuple[LedgerError, ...]
    already_imported: str | None = None  # the import ID when this file was imported before


@dataclass(frozen=True)
class Submitted:
    import_id: str
    status: ImportStatus
    created: bool  # False: the file was uploaded before (its import is this one)


class OtherCounty(Exception):
    """The same file was uploaded for another county: its import is that county's."""


@dataclass(frozen=True)
class ImportState:
    import_id: str
    county_code: str
    file_name: str
    file_sha256: str
    status: ImportStatus
    households: int
    persons: int
    started: int  # cases whose workflow runs; all of them once done
    errors: int
    imported_by: str
    started_at: datetime
    finished_at: datetime | None


# --- checking ---------------------------------------------------------------------------------


async def check_content(
    sessions: async_sessionmaker[AsyncSession], content: bytes, filename: str, county_code: str
) -> Checked:
    """Read and check the whole file against the open cases as they are now."""
    sha = file_sha256(content)
    # Reading and checking a county's file is seconds of CPU: in a thread, so that the event
    # loop (heartbeats, the API's requests) keeps its turns meanwhile.
    parsed = await asyncio.to_thread(read_ledger, content, filename)
    if parsed.errors:
        return Checked(sha, parsed.rows, (), parsed.errors)
    ids = [r.get("id_number", "").strip().upper() for r in parsed.rows]
    async with sessions() as session:
        in_open_cases = await ledger_repo.in_open_cases(session, [i for i in ids if i])
    result = await asyncio.to_thread(
        check_ledger,
        parsed.rows,
        county_code,
        china_date(datetime.now(UTC)),
        in_open_cases=in_open_cases,
    )
    return Checked(sha, parsed.rows, result.households, result.errors)


async def check_file(
    sessions: async_sessionmaker[AsyncSession],
    content: bytes,
    filename: str,
    county_code: str,
) -> Checked:
    """Check a file without importing it (检查 only): nothing is stored."""
    sha = file_sha256(content)
    async with sessions() as session:
        prior = await ledger_repo.find_import(session, sha)
        if prior is not None and prior.status != ImportStatus.ERRORS.value:
            return Checked(sha, [], (), (), already_imported=prior.import_id)
    return await check_content(sessions, content, filename, county_code)


# --- the upload -------------------------------------------------------------------------------


async def submit(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    content: bytes,
    filename: str,
    county_code: str,
    actor: Actor,
    *,
    rate: float | None = None,
) -> Submitted:
    """Store the file under its import and start the import's workflow; returns at once.

    The same file again is the same import: done, nothing happens; still running, its
    workflow goes on (or is started again if it had stopped); refused with errors before, it
    is checked again (the open cases it clashed with may have closed)."""
    now = datetime.now(UTC)
    sha = file_sha256(content)
    async with sessions() as session:
        row, created = await ledger_repo.create_import(
            session,
            file_sha=sha,
            file_name=filename,
            county_code=county_code,
            content=content,
            actor=actor,
            at=now,
        )
        if row.county_code != county_code:
            raise OtherCounty(row.import_id)
        status = ImportStatus(row.status)
        import_id = row.import_id
        again = status is ImportStatus.ERRORS
        if again:
            await ledger_repo.check_again(session, import_id, content, actor, now)
            status = ImportStatus.CHECKING
        elif not created and status is not ImportStatus.DONE:
            # An import from before files were kept resumes from this upload of its file.
            await ledger_repo.keep_file(session, import_id, content)
    if status is not ImportStatus.DONE:
        await start_workflow(
            client, settings, import_id, county_code, actor, rate=rate, replace=again
        )
    return Submitted(import_id, status, created)


async def start_workflow(
    client: Client,
    settings: Settings,
    import_id: str,
    county_code: str,
    actor: Actor,
    *,
    rate: float | None = None,
    replace: bool = False,
) -> None:
    request = LedgerImportInput(
        import_id=import_id,
        county_code=county_code,
        actor=actor,
        rate=rate if rate is not None else settings.ledger_import_rate,
        concurrency=settings.ledger_import_concurrency,
        page_size=settings.ledger_import_page_size,
    )
    with payloads_of_county(county_code):
        await client.start_workflow(
            LedgerImportWorkflow.run,
            request,
            id=workflow_id_for(county_code, import_id),
            task_queue=settings.task_queue,
            # The same file uploaded while its import runs: that run goes on. Checked again
            # after errors: a run still finishing its errors gives way to the new check.
            id_conflict_policy=(
                WorkflowIDConflictPolicy.TERMINATE_EXISTING
                if replace
                else WorkflowIDConflictPolicy.USE_EXISTING
            ),
        )


# --- what an import shows ---------------------------------------------------------------------


def _state(row: LedgerImportRow, started: int) -> ImportState:
    return ImportState(
        import_id=row.import_id,
        county_code=row.county_code,
        file_name=row.file_name,
        file_sha256=row.file_sha256,
        status=ImportStatus(row.status),
        households=row.households,
        persons=row.persons,
        started=started,
        errors=row.error_count,
        imported_by=row.imported_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


async def state_of(
    sessions: async_sessionmaker[AsyncSession], import_id: str
) -> ImportState | None:
    async with sessions() as session:
        row = await ledger_repo.get_import(session, import_id)
        if row is None:
            return None
        return _state(row, await ledger_repo.started_count(session, import_id))


async def past_imports(
    sessions: async_sessionmaker[AsyncSession],
    county_code: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[ImportState]:
    """The county's imports, newest first, after the key (started_at, import_id) given."""
    async with sessions() as session:
        return await past_imports_in(session, county_code, limit, after)


async def past_imports_in(
    session: AsyncSession,
    county_code: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[ImportState]:
    """As past_imports, on a session of the caller's (GET /ledger/imports: the request's)."""
    rows = await ledger_repo.list_imports(session, county_code, limit, after)
    started = await ledger_repo.started_counts(session, [r.import_id for r in rows])
    return [_state(r, started.get(r.import_id, 0)) for r in rows]


async def errors_of(
    sessions: async_sessionmaker[AsyncSession], import_id: str
) -> tuple[LedgerError, ...]:
    async with sessions() as session:
        return await ledger_repo.errors_of(session, import_id)


async def error_report(sessions: async_sessionmaker[AsyncSession], import_id: str) -> bytes:
    """The uploaded file with each bad cell marked and commented (xlsx)."""
    async with sessions() as session:
        stored = await ledger_repo.file_of(session, import_id)
        row = await ledger_repo.get_import(session, import_id)
        errors = await ledger_repo.errors_of(session, import_id)
    assert stored is not None and row is not None
    parsed = await asyncio.to_thread(read_ledger, stored.content, row.file_name)
    return await asyncio.to_thread(marked_copy, parsed.rows, errors)


# --- the import's activities ------------------------------------------------------------------


def _checked(row: LedgerImportRow) -> LedgerImportChecked:
    return LedgerImportChecked(
        import_id=row.import_id,
        status=ImportStatus(row.status),
        households=row.households,
        persons=row.persons,
        errors=row.error_count,
    )


async def check_and_write(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    import_id: str,
    actor: Actor,
) -> LedgerImportChecked:
    """Check the stored file; keep its errors (nothing else written), or write its households
    in one transaction. Run again, it finds what the import's row says was done."""
    async with sessions() as session:
        row = await ledger_repo.get_import(session, import_id)
        stored = await ledger_repo.file_of(session, import_id)
    if row is None or stored is None:
        raise LookupError(f"ledger import {import_id} has no stored file")
    if row.status != ImportStatus.CHECKING.value:
        return _checked(row)
    for _ in range(WRITE_ATTEMPTS):
        checked = await check_content(sessions, stored.content, row.file_name, row.county_code)
        async with sessions() as session:
            if checked.errors:
                keys = {r.get("certificate_no", "").strip() for r in checked.rows} - {""}
                await ledger_repo.record_errors(
                    session, import_id, checked.errors, len(keys), len(checked.rows)
                )
                written = await ledger_repo.get_import(session, import_id)
                assert written is not None
                return _checked(written)
            pack = await rulepacks_repo.pack_for_county(
                session, row.county_code, settings.default_rule_pack
            )
            try:
                await ledger_repo.write_import(
                    session,
                    file_sha=checked.file_sha,
                    file_name=row.file_name,
                    county_code=row.county_code,
                    households=checked.households,
                    rule_pack_id=pack.id,
                    rule_pack_version=pack.version,
                    actor=actor,
                    at=datetime.now(UTC),
                )
            except IntegrityError:
                # A household of the file got a case while it was written: nothing of the file
                # was, and the next check names it as an error.
                await session.rollback()
                continue
        return LedgerImportChecked(
            import_id=import_id,
            status=ImportStatus.IMPORTING,
            households=len(checked.households),
            persons=sum(len(h.members) for h in checked.households),
            errors=0,
        )
    raise RuntimeError(f"ledger import {import_id}: the write kept meeting new cases")


async def _parse_again(
    sessions: async_sessionmaker[AsyncSession], import_id: str, county_code: str
) -> None:
    """Households of an import written before they were kept parsed: from its file, checked
    without the open-case rule, which its own cases now break."""
    async with sessions() as session:
        stored = await ledger_repo.file_of(session, import_id)
        row = await ledger_repo.get_import(session, import_id)
    if stored is None or row is None:
        raise LookupError(f"ledger import {import_id} has no stored file")
    parsed = await asyncio.to_thread(read_ledger, stored.content, row.file_name)
    checked = await asyncio.to_thread(
        check_ledger, parsed.rows, county_code, china_date(datetime.now(UTC))
    )
    async with sessions() as session:
        await ledger_repo.keep_parsed(session, import_id, checked.households)


async def start_page(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    import_id: str,
    actor: Actor,
    *,
    limit: int,
    rate: float,
    concurrency: int,
) -> LedgerCasesStarted:
    """Start the workflows of the next `limit` households not started yet, at most `rate` a
    second and `concurrency` at once. Each start is keyed by its case ID: a page run again
    (its worker lost after some starts) starts each of them once."""
    async with sessions() as session:
        row = await ledger_repo.get_import(session, import_id)
        assert row is not None
        page = await ledger_repo.unstarted_page(session, import_id, limit)
        if any(p.household is None for p in page):
            await _parse_again(sessions, import_id, row.county_code)
            page = await ledger_repo.unstarted_page(session, import_id, limit)
        if not page:
            return LedgerCasesStarted(import_id=import_id, started=0, remaining=0)
        pack = await rulepacks_repo.pack_for_county(
            session, row.county_code, settings.default_rule_pack
        )
    gate = asyncio.Semaphore(concurrency)
    interval = 1.0 / rate if rate > 0 else 0.0
    began = time.monotonic()
    filed_at = datetime.now(UTC)
    finished: list[str] = []

    async def start_one(n: int, case_id: str, household: ImportedHousehold) -> None:
        # Paced by a schedule, not by sleeping after each start: a slow start is not added
        # to the gap before the next one.
        delay = began + n * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        async with gate:
            case = CaseInput(
                case_id=case_id,
                application=application_of(household),
                rule_pack_id=pack.id,
                rule_pack_version=pack.version,
                filed_at=filed_at,
                filed_by=actor,
                request_id=f"{import_id}:{household.key}",
                rule_pack=pack,
                recipient=recipient_state_of(household),
            )
            hukou = household.hukou
            try:
                with payloads_of_county(hukou.county_code):
                    await client.start_workflow(
                        CaseWorkflow.run,
                        case,
                        id=case_id,
                        task_queue=settings.task_queue,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                        search_attributes=TypedSearchAttributes(
                            [
                                SearchAttributePair(sa.STAGE, Stage.RECIPIENT.value),
                                SearchAttributePair(sa.STATUS, CaseStatus.RECEIVING.value),
                                SearchAttributePair(sa.COUNTY, hukou.county_code),
                                SearchAttributePair(sa.TOWNSHIP, hukou.township_code),
                            ]
                        ),
                    )
            except WorkflowAlreadyStartedError:
                pass  # closed since: nothing to restart
            finished.append(case_id)

    households = [
        (p.case_id, household_of_record(p.household)) for p in page if p.household is not None
    ]
    for start in range(0, len(households), MARK_EVERY):
        await asyncio.gather(
            *(
                start_one(start + i, case_id, h)
                for i, (case_id, h) in enumerate(households[start : start + MARK_EVERY])
            )
        )
        async with sessions() as session:
            await ledger_repo.mark_started(session, finished)
        finished.clear()
    async with sessions() as session:
        row = await ledger_repo.get_import(session, import_id)
        assert row is not None
        remaining = row.households - await ledger_repo.started_count(session, import_id)
    return LedgerCasesStarted(import_id=import_id, started=len(households), remaining=remaining)


async def finish(
    sessions: async_sessionmaker[AsyncSession], import_id: str
) -> LedgerImportFinished:
    async with sessions() as session:
        await ledger_repo.finish(session, import_id, datetime.now(UTC))
    return LedgerImportFinished(import_id=import_id, status=ImportStatus.DONE)
