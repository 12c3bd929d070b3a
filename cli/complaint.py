"""`dibao complaint`: complaints and reports (举报、投诉、信访; mca-2021 Arts. 36–37) through the
API, which decides who sees the complainant (township and county staff only)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.http import call

complaint_app = typer.Typer(
    no_args_is_help=True, help="Complaints and reports: record, assign, investigate, answer"
)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON answer")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--request-id", "--idempotency-key", help="repeat with the same ID: no 2nd effect"
    ),
]


def show(complaint: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(complaint, ensure_ascii=False, indent=2))
        return
    c = complaint
    typer.echo(f"complaint  {c['complaint_id']}  ({c['status']} {c['status_zh']})")
    typer.echo(f"kind       {c['kind']}  {c['channel']}  via {c['source']}")
    if c.get("case_id"):
        typer.echo(f"case       {c['case_id']}")
    place = c.get("village_code") or c.get("township_code") or c["county_code"]
    typer.echo(f"place      {place}")
    typer.echo(f"summary    {c['summary']}")
    if c.get("complainant_name"):
        typer.echo(f"from       {c['complainant_name']}  {c.get('complainant_contact') or ''}")
    elif c.get("complainant_hidden"):
        typer.echo("from       (real name, withheld from your role)")
    overdue = "  OVERDUE" if c.get("overdue") else ""
    typer.echo(f"due        {c['due_at']}{overdue}")
    if c.get("due_warning"):
        typer.echo(f"warning    {c['due_warning']}")
    if c.get("assigned_level"):
        typer.echo(f"assigned   {c['assigned_level']}")
    if c.get("finding"):
        typer.echo(f"finding    {c['finding']}  follow-up {c.get('follow_up') or 'none'}")
        typer.echo(f"checked    {c.get('investigation') or ''}")
    if c.get("follow_up_result"):
        typer.echo(f"case       {c['follow_up_result']}")
    if c.get("answer_sha256"):
        typer.echo(f"answered   {c['answered_at']}  sha256 {c['answer_sha256']}")
        if c.get("answer_url"):
            typer.echo(f"document   {c['answer_url']}")


@complaint_app.command("add")
def add(
    summary: Annotated[str, typer.Option(help="what the complaint says")],
    kind: Annotated[str, typer.Option(help="case | recipient | general")] = "general",
    case_id: Annotated[str | None, typer.Option("--case", help="the case it is about")] = None,
    county: Annotated[str | None, typer.Option(help="general: the county code")] = None,
    township: Annotated[str | None, typer.Option(help="general: the township code")] = None,
    village: Annotated[str | None, typer.Option(help="general: the village code")] = None,
    anonymous: Annotated[bool, typer.Option(help="an anonymous report (匿名)")] = False,
    source: Annotated[str, typer.Option(help="hotline | letter | visit | online")] = "hotline",
    name: Annotated[str | None, typer.Option(help="real name: the reporter (kept private)")] = None,
    contact: Annotated[str | None, typer.Option(help="real name: how to answer (private)")] = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a complaint or report (Art. 36)."""
    body = {
        "kind": kind,
        "case_id": case_id,
        "county_code": county,
        "township_code": township,
        "village_code": village,
        "channel": "anonymous" if anonymous else "real_name",
        "source": source,
        "summary": summary,
        "complainant_name": name,
        "complainant_contact": contact,
    }
    show(
        call("POST", "/complaints", body={k: v for k, v in body.items() if v is not None}, key=key),
        as_json,
    )


@complaint_app.command("assign")
def assign(
    complaint_id: str,
    level: Annotated[str, typer.Option(help="township | county")],
    township: Annotated[str | None, typer.Option(help="the township, when not known yet")] = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign to the township or the county for investigation."""
    body: dict[str, Any] = {"level": level}
    if township:
        body["township_code"] = township
    show(call("POST", f"/complaints/{complaint_id}/assign", body=body, key=key), as_json)


@complaint_app.command("investigate")
def investigate(
    complaint_id: str,
    summary: Annotated[str, typer.Option(help="what the check found")],
    founded: Annotated[bool, typer.Option("--founded/--unfounded")] = False,
    follow_up: Annotated[
        str, typer.Option(help="none | review (recipient) | stop (application)")
    ] = "none",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the investigation (Art. 37 逐一核查); a founded one may re-review or stop."""
    body = {
        "finding": "founded" if founded else "unfounded",
        "summary": summary,
        "follow_up": follow_up,
    }
    show(call("POST", f"/complaints/{complaint_id}/investigation", body=body, key=key), as_json)


@complaint_app.command("answer")
def answer(
    complaint_id: str,
    text: Annotated[str, typer.Option(help="the written answer's body")],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer in writing (Art. 37: the real-name reporter is told the result)."""
    show(call("POST", f"/complaints/{complaint_id}/answer", body={"text": text}, key=key), as_json)


@complaint_app.command("close")
def close(
    complaint_id: str,
    note: Annotated[str, typer.Option(help="why it is closed")] = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close (办结): a real-name report only once answered."""
    show(call("POST", f"/complaints/{complaint_id}/close", body={"note": note}, key=key), as_json)


@complaint_app.command("show")
def show_one(complaint_id: str, as_json: JsonOpt = False) -> None:
    """One complaint, as your role may see it."""
    show(call("GET", f"/complaints/{complaint_id}"), as_json)


@complaint_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="received, assigned, …")] = None,
    overdue: Annotated[bool, typer.Option(help="only open ones past their due day")] = False,
    case_id: Annotated[str | None, typer.Option("--case")] = None,
    after: Annotated[str | None, typer.Option(help="the `next` of the previous page")] = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """Complaints in your jurisdiction, newest first."""
    page = call(
        "GET",
        "/complaints",
        status=status,
        overdue="true" if overdue else None,
        case_id=case_id,
        after=after,
        limit=limit,
    )
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'COMPLAINT':<24} {'STATUS':<14} {'KIND':<10} {'CASE':<18} {'DUE'}")
    for c in page["items"]:
        flag = " overdue" if c["overdue"] else ""
        typer.echo(
            f"{c['complaint_id']:<24} {c['status']:<14} {c['kind']:<10} "
            f"{c.get('case_id') or '-':<18} {c['due_at'][:10]}{flag}"
        )
    if page.get("next"):
        typer.echo(f"(more: --after {page['next']})")
