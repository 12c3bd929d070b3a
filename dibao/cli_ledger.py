"""`dibao ledger`: a county going live — its ledger's template, check and import (台账导入).

These commands talk to PostgreSQL and Temporal directly (DATABASE_URL, TEMPORAL_ADDRESS), as
`dibao registry` does: an import of tens of thousands of households is an office task done
with the file at hand, and its progress is shown as it starts the cases' workflows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from dibao import ledger_import
from dibao.cli_auth import operator
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.access import Action
from dibao.domain.case import Actor
from dibao.domain.enums import Role
from dibao.ledger_files import marked_copy, template_xlsx
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
    for error in checked.errors:
        column = f" 列「{error.column}」" if error.column else ""
        typer.echo(f"第{error.row}行{column}：{error.message}", err=True)
    if marked is not None:
        marked.write_bytes(marked_copy(checked.rows, checked.errors))
        typer.echo(f"the file with its bad cells marked: {marked}", err=True)
    typer.echo(f"{len(checked.errors)} errors: nothing imported", err=True)


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


async def _import(
    settings: Settings, file: Path, county: str, rate: float, marked: Path | None
) -> None:
    engine = make_engine(settings)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            user_id = await operator(session, Action.IMPORT_LEDGER, county)
        actor = Actor(user_id, Role.COUNTY_APPROVER, county)
        content = file.read_bytes()
        checked = await ledger_import.check_file(sessions, content, file.name, county)
        if checked.errors:
            _report(checked, marked)
            raise typer.Exit(1)
        imported = await ledger_import.write(sessions, settings, checked, file.name, county, actor)
        households = checked.households or await ledger_import.households_of_import(
            sessions, content, file.name, county
        )
        if not imported.created:
            typer.echo(f"this file was imported already ({imported.import_id}): nothing written")
        client = await connect(settings)
        console = Console(stderr=True)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("starting cases", total=len(households))
            await ledger_import.start_workflows(
                sessions,
                client,
                settings,
                imported.import_id,
                households,
                checked.file_sha,
                actor,
                rate=rate,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        typer.echo(
            f"{imported.import_id}: {imported.households} households, {imported.persons} "
            "persons in the recipient phase"
        )
    finally:
        await engine.dispose()


@ledger_app.command("import")
def import_(
    file: LedgerFile,
    county: County,
    rate: Annotated[
        float, typer.Option("--rate", help="workflow starts per second", min=0.1, max=500)
    ] = ledger_import.DEFAULT_RATE,
    marked: Annotated[
        Path | None, typer.Option("--marked", help="on errors, write the marked file here")
    ] = None,
) -> None:
    """Import a ledger: checked whole first (nothing is written while it has errors), then
    each household a case in the recipient phase. Run again to resume an interrupted import;
    the same file imported twice changes nothing."""
    asyncio.run(_import(_settings(), file, county, rate, marked))
