"""`dibao stuck` for supervisors and `dibao ops` for operations.

Listing, describing, retrying and skipping go through the API like every case action, so they
are authorised and audited the same way. Failure drills are written straight to PostgreSQL,
by the signed-in operator (the role table's `operate`): they are a rehearsal tool on a
development or staging system.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.db import with_session
from cli.http import call, fail

ops_app = typer.Typer(
    no_args_is_help=True,
    help="Operations: failing steps, incidents, retry, skip or close, failure drills",
    pretty_exceptions_show_locals=False,
)
drill_app = typer.Typer(
    no_args_is_help=True,
    help="Failure drills: make an activity fail on purpose to rehearse the incident runbook",
)
ops_app.add_typer(drill_app, name="drill")

AsJson = Annotated[bool, typer.Option("--json", help="print the API's JSON")]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def stuck(
    county: Annotated[str | None, typer.Option(help="6-digit county code")] = None,
    township: Annotated[str | None, typer.Option(help="9-digit township code")] = None,
    village: Annotated[str | None, typer.Option(help="12-digit village code")] = None,
    stage: Annotated[str | None, typer.Option(help="e.g. township_review")] = None,
    assignee: Annotated[
        str | None, typer.Option(help="role whose move it is, e.g. township_caseworker")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="overdue, failing, incident or idle")] = None,
    idle_days: Annotated[int, typer.Option(help="idle: no step for more than N days")] = 10,
    limit: Annotated[int, typer.Option(help="rows to show")] = 100,
    as_json: AsJson = False,
) -> None:
    """Stuck cases: past the stage deadline, a step failing, or idle; with counts per township."""
    data = call(
        "GET",
        "/supervision/stuck",
        county=county,
        township=township,
        village=village,
        stage=stage,
        assignee=assignee,
        reason=reason,
        idle_days=idle_days,
        limit=limit,
    )
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"{data['total']} stuck case(s) as of {data['as_of'][:19]}Z")
    for row in data["items"]:
        reasons = ",".join(row["reasons"])
        typer.echo(
            f"{row['case_id']}  {row['township_code']}  {row['stage']:<24} {reasons:<16} "
            f"since {row['since'][:10]}  {row['waiting_for']}"
        )
    if data["by_township"]:
        typer.echo("per township:")
        for count in data["by_township"]:
            typer.echo(f"  {count['township_code']}  {count['cases']}")


def alerts(
    county: Annotated[str | None, typer.Option(help="6-digit county code")] = None,
    township: Annotated[str | None, typer.Option(help="9-digit township code")] = None,
    limit: Annotated[int, typer.Option(help="rows to show")] = 100,
    as_json: AsJson = False,
) -> None:
    """Alerts to supervisors (stage deadlines passed), newest first."""
    rows = call("GET", "/supervision/alerts", county=county, township=township, limit=limit)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        typer.echo("no alerts")
    for row in rows:
        typer.echo(
            f"{row['raised_at'][:19]}  {row['case_id']}  {row['township_code']}  "
            f"{row['kind']}  {row['stage']}  {row['message']}"
        )


@ops_app.command("incidents")
def incidents(
    case_id: Annotated[str | None, typer.Option("--case", help="only this case")] = None,
    county: Annotated[str | None, typer.Option(help="6-digit county code")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="incident, retrying, retried, skipped, closed, recovered (default: open)"
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Steps that gave up (incident) or keep failing (retrying)."""
    data = call("GET", "/ops/incidents", case_id=case_id, county=county, status=status)
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"{data['total']} step(s)")
    for row in data["items"]:
        typer.echo(
            f"{row['status']:<9} {row['case_id'] or row['workflow_id']}  "
            f"{row['activity_type']}  attempts {row['attempts']}  "
            f"since {row['first_failed_at'][:19]}  last {row['last_failed_at'][:19]}"
        )
        if row["incident_id"]:
            typer.echo(f"          incident {row['incident_id']}  step {row['step']}")
        typer.echo(f"          {row['last_error'][:300]}")
        if row.get("options"):
            typer.echo(f"          options: {', '.join(row['options'])}")


@ops_app.command("describe")
def describe(case_id: str, as_json: AsJson = False) -> None:
    """Pending activities of a case (attempts, last failure, next retry) and its incidents."""
    data = call("GET", f"/ops/cases/{case_id}/describe")
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"case {data['case_id']}  {data['workflow_status']}  run {data['run_id']}")
    typer.echo(f"history events {data['history_length']}")
    if not data["pending_activities"]:
        typer.echo("no pending activities")
    for p in data["pending_activities"]:
        limit = p["maximum_attempts"] or "∞"
        typer.echo(
            f"pending  {p['activity_type']} (id {p['activity_id']})  {p['state']}  "
            f"attempt {p['attempt']}/{limit}  next retry {p['next_attempt_at'] or '-'}"
        )
        if p["last_failure"]:
            typer.echo(f"         last failure: {p['last_failure'][:300]}")
    for row in data["incidents"]:
        typer.echo(
            f"step     {row['activity_type']}  {row['status']}  attempts {row['attempts']}  "
            f"incident {row['incident_id'] or '-'}"
        )
        if row.get("options"):
            typer.echo(f"         options: {', '.join(row['options'])}")


