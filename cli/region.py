"""`dibao region load FILE.csv`: the names of counties, townships and villages (行政区划), so
pages and notices name places rather than quote their codes. Writes PostgreSQL directly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import IntegrityError

from cli.auth import operator
from dibao.db import regions_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.access import Action
from dibao.settings import get_settings

region_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


@region_app.callback()
def region() -> None:
    """Names of places (行政区划) from CSV."""


@region_app.command("load")
def load(
    path: Annotated[
        Path, typer.Argument(help="CSV, UTF-8: code,name per line (a header line is allowed)")
    ],
) -> None:
    """Add or rename places; a township or village needs its parent in the file or loaded."""
    try:
        regions = regions_repo.parse_csv(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, regions_repo.RegionCsvError) as err:
        typer.echo(f"error: {path}: {err}", err=True)
        raise typer.Exit(1) from None
    settings = get_settings()
    if not settings.database_url:
        typer.echo("error: DATABASE_URL is not set", err=True)
        raise typer.Exit(1)

    async def run() -> int:
        engine = make_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session:
                await operator(session, Action.LOAD_REGISTRY)
                return await regions_repo.load(session, regions)
        finally:
            await engine.dispose()

    try:
        count = asyncio.run(run())
    except IntegrityError:  # a missing parent: the foreign key refuses the whole file
        typer.echo(
            "error: a township or village whose parent is neither in the file nor loaded; "
            "nothing was loaded",
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo(f"loaded {count} places")
