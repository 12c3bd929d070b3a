"""Importing a county's ledger (台账导入), shared by the API and the CLI.

The whole file is checked before anything is written; a clean file is written in one
transaction (each household a case in the recipient phase), then the cases' workflows are
started at a limited rate so that the service keeps answering while thousands start. A file
imported before is recognised by its SHA-256: importing it again writes nothing and only
starts the workflows an interrupted import had not started yet.
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
from dibao.domain.calendar import china_date
from dibao.domain.enums import CaseStatus, Stage
from dibao.domain.ledger import (
    ImportedHousehold,
    LedgerError,
    application_of,
    case_id_for,
    check_ledger,
    file_sha256,
    recipient_state_of,
)
from dibao.ledger_files import read_ledger
from dibao.messages.case import Actor, CaseInput
from dibao.settings import Settings
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow

Progress = Callable[[int, int], None]  # (started, total)


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a file: its rows, households, and errors (none: clean)."""

    file_sha: str
    rows: list[dict[str, str]]
    households: tuple[ImportedHousehold, ...]
    errors: tuple[LedgerError, ...]
    already_imported: str | None = None  # the import ID when this file was imported before


class ImportRaced(Exception):
    """A household of the file got an open case while the file was written: check again."""


@dataclass(frozen=True)
class Imported:
    import_id: str
    households: int
    persons: int
    created: bool  # False: the file had been imported before; nothing was written


async def check_file(
    sessions: async_sessionmaker[AsyncSession],
    content: bytes,
    filename: str,
    county_code: str,
) -> Checked:
    sha = file_sha256(content)
    async with sessions() as session:
        prior = await ledger_repo.find_import(session, sha)
        if prior is not None:
            return Checked(sha, [], (), (), already_imported=prior.import_id)
    # Reading and checking a county's file is seconds of CPU: in a thread, so that the event
    # loop (the API's, when the import is uploaded there) keeps answering meanwhile.
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


async def write(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    checked: Checked,
    filename: str,
    county_code: str,
    actor: Actor,
) -> Imported:
    """Write a clean file's households (or find the import of the same file)."""
    assert not checked.errors
    async with sessions() as session:
        if checked.already_imported is not None:
            row = await ledger_repo.get_import(session, checked.already_imported)
            assert row is not None
            return Imported(row.import_id, row.households, row.persons, created=False)
        pack = await rulepacks_repo.pack_for_county(
            session, county_code, settings.default_rule_pack
        )
        try:
            import_id = await ledger_repo.write_import(
                session,
                file_sha=checked.file_sha,
                file_name=filename,
                county_code=county_code,
                households=checked.households,
                rule_pack_id=pack.id,
                rule_pack_version=pack.version,
                actor=actor,
                at=datetime.now(UTC),
            )
        except IntegrityError:
            # The same file imported at the same moment (it won: its import is returned), or
            # a household filed meanwhile (checked again, it is named as an error).
            await session.rollback()
            row = await ledger_repo.find_import(session, checked.file_sha)
            if row is None:
                raise ImportRaced() from None
            return Imported(row.import_id, row.households, row.persons, created=False)
    return Imported(
        import_id,
        len(checked.households),
        sum(len(h.members) for h in checked.households),
        created=True,
    )


async def start_workflows(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    import_id: str,
    households: tuple[ImportedHousehold, ...],
    file_sha: str,
    actor: Actor,
    *,
    rate: float | None = None,
    progress: Progress | None = None,
) -> int:
    """Start the workflow of every household of the import not started yet, at most `rate`
    per second (default: the settings' ledger_import_rate) and at most the settings'
    ledger_import_concurrency at once; returns how many were started now."""
    if rate is None:
        rate = settings.ledger_import_rate
    async with sessions() as session:
        pending = {p.case_id for p in await ledger_repo.unstarted(session, import_id)}
        pack = None
        if pending:
            import_row = await ledger_repo.get_import(session, import_id)
            assert import_row is not None
            pack = await rulepacks_repo.pack_for_county(
                session, import_row.county_code, settings.default_rule_pack
            )
    total = len(households)
    done = total - len(pending)
    if progress:
        progress(done, total)
    if not pending or pack is None:
        await _finish(sessions, import_id)
        return 0
    by_case = {case_id_for(file_sha, h.key): h for h in households}
    queue = [by_case[c] for c in by_case if c in pending]
    gate = asyncio.Semaphore(settings.ledger_import_concurrency)
    interval = 1.0 / rate if rate > 0 else 0.0
    started_at = time.monotonic()
    finished: list[str] = []
    filed_at = datetime.now(UTC)

    async def start_one(n: int, household: ImportedHousehold) -> None:
        nonlocal done
        # Paced by a schedule, not by sleeping after each start: a slow start is not added
        # to the gap before the next one.
        delay = started_at + n * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        async with gate:
            case_id = case_id_for(file_sha, household.key)
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
            done += 1
            if progress:
                progress(done, total)

    batch = 200
    for start in range(0, len(queue), batch):
        await asyncio.gather(
            *(start_one(start + i, h) for i, h in enumerate(queue[start : start + batch]))
        )
        async with sessions() as session:
            await ledger_repo.mark_started(session, finished)
        finished.clear()
    await _finish(sessions, import_id)
    return len(queue)


async def _finish(sessions: async_sessionmaker[AsyncSession], import_id: str) -> None:
    async with sessions() as session:
        await ledger_repo.finish(session, import_id, datetime.now(UTC))


async def households_of_import(
    sessions: async_sessionmaker[AsyncSession], content: bytes, filename: str, county_code: str
) -> tuple[ImportedHousehold, ...]:
    """The households of a file imported before (to resume starting its workflows): its rows
    are checked again without the open-case rule, which its own cases would now break."""
    parsed = await asyncio.to_thread(read_ledger, content, filename)
    checked = await asyncio.to_thread(
        check_ledger, parsed.rows, county_code, china_date(datetime.now(UTC))
    )
    return checked.households


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    content: bytes,
    filename: str,
    county_code: str,
    actor: Actor,
    *,
    rate: float | None = None,
    progress: Progress | None = None,
) -> Checked | Imported:
    """Check, write and start: the Checked outcome when the file has errors."""
    checked = await check_file(sessions, content, filename, county_code)
    if checked.errors:
        return checked
    imported = await write(sessions, settings, checked, filename, county_code, actor)
    households = checked.households or await households_of_import(
        sessions, content, filename, county_code
    )
    await start_workflows(
        sessions,
        client,
        settings,
        imported.import_id,
        households,
        checked.file_sha,
        actor,
        rate=rate,
        progress=progress,
    )
    return imported