@ops_app.command("retry")
def retry(
    case_id: str,
    incident_id: str,
    reason: Annotated[str, typer.Option(help="why it is retried (recorded in the audit log)")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="corrected input field, FIELD=VALUE (JSON value or text); FIELD as the "
            "incident's options list it, e.g. payee.bank or step_key",
        ),
    ] = None,
) -> None:
    """Run a failed step again, optionally with corrected input fields."""
    corrections: dict[str, Any] = {}
    for item in set_ or []:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            fail(f"--set {item}: expected FIELD=VALUE")
        try:
            corrections[name] = json.loads(raw)
        except json.JSONDecodeError:
            corrections[name] = raw
    body: dict[str, Any] = {"incident_id": incident_id, "reason": reason}
    if corrections:
        body["corrections"] = corrections
    case = call("POST", f"/cases/{case_id}/retry-step", body=body)
    typer.echo(f"retried; case {case['case_id']} at {case['stage']} ({case['status']})")


@ops_app.command("skip")
def skip(
    case_id: str,
    incident_id: str,
    reason: Annotated[str, typer.Option(help="why the case can go on without this step")],
) -> None:
    """Go on without a failed step the case can do without (a notice, the projection)."""
    case = call(
        "POST",
        f"/cases/{case_id}/skip-step",
        body={"incident_id": incident_id, "reason": reason},
    )
    typer.echo(f"skipped; case {case['case_id']} at {case['stage']} ({case['status']})")


@ops_app.command("close")
def close(
    case_id: str,
    incident_id: str,
    reason: Annotated[
        str, typer.Option(help="why the case is closed (in the household's notice and the audit)")
    ],
) -> None:
    """Close the case at a failed step that can neither be corrected nor skipped; the household
    gets a termination notice with the reason."""
    case = call(
        "POST",
        f"/cases/{case_id}/close-case",
        body={"incident_id": incident_id, "reason": reason},
    )
    typer.echo(f"closed; case {case['case_id']} at {case['stage']} ({case['status']})")


@drill_app.command("start")
def drill_start(
    activity_type: Annotated[str, typer.Argument(help="e.g. issue_notice, verify_household")],
    case_id: Annotated[str | None, typer.Option("--case", help="only this case")] = None,
    retryable: Annotated[
        bool,
        typer.Option(
            "--retryable/--give-up",
            help="retryable: keeps failing while Temporal retries (a 'failing' step); "
            "give-up (default): fails for good at once (an incident)",
        ),
    ] = False,
    message: Annotated[str, typer.Option(help="error message to fail with")] = "rehearsal",
) -> None:
    """Make an activity fail on purpose (takes effect within seconds)."""
    from cli.auth import operator
    from dibao.db import ops_repo
    from dibao.db.ops_models import OpsDrillRow
    from dibao.domain.access import Action

    async def work(session: Any) -> None:
        # A drill makes real cases fail: the operator is signed in, and recorded as its starter.
        by = await operator(session, Action.OPERATE)
        await ops_repo.start_drill(
            session,
            OpsDrillRow(
                activity_type=activity_type,
                case_id=case_id,
                retryable=retryable,
                message=message,
                started_by=by,
            ),
        )

    with_session(work)
    scope = f"case {case_id}" if case_id else "every case"
    typer.echo(f"drill started: {activity_type} fails for {scope}")


@drill_app.command("stop")
def drill_stop(
    activity_type: Annotated[str | None, typer.Argument(help="default: every drill")] = None,
) -> None:
    """Stop failure drills."""
    from cli.auth import operator
    from dibao.db import ops_repo
    from dibao.domain.access import Action

    async def work(session: Any) -> int:
        await operator(session, Action.OPERATE)
        return await ops_repo.stop_drills(session, activity_type)

    stopped = with_session(work)
    typer.echo(f"stopped {stopped} drill(s)")


@drill_app.command("list")
def drill_list() -> None:
    """Drills in force."""
    from cli.auth import operator
    from dibao.db import ops_repo
    from dibao.domain.access import Action

    async def work(session: Any) -> list[Any]:
        await operator(session, Action.OPERATE)
        return await ops_repo.list_drills(session)

    for d in with_session(work):
        mode = "retryable" if d.retryable else "give-up"
        typer.echo(f"{d.activity_type}  {d.case_id or 'all cases'}  {mode}  {d.message}")
