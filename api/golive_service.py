"""A county going live, as the API routes and the console both use it: the ledger import (checked
whole, then written, then its cases' workflows started in the background at a limited rate),
its progress, and the bank's return (回盘) with the run's reconciliation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from api import errors
from api.deps import check_county
from dibao import ledger_import, papers
from dibao.db import bank_return_repo, ledger_repo, payroll_repo
from dibao.domain.access import Action
from dibao.domain.bank_return import Reconciliation, ReturnRefused
from dibao.messages.case import Actor
from dibao.settings import Settings
from workflows.case import CaseWorkflow

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class ImportProgress:
    import_id: str
    county_code: str
    file_name: str
    households: int
    persons: int
    started: int  # cases whose workflow runs; all of them once finished
    finished: bool


async def begin_import(
    sessions: Sessions,
    client: Client,
    settings: Settings,
    tasks: set[asyncio.Task[int]],
    content: bytes,
    filename: str,
    county: str,
    actor: Actor,
) -> ledger_import.Checked | ledger_import.Imported:
    """Check the whole file (its Checked outcome when it has errors: nothing written), write
    its households, and start their workflows in the background; `tasks` holds the task
    while it runs (an app-wide set, so it is not collected). 409 when a household of the file
    was filed while it was written."""
    check_county(actor, Action.IMPORT_LEDGER, county)
    checked = await ledger_import.check_file(sessions, content, filename, county)
    if checked.errors:
        return checked
    try:
        imported = await ledger_import.write(sessions, settings, checked, filename, county, actor)
    except ledger_import.ImportRaced:
        raise errors.conflict(
            "a household of this file was filed while it was imported; nothing was imported, "
            "upload it again to see which"
        ) from None
    households = checked.households or await ledger_import.households_of_import(
        sessions, content, filename, county
    )
    task = asyncio.create_task(
        ledger_import.start_workflows(
            sessions, client, settings, imported.import_id, households, checked.file_sha, actor
        )
    )
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return imported


def app_tasks(state: Any) -> set[asyncio.Task[int]]:
    """The app's set of running import tasks (on `app.state`)."""
    tasks: set[asyncio.Task[int]] = state.__dict__.setdefault("golive_tasks", set())
    return tasks


async def import_progress(sessions: Sessions, import_id: str) -> ImportProgress:
    async with sessions() as session:
        row = await ledger_repo.get_import(session, import_id)
        if row is None:
            raise errors.not_found(f"ledger import {import_id}")
        started = await ledger_repo.started_count(session, import_id)
    return ImportProgress(
        import_id=row.import_id,
        county_code=row.county_code,
        file_name=row.file_name,
        households=row.households,
        persons=row.persons,
        started=started,
        finished=row.finished_at is not None,
    )


async def run_county(sessions: Sessions, run_id: str) -> str:
    async with sessions() as session:
        run = await payroll_repo.get_run(session, run_id)
    if run is None:
        raise errors.not_found(f"payroll run {run_id}")
    return run.county_code


async def load_bank_return(
    sessions: Sessions, actor: Actor, run_id: str, raw: bytes
) -> Reconciliation:
    """The bank's answer to a released run; 422 (`file: reason`) for a file that does not
    answer it. The same file again changes nothing."""
    check_county(actor, Action.LOAD_BANK_RETURN, await run_county(sessions, run_id))
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.unprocessable_message("file: must be UTF-8 CSV") from None
    async with sessions() as session:
        try:
            return await bank_return_repo.load_return(
                session, run_id, content, actor.id, datetime.now(UTC)
            )
        except ReturnRefused as refused:
            raise errors.unprocessable_message(f"file: {refused}") from None


async def reconciliation(
    sessions: Sessions, actor: Actor, run_id: str
) -> tuple[Reconciliation, bool]:
    """The run against the bank's answer, and whether the answer was loaded."""
    check_county(actor, Action.READ_PAYROLL, await run_county(sessions, run_id))
    async with sessions() as session:
        rec = await bank_return_repo.reconciliation(session, run_id)
        loaded = await bank_return_repo.has_return(session, run_id)
    return rec, loaded


# --- papers: 低保证, 低保证明, the household's file ---------------------------------------------


async def papers_household(sessions: Sessions, case_id: str) -> papers.Household:
    """What the papers print of a household; 409 when it was neither approved nor imported."""
    async with sessions() as session:
        try:
            return await papers.household(session, case_id)
        except papers.NoEntitlement:
            raise errors.conflict(
                f"case {case_id} has no entitlement: it was neither approved nor imported"
            ) from None


async def household_file_html(
    sessions: Sessions, client: Client, settings: Settings, case_id: str
) -> str:
    """The household's whole file as one printable page; without the workflow's record (when
    Temporal cannot answer) the page says so rather than failing."""
    view, reason = None, ""
    try:
        view = await client.get_workflow_handle(case_id).query(
            CaseWorkflow.state, rpc_timeout=timedelta(seconds=5)
        )
    except RPCError:
        reason = "案件流程记录暂不可读"
    except RuntimeError as err:
        if errors.dependency_down(err) is None:
            raise
        reason = "案件流程记录暂不可读"
    async with sessions() as session:
        return await papers.household_file_html(
            session, settings.templates_dir, case_id, view, datetime.now(UTC), reason
        )
