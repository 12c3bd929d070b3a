"""A county going live, as the API routes and the console both use it: the ledger import (stored
at once; checked whole, written and its cases' workflows started by its workflow in the worker),
its progress and the past imports, and the bank's return (回盘) with the run's reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from api import errors
from api.deps import check_county
from dibao import ledger_import, papers
from dibao.db import bank_return_repo, payroll_repo
from dibao.domain.access import Action
from dibao.domain.bank_return import Reconciliation, ReturnRefused
from dibao.messages.case import Actor
from dibao.settings import Settings
from workflows.case import CaseWorkflow

Sessions = async_sessionmaker[AsyncSession]


async def begin_import(
    sessions: Sessions,
    client: Client,
    settings: Settings,
    content: bytes,
    filename: str,
    county: str,
    actor: Actor,
) -> ledger_import.Submitted:
    """Store the file under its import and start the import's workflow (check, write, start
    the cases) in the worker; answers at once. 409 when the same file is another county's."""
    check_county(actor, Action.IMPORT_LEDGER, county)
    try:
        return await ledger_import.submit(
            sessions, client, settings, content, filename, county, actor
        )
    except ledger_import.OtherCounty as other:
        raise errors.conflict(
            f"this file was uploaded for another county (ledger import {other}); nothing was "
            "imported"
        ) from None


async def import_progress(sessions: Sessions, import_id: str) -> ledger_import.ImportState:
    state = await ledger_import.state_of(sessions, import_id)
    if state is None:
        raise errors.not_found(f"ledger import {import_id}")
    return state


async def past_imports(
    sessions: Sessions,
    actor: Actor,
    county: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[ledger_import.ImportState]:
    """The county's imports, newest first, a page at a time by key."""
    check_county(actor, Action.IMPORT_LEDGER, county)
    return await ledger_import.past_imports(sessions, county, limit, after)


async def past_imports_in(
    session: AsyncSession,
    actor: Actor,
    county: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[ledger_import.ImportState]:
    """As past_imports, on the request's read session."""
    check_county(actor, Action.IMPORT_LEDGER, county)
    return await ledger_import.past_imports_in(session, county, limit, after)


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
