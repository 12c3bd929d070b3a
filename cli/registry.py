"""`dibao registry`: load departmental extracts and look at what they hold about a person.

These commands talk to PostgreSQL directly (DATABASE_URL), not to the API: loading extracts is
an office task done with the data files at hand, outside any one case.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.auth import operator
from dibao.db import registry_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.registry_repo import LoadResult
from dibao.domain.access import Action
from dibao.domain.application import validate_id_number
from dibao.domain.calendar import CHINA_TZ
from dibao.domain.money import format_amount
from dibao.domain.verification import DEPARTMENT_LABELS, Department, RegistryRecord
from dibao.registry_csv import parse_extract
from dibao.settings import Settings, get_settings

registry_app = typer.Typer(
    no_args_is_help=True,
    help="Departmental registry extracts for verification (家庭经济状况核对)",
    pretty_exceptions_show_locals=False,
)


def _settings() -> Settings:
    settings = get_settings()
    if not settings.database_url:
        typer.echo("error: DATABASE_URL is not set", err=True)
        raise typer.Exit(1)
    return settings


async def _load(
    settings: Settings,
    department: Department,
    records: tuple[RegistryRecord, ...],
    file_name: str,
    sha256: str,
    replace: bool,
) -> LoadResult:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            return await registry_repo.load_batch(
                session,
                department,
                records,
                file_name=file_name,
                sha256=sha256,
                loaded_by=await operator(session, Action.LOAD_REGISTRY),
                replace=replace,
            )
    finally:
        await engine.dispose()


async def _records_of(settings: Settings, id_number: str) -> list[RegistryRecord]:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            # A person's records across departments are sensitive: only for whoever verifies.
            await operator(session, Action.READ_REGISTRY)
            return await registry_repo.records_for_person(session, id_number)
    finally:
        await engine.dispose()


@registry_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    department: Annotated[
        Department, typer.Option("--department", "-d", help="the department the extract is from")
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="a full extract: delete the department's earlier records in the same transaction",
        ),
    ] = False,
) -> None:
    """Load a CSV extract (header: id_number,kind,amount_yuan,detail,as_of).

    Every row is checked first; if any row is wrong, all errors are printed and nothing is loaded.
    """
    settings = _settings()
    parsed = parse_extract(file.read_bytes(), department, today=datetime.now(CHINA_TZ).date())
    if parsed.errors:
        typer.echo(f"{file.name}: {len(parsed.errors)} error(s); nothing was loaded", err=True)
        for error in parsed.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(2)
    result = asyncio.run(
        _load(settings, department, parsed.records, file.name, parsed.sha256, replace)
    )
    label = f"{department.value} ({DEPARTMENT_LABELS[department]})"
    if result.already_loaded:
        typer.echo(
            f"{file.name} was already loaded into {label} as batch {result.batch_id} "
            f"({result.rows} rows, {result.loaded_at:%Y-%m-%d %H:%M}); nothing was changed"
        )
        return
    typer.echo(f"loaded {result.rows} rows from {file.name} into {label}, batch {result.batch_id}")
    if replace:
        typer.echo(f"replaced {result.replaced_records} earlier records of {department.value}")


@registry_app.command("show")
def show(id_number: str) -> None:
    """Every department's records of one person."""
    id_number = id_number.strip().upper()
    reason = validate_id_number(id_number)
    if reason:
        typer.echo(f"error: {id_number}: {reason}", err=True)
        raise typer.Exit(2)
    records = asyncio.run(_records_of(_settings(), id_number))
    if not records:
        typer.echo(f"no registry records for {id_number}")
        return
    typer.echo(f"{'DEPARTMENT':<24} {'KIND':<26} {'AMOUNT':>16} {'AS OF':<10}  DETAIL")
    for record in records:
        amount = format_amount(record.amount_fen) if record.amount_fen is not None else ""
        typer.echo(
            f"{record.department.value:<24} {record.kind.value:<26} {amount:>16} "
            f"{record.as_of:<10}  {record.detail}"
        )
    typer.echo(f"({len(records)} records)")
