"""`dibao ledger`: a county going live — its ledger's template, check and import (台账导入).

These commands talk to PostgreSQL and Temporal directly (DATABASE_URL, TEMPORAL_ADDRESS), as
`dibao registry` does: an import of tens of thousands of households is an office task done
with the file at hand. `import` stores the file under its import as the API's upload does; the
import's workflow checks, writes and starts it in the worker, and the command follows its
status with a progress bar until it is done (or shows its errors).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.auth import operator
from dibao import ledger_import
from dibao.db import bank_return_repo, monthly_repo, payroll_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.access import Action
from dibao.domain.bank_return import Reconciliation, ReturnRefused
from dibao.domain.enums import Role
from dibao.domain.ledger import ImportStatus, LedgerError
from dibao.domain.money import format_yuan
from dibao.domain.monthly import MonthlyReport
from dibao.ledger_files import marked_copy, read_ledger, template_xlsx
from dibao.messages.case import Actor
from dibao.monthly_files import monthly_xlsx
from dibao.settings import Settings, get_settings
from dibao.temporal_client import connect

ledger_app = typer.Typer(
    no_args_is_help=True,
    help="A county's ledger of current recipients (台账): template, check, import",
    pretty_exceptions_show_locals=False,
)

County = Annotated[str, typer.Option("--county", help="the county's 6-digit code")]
LedgerFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _settings() -> Settings:
    settings = get_settings()
    if not settings.database_url:
        typer.echo("error: DATABASE_URL is not set", err=True)
        raise typer.Exit(1)
    return settings


@ledger_app.command("template")
def template(out: Annotated[Path, typer.Argument(dir_okay=False)]) -> None:
    """Write the ledger template (xlsx, Chinese headers, one example household)."""
    out.write_bytes(template_xlsx())
    typer.echo(f"wrote {out}")


def _report(checked: ledger_import.Checked, marked: Path | None) -> None:
    _report_errors(checked.errors, checked.rows, marked)


def _report_errors(
    errors: tuple[LedgerError, ...], rows: list[dict[str, str]], marked: Path | None
) -> None:
    for error in errors:
        column = f" 列「{error.column}」" if error.column else ""
        typer.echo(f"第{error.row}行{column}：{error.message}", err=True)
    if marked is not None:
        marked.write_bytes(marked_copy(rows, errors))
        typer.echo(f"the file with its bad cells marked: {marked}", err=True)
    typer.echo(f"{len(errors)} errors: nothing imported", err=True)


async def _check(settings: Settings, file: Path, county: str) -> ledger_import.Checked:
    engine = make_engine(settings)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            await operator(session, Action.IMPORT_LEDGER, county)
        return await ledger_import.check_file(sessions, file.read_bytes(), file.name, county)
    finally:
        await engine.dispose()


@ledger_app.command("check")
def check(
    file: LedgerFile,
    county: County,
    marked: Annotated[
        Path | None, typer.Option("--marked", help="write the file with bad cells marked here")
    ] = None,
) -> None:
    """Check a ledger (xlsx or CSV) without importing it."""
    checked = asyncio.run(_check(_settings(), file, county))
    if checked.errors:
        _report(checked, marked)
        raise typer.Exit(1)
    if checked.already_imported:
        typer.echo(f"this file was imported already ({checked.already_imported})")
        return
    persons = sum(len(h.members) for h in checked.households)
    typer.echo(f"clean: {len(checked.households)} households, {persons} persons")


POLL_SECONDS = 0.5


async def _import(
    settings: Settings, file: Path, county: str, rate: float | None, marked: Path | None
) -> None:
    engine = make_engine(settings)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            user_id = await operator(session, Action.IMPORT_LEDGER, county)
        actor = Actor(user_id, Role.COUNTY_APPROVER, county)
        content = file.read_bytes()
        client = await connect(settings)
        try:
            submitted = await ledger_import.submit(
                sessions, client, settings, content, file.name, county, actor, rate=rate
            )
        except ledger_import.OtherCounty as other:
            typer.echo(f"error: this file was uploaded for another county ({other})", err=True)
            raise typer.Exit(1) from None
        if not submitted.created and submitted.status is ImportStatus.DONE:
            typer.echo(f"this file was imported already ({submitted.import_id}): nothing written")
        state = await _follow(sessions, submitted.import_id)
        if state.status is ImportStatus.ERRORS:
            errors = await ledger_import.errors_of(sessions, state.import_id)
            _report_errors(errors, read_ledger(content, file.name).rows, marked)
            raise typer.Exit(1)
        typer.echo(
            f"{state.import_id}: {state.households} households, {state.persons} "
            "persons in the recipient phase"
        )
    finally:
        await engine.dispose()


async def _follow(
    sessions: async_sessionmaker[AsyncSession], import_id: str
) -> ledger_import.ImportState:
    """Poll the import's status until it is finished, with a progress bar of its cases."""
    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("checking the file", total=None)
        while True:
            state = await ledger_import.state_of(sessions, import_id)
            assert state is not None
            if state.status is not ImportStatus.CHECKING:
                bar.update(
                    task,
                    description="starting cases",
                    completed=state.started,
                    total=state.households,
                )
            if state.status.finished:
                return state
            await asyncio.sleep(POLL_SECONDS)


