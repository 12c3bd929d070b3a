"""`dibao payroll`: build, read, check and release a county's payroll (花名册 and bank file).

Like the case commands these talk to the HTTP API, so a release obeys the same maker/checker
rule as any client. `schedule` is an operator task and talks to Temporal directly, as
`dibao temporal setup` does.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.http import call, fail
from dibao.domain.payroll import Cadence, validate_county, validate_period, verify_bank_file

payroll_app = typer.Typer(
    no_args_is_help=True,
    help="Payroll: the 花名册 and bank file of a county and period, and their release",
    pretty_exceptions_show_locals=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON answer")]


def show_run(run: dict[str, Any]) -> None:
    typer.echo(f"run        {run['run_id']}")
    typer.echo(f"county     {run['county_code']}   period {run['period']}")
    detail = run.get("status_detail")
    typer.echo(
        f"status     {detail if run.get('status') == 'building' and detail else run['status']}"
    )
    if run.get("status") == "building":
        typer.echo("note       the roster is still being built; `dibao payroll show` it later")
        return
    typer.echo(f"maker      {run['maker']}   (built {run['built_at']})")
    if run.get("checker"):
        typer.echo(f"checker    {run['checker']}   (released {run['released_at']})")
    typer.echo(f"households {run['households']}")
    typer.echo(f"total      {run['total']} 元")
    typer.echo(f"sha256     {run['bank_file_sha256']}")
    typer.echo(f"bank file  dibao payroll bank-file {run['run_id']} -o {run['run_id']}.csv")
    typer.echo(f"roster     dibao payroll roster {run['run_id']} -o {run['run_id']}.html")


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        show_run(data)


@payroll_app.command("run")
def payroll_run(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    period: Annotated[str, typer.Option(help="a month (2026-11) or a quarter (2026-Q4)")],
    as_json: JsonOpt = False,
) -> None:
    """Build the county's payroll for the period (or show it, if it exists)."""
    problem = validate_county(county) or validate_period(period)
    if problem:
        fail(problem)
    _print(call("POST", "/payroll/runs", body={"county_code": county, "period": period}), as_json)


@payroll_app.command("list")
def payroll_list(
    county: Annotated[str | None, typer.Option(help="6-digit county code")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Payroll runs, newest first."""
    page = call("GET", "/payroll/runs", county=county)
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'RUN':<22} {'STATUS':<9} {'HOUSEHOLDS':>10} {'TOTAL (元)':>14}  MAKER / CHECKER")
    for run in page["items"]:
        typer.echo(
            f"{run['run_id']:<22} {run['status']:<9} {run['households']:>10} "
            f"{run['total']:>14}  {run['maker']} / {run['checker'] or '-'}"
        )


@payroll_app.command("show")
def payroll_show(run_id: str, as_json: JsonOpt = False) -> None:
    """One run."""
    _print(call("GET", f"/payroll/runs/{run_id}"), as_json)


@payroll_app.command("bank-file")
def payroll_bank_file(
    run_id: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file", dir_okay=False)
    ] = None,
) -> None:
    """The bank file (CSV); its last row is the SHA-256 of the rows before it."""
    content: str = call("GET", f"/payroll/runs/{run_id}/bank-file")
    if not verify_bank_file(content):
        fail("the bank file's SHA256 row does not match its content; do not send it")
    if output is None:
        typer.echo(content, nl=False)
        return
    output.write_bytes(content.encode("utf-8"))
    checksum = content.rstrip("\n").rsplit(",", 1)[-1]
    typer.echo(f"wrote {output} ({len(content.encode('utf-8'))} bytes, sha256 {checksum})")


@payroll_app.command("roster")
def payroll_roster(
    run_id: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file", dir_okay=False)
    ] = None,
) -> None:
    """The roster (花名册, HTML) to print and sign."""
    page: str = call("GET", f"/payroll/runs/{run_id}/roster")
    if output is None:
        typer.echo(page, nl=False)
        return
    output.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {output}: open it in a browser to print")


@payroll_app.command("release")
def payroll_release(
    run_id: str,
    key: Annotated[
        str | None, typer.Option("--request-id", help="repeat with the same ID: no 2nd effect")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check and release a run (审核): the signed-in user may not be the run's maker."""
    _print(call("POST", f"/payroll/runs/{run_id}/release", key=key), as_json)


@payroll_app.command("discard")
def payroll_discard(
    run_id: str,
    reason: Annotated[str, typer.Option(help="why the draft is set aside (recorded)")],
    key: Annotated[
        str | None, typer.Option("--request-id", help="repeat with the same ID: no 2nd effect")
    ] = None,
) -> None:
    """Discard a draft before release (作废); then build the period again."""
    out = call("POST", f"/payroll/runs/{run_id}/discard", body={"reason": reason}, key=key)
    for record in out["discards"]:
        typer.echo(
            f"discarded  {out['run_id']}  built {str(record['built_at'])[:19]} by "
            f"{record['maker']}, {record['households']} households, {record['total']} 元; "
            f"by {record['discarded_by']}: {record['reason']}"
        )


@payroll_app.command("schedule")
def payroll_schedule(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    cadence: Annotated[Cadence, typer.Option(help="monthly, or quarterly (rural)")],
) -> None:
    """Build the county's payroll automatically on the 1st of each month (or quarter)."""
    problem = validate_county(county)
    if problem:
        fail(problem)
    from cli.auth import operator
    from cli.db import with_session
    from cli.payroll_schedule import CRON, TIME_ZONE, ensure_schedule
    from dibao.domain.access import Action
    from dibao.settings import get_settings
    from dibao.temporal_client import connect

    # The schedule starts the county's payroll every period: whoever writes it must be allowed
    # to build that payroll, as `dibao payroll build` is through the API.
    async def check(session: Any) -> str:
        return await operator(session, Action.BUILD_PAYROLL, county=county)

    with_session(check)
    settings = get_settings()

    async def run() -> str:
        client = await connect(settings)
        return await ensure_schedule(client, settings, county, cadence.value)

    schedule_id = asyncio.run(run())
    typer.echo(
        f"schedule   {schedule_id}: {cadence.value}, cron '{CRON[cadence]}' ({TIME_ZONE}), "
        f"task queue {settings.task_queue}"
    )