@ledger_app.command("import")
def import_(
    file: LedgerFile,
    county: County,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help="workflow starts per second (default: DIBAO_LEDGER_IMPORT_RATE, 25)",
            min=0.1,
            max=1000,
        ),
    ] = None,
    marked: Annotated[
        Path | None, typer.Option("--marked", help="on errors, write the marked file here")
    ] = None,
) -> None:
    """Import a ledger: checked whole first (nothing is written while it has errors), then
    each household a case in the recipient phase, by the import's workflow in the worker
    (this command follows it). Run again to resume an import whose workflow stopped; the same
    file imported twice changes nothing."""
    asyncio.run(_import(_settings(), file, county, rate, marked))


async def _monthly(settings: Settings, county: str, month: str) -> MonthlyReport:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            await operator(session, Action.READ_STATISTICS, county)
            return await monthly_repo.report(session, county, month)
    finally:
        await engine.dispose()


@ledger_app.command("monthly")
def monthly(
    county: County,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="also write the workbook here")
    ] = None,
) -> None:
    """The county's monthly statistics (月报), per township."""
    report = asyncio.run(_monthly(_settings(), county, month))
    if not report.run_released:
        typer.echo(f"note: {report.run_id} is not released; nothing counts as paid", err=True)
    typer.echo("乡镇\t户数\t人数\t金额\t人均\t新增\t停保\t增发\t减发")
    for section in (*report.townships, report.county):
        typer.echo(
            f"{section.township_code or '全县'}\t{section.households}\t{section.persons}\t"
            f"{format_yuan(section.amount_fen)}\t{format_yuan(section.average_per_person_fen)}\t"
            f"{section.new_households}\t{section.exited}\t{section.increases}\t"
            f"{section.reductions}"
        )
    if xlsx is not None:
        xlsx.write_bytes(monthly_xlsx(report))
        typer.echo(f"wrote {xlsx}")


async def _bank_return(settings: Settings, run_id: str, content: str) -> Reconciliation:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            run = await payroll_repo.get_run(session, run_id)
            if run is None:
                typer.echo(f"error: payroll run {run_id} does not exist", err=True)
                raise typer.Exit(1)
            user_id = await operator(session, Action.LOAD_BANK_RETURN, run.county_code)
            return await bank_return_repo.load_return(
                session, run_id, content, user_id, datetime.now(UTC)
            )
    finally:
        await engine.dispose()


@ledger_app.command("bank-return")
def bank_return(
    run_id: Annotated[str, typer.Argument(help="e.g. PR-610423-2026-12")],
    file: LedgerFile,
) -> None:
    """Load the bank's result file (回盘) of a released run and print its reconciliation."""
    try:
        rec = asyncio.run(_bank_return(_settings(), run_id, file.read_text(encoding="utf-8-sig")))
    except ReturnRefused as refused:
        typer.echo(f"refused: {refused}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{rec.run_id}: released {format_yuan(rec.released_fen)} = paid "
        f"{format_yuan(rec.paid_fen)} + returned {format_yuan(rec.returned_fen)}"
        f"{'' if rec.balanced else '  (DOES NOT BALANCE)'}"
    )
    for row in rec.returned:
        typer.echo(f"  退票 {row.case_id} {format_yuan(row.amount_fen)} {row.reason}")
