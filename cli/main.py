"""`dibao`: the command line for caseworkers and operators.

Case commands talk to the HTTP API (so they obey the same validation and audit as any client);
`dev`, `worker`, `api`, `db` and `temporal` run or prepare the service itself.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

import typer

from cli.auth import login, logout, users_app, whoami
from cli.codec import codec_app
from cli.complaint import complaint_app
from cli.http import call, fail
from cli.ledger import ledger_app
from cli.ops import alerts as alerts_command
from cli.ops import ops_app
from cli.ops import stuck as stuck_command
from cli.payroll import payroll_app
from cli.policy import calendar_app, rulepack_app
from cli.region import region_app
from cli.registry import registry_app
from dibao.domain.actions import Action, case_path, command
from dibao.settings import get_settings, settings_error

# How long `dibao case new` looks for the first notice of the case it filed before printing.
NOTICE_WAIT_SECONDS = 10.0

# Locals in tracebacks could print a household's details to a shared terminal.
app = typer.Typer(
    no_args_is_help=True, help="dibao: 低保 case processing", pretty_exceptions_show_locals=False
)
case_app = typer.Typer(no_args_is_help=True, help="File, read and act on cases")
notice_app = typer.Typer(no_args_is_help=True, help="Read issued notices")
db_app = typer.Typer(no_args_is_help=True, help="Database schema")
temporal_app = typer.Typer(no_args_is_help=True, help="Temporal namespace set-up")
app.add_typer(case_app, name="case")
app.add_typer(notice_app, name="notice")
app.add_typer(db_app, name="db")
app.add_typer(temporal_app, name="temporal")
staff_app = typer.Typer(no_args_is_help=True, help="Near-relative registry (近亲属备案)")
app.add_typer(staff_app, name="staff")
app.add_typer(registry_app, name="registry", help="Department registry extracts for verification")
app.add_typer(calendar_app, name="calendar", help="Holiday calendar for working-day deadlines")
app.add_typer(rulepack_app, name="rulepack", help="Rule packs and which county uses which")
app.add_typer(payroll_app, name="payroll", help="Payroll: 花名册, bank file, release, schedule")
app.add_typer(codec_app, name="codec", help="Keys encrypting what Temporal stores")
app.add_typer(ledger_app, name="ledger", help="Going live: ledger import, bank return, 月报")
app.add_typer(users_app, name="users", help="User accounts: role and jurisdiction")
app.add_typer(region_app, name="region", help="Names of places (行政区划) from CSV")
app.add_typer(complaint_app, name="complaint", help="Complaints and reports (举报、投诉、信访)")
app.command("login")(login)
app.command("logout")(logout)
app.command("whoami")(whoami)
app.add_typer(ops_app, name="ops", help="Operations: incidents, retry/skip, describe, drills")
app.command("stuck")(stuck_command)
app.command("alerts")(alerts_command)

JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON answer")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--request-id", "--idempotency-key", help="repeat with the same ID: no 2nd effect"
    ),
]


# --- running the service -------------------------------------------------------------------


@app.command()
def dev() -> None:
    """Start PostgreSQL, Temporal, the worker and the API; Ctrl-C stops them all."""
    from cli.dev import run_dev
    from dibao.settings import Settings

    # Not from .data/dev.env: that file describes a running `make dev`, perhaps a crashed one,
    # and would make this one think PostgreSQL and Temporal are external.
    raise typer.Exit(run_dev(Settings(_env_file=None)))


@app.command()
def worker() -> None:
    """Run a worker (scale out by running more)."""
    import worker as worker_module

    worker_module.main()


@app.command()
def api() -> None:
    """Run the HTTP API."""
    import uvicorn

    from dibao.temporal_client import startup_settings

    settings = startup_settings("dibao api")
    uvicorn.run("api.app:app_factory", factory=True, host=settings.api_host, port=settings.api_port)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to DATABASE_URL."""
    from dibao.db.migrate import upgrade

    settings = get_settings()
    if not settings.database_url:
        fail("DATABASE_URL is not set")
    upgrade(settings.database_url or "")
    typer.echo("database is at the latest migration")


@temporal_app.command("setup")
def temporal_setup() -> None:
    """Register dibao's search attributes on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE."""
    from dibao.temporal_client import connect, register_search_attributes
    from workflows import search_attributes

    settings = get_settings()

    async def run() -> list[str]:
        client = await connect(settings)
        return await register_search_attributes(
            client, settings.temporal_namespace, search_attributes.ALL_KEYS
        )

    added = asyncio.run(run())
    typer.echo("registered: " + ", ".join(added) if added else "search attributes already present")


# --- talking to the API --------------------------------------------------------------------


def print_case(case: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(case, ensure_ascii=False, indent=2))
    else:
        show_case(case)


def show_case(case: dict[str, Any]) -> None:
    typer.echo(f"case       {case['case_id']}")
    typer.echo(f"stage      {case['stage']}  ({case['status']})")
    typer.echo(f"rule pack  {case['rule_pack']}")
    typer.echo(f"filed      {case['filed_at']}")
    if case.get("due_at"):
        typer.echo(f"due        {case['due_at']}")
    if case.get("due_warning"):
        typer.echo(f"warning    {case['due_warning']}")
    limit = case.get("procedure_deadline")
    if limit:
        days = f"{limit['working_days']} working days" if limit.get("working_days") else ""
        typer.echo(f"limit      {limit['due_at']}  (whole procedure, {days or 'as set'})")
        if limit.get("extension_reason"):
            typer.echo(f"extended   {limit['extension_reason']}")
        if limit.get("overdue_since"):
            typer.echo(f"overdue    since {limit['overdue_since']} (whole-procedure limit passed)")
    if case.get("missing_materials"):
        typer.echo("missing    " + ", ".join(case["missing_materials"]))
    if case.get("withdrawal_reason"):
        typer.echo(f"withdrawn  {case['withdrawal_reason']}")
    links = case.get("links") or {}
    if links.get("continued_by"):  # 停旧建新
        typer.echo(f"continued  by case {links['continued_by']} from {links['from_month']}")
    if links.get("continues"):
        typer.echo(f"continues  case {links['continues']} (停旧建新, from {links['from_month']})")
    for notice in case.get("notices", []):
        typer.echo(f"notice     {notice['notice_id']}  {notice['kind']}")
    if case.get("waiting_for"):
        typer.echo(f"waiting    {case['waiting_for']}")
    if case.get("payee"):
        payee = case["payee"]
        typer.echo(f"payee      {payee['account_holder']}  {payee['bank']}  {payee['account_no']}")
        if payee.get("agent"):
            typer.echo(f"           代领人: {payee.get('agent_reason', '')}")
    if case.get("overdue_since"):
        typer.echo(f"overdue    since {case['overdue_since']} (stage deadline passed)")
    for incident in case.get("incidents") or []:
        typer.echo(
            f"incident   {incident['incident_id']}  step {incident['step']} "
            f"({incident['activity_type']}): {incident['error']}"
        )
        if incident.get("options"):
            typer.echo("           options: " + ", ".join(incident["options"]))
    procedure = case.get("procedure") or {}
    assessment = procedure.get("assessment")
    if assessment:
        verdict = "eligible" if assessment["eligible"] else "NOT eligible"
        typer.echo(
            f"assessed   {verdict}, category {assessment['category']}, "
            f"{assessment['monthly_amount']} 元/月"
        )
        for failure in assessment["failures"]:
            typer.echo(f"  - {failure['message']}")
        standard = assessment.get("standard")
        if standard and standard.get("from_month"):
            per = "月" if standard["area_type"] == "urban" else "年"
            typer.echo(
                f"standard   {standard['amount']} 元/人·{per} from {standard['from_month']} "
                f"({standard['source']}), for {assessment['assessed_month']}"
            )
    for reason in procedure.get("county_visit_reasons") or []:
        typer.echo(f"visit      {reason}")
    for posting in procedure.get("postings") or []:
        typer.echo(
            f"posting    {posting['stage']}  {posting['opens_at'][:10]} → "
            f"{posting['closes_at'][:10]}  {posting['outcome']}"
        )
    entitlement = procedure.get("entitlement")
    if entitlement:
        typer.echo(
            f"approved   低保证 {entitlement['certificate_no']}, "
            f"{entitlement['monthly_amount']} 元/月 from {entitlement['from_month']}"
        )
    recipient = case.get("recipient")
    if recipient:
        suspended = (
            f", suspended until {recipient['suspended_until']}"
            if recipient["suspended_until"]
            else ""
        )
        typer.echo(
            f"recipient  cycle {recipient['cycle']}, next review {recipient['next_review_on']}, "
            f"missed sign-ins {recipient['missed_sign_ins']}{suspended}"
        )
        if case.get("review_due"):
            typer.echo(
                f"review     due: submit the re-review survey, "
                f"`dibao case review {case['case_id']} -f survey.json`"
            )
    commands = [
        command(a["action"]) for a in case.get("actions") or [] if a["allowed"] and a.get("path")
    ]
    if commands:
        typer.echo(
            "you may    " + ", ".join(commands) + f"  (dibao case <action> {case['case_id']})"
        )
    if case.get("recused_staff"):
        typer.echo("recused    " + ", ".join(case["recused_staff"]))
    if case.get("source") == "projection":
        typer.echo("note       the workflow did not answer; this is the stored projection")


@case_app.command("new")
def case_new(
    file: Annotated[Path, typer.Option("--file", "-f", exists=True, dir_okay=False)],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File an application from a JSON file (see examples/household.json)."""
    filed = call("POST", "/cases", body=load_json(file), key=key)
    # The API answers once the case is saved, before the worker issues its first notice:
    # the CLI looks a few seconds for it so the caseworker sees the notice to print.
    deadline = time.monotonic() + NOTICE_WAIT_SECONDS
    while filed.get("notice_status") == "pending" and time.monotonic() < deadline:
        if call("GET", filed["notices_url"]):
            filed = call("GET", f"/cases/{filed['case_id']}")
            break
        time.sleep(0.2)
    print_case(filed, as_json)


@case_app.command("show")
def case_show(case_id: str, as_json: JsonOpt = False) -> None:
    """The whole state of one case."""
    case = call("GET", f"/cases/{case_id}")
    print_case(case, as_json)


@case_app.command("list")
def case_list(
    stage: str | None = None,
    status: str | None = None,
    county: str | None = None,
    township: str | None = None,
    village: str | None = None,
    limit: int = 50,
    offset: int = 0,
    as_json: JsonOpt = False,
) -> None:
    """List cases, newest first, filtered by stage and jurisdiction."""
    page = call(
        "GET",
        "/cases",
        stage=stage,
        status=status,
        county=county,
        township=township,
        village=village,
        limit=limit,
        offset=offset,
    )
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'CASE':<18} {'STAGE':<24} {'STATUS':<22} {'TOWNSHIP':<10} {'DUE'}")
    for row in page["items"]:
        due = (row["due_at"] or "")[:10]
        typer.echo(
            f"{row['case_id']:<18} {row['stage']:<24} {row['status']:<22} "
            f"{row['township_code']:<10} {due}"
        )
    shown = offset + len(page["items"])
    typer.echo(
        f"({len(page['items'])} shown, {offset + 1 if page['items'] else 0}-{shown} "
        f"of {page['total']})"
    )


@case_app.command(command(Action.MATERIALS))
def case_materials(
    case_id: str,
    material: Annotated[
        list[str] | None, typer.Option("--material", "-m", help="a material now provided")
    ] = None,
    declaration_signed: bool = False,
    verification_authorised: bool = False,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record materials supplied after the one-time notice (补齐材料)."""
    body = {
        "materials": material or [],
        "declaration_signed": declaration_signed,
        "verification_authorised": verification_authorised,
    }
    act(case_id, Action.MATERIALS, body, key, as_json)


@case_app.command(command(Action.WITHDRAW))
def case_withdraw(
    case_id: str,
    reason: Annotated[str, typer.Option(help="the applicant's reason")],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw an application at the applicant's request (撤回)."""
    act(case_id, Action.WITHDRAW, {"reason": reason}, key, as_json)


@case_app.command(command(Action.PAYEE))
def case_payee(
    case_id: str,
    holder: Annotated[str, typer.Option(help="account holder (开户人)")],
    bank: Annotated[str, typer.Option(help="bank and branch (开户行)")],
    account_no: Annotated[str, typer.Option(help="account number, digits only")],
    agent_reason: Annotated[
        str,
        typer.Option(
            help="the holder is no member of the household and collects for it (代领人): why"
        ),
    ] = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record or change the account the benefit is paid into (代发账户): a member's, or an
    agent's (代领人) with --agent-reason."""
    body: dict[str, Any] = {"account_holder": holder, "bank": bank, "account_no": account_no}
    if agent_reason:
        body |= {"agent": True, "agent_reason": agent_reason}
    act(case_id, Action.PAYEE, body, key, as_json)


def load_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        fail(f"{file}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})")


def act(case_id: str, action: Action, body: Any, key: str | None, as_json: bool) -> None:
    print_case(call("POST", case_path(action, case_id), body=body, key=key), as_json)


FileOpt = Annotated[Path, typer.Option("--file", "-f", exists=True, dir_okay=False)]


@case_app.command(command(Action.SURVEY))
def case_survey(case_id: str, file: FileOpt, key: KeyOpt = None, as_json: JsonOpt = False) -> None:
    """Submit the household survey (入户调查) from a JSON file (see examples/survey.json)."""
    act(case_id, Action.SURVEY, load_json(file), key, as_json)


@case_app.command(command(Action.EVALUATION))
def case_evaluation(
    case_id: str, file: FileOpt, key: KeyOpt = None, as_json: JsonOpt = False
) -> None:
    """Record the democratic evaluation (民主评议) from a JSON file (examples/evaluation.json)."""
    act(case_id, Action.EVALUATION, load_json(file), key, as_json)


@case_app.command(command(Action.EVIDENCE))
def case_evidence(
    case_id: str,
    received_on: Annotated[str, typer.Option(help="YYYY-MM-DD: when the township received it")],
    summary: Annotated[str, typer.Option(help="what evidence the family gave")],
    findings_stand: Annotated[
        bool,
        typer.Option(
            "--findings-stand",
            help="the evidence changes nothing: go on with the verified figures "
            "(default: verification runs again)",
        ),
    ] = False,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the family's evidence on a failed check (核对异议举证, mca-2021 Art. 18)."""
    body = {
        "received_on": received_on,
        "summary": summary,
        "effect": "findings_stand" if findings_stand else "recheck",
    }
    act(case_id, Action.EVIDENCE, body, key, as_json)


@case_app.command(command(Action.OBJECTION))
def case_objection(
    case_id: str,
    summary: Annotated[str, typer.Option(help="what the objection says")],
    objector_name: Annotated[str, typer.Option(help="kept private")] = "",
    objector_contact: Annotated[str, typer.Option(help="kept private")] = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an objection raised during a public posting (公示异议)."""
    body = {
        "summary": summary,
        "objector_name": objector_name,
        "objector_contact": objector_contact,
    }
    act(case_id, Action.OBJECTION, body, key, as_json)


@case_app.command(command(Action.TOWNSHIP_REVIEW))
def case_township_review(
    case_id: str,
    opinion: Annotated[str, typer.Option(help="approve or reject")],
    reason: Annotated[list[str] | None, typer.Option(help="a reason (repeatable)")] = None,
    proposed_amount: Annotated[str | None, typer.Option(help="yuan per month")] = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give the township review opinion (乡镇审核)."""
    body: dict[str, Any] = {"opinion": opinion, "reasons": reason or []}
    if proposed_amount is not None:
        body["proposed_amount"] = proposed_amount
    act(case_id, Action.TOWNSHIP_REVIEW, body, key, as_json)


@case_app.command(command(Action.COUNTY_VISIT))
def case_county_visit(
    case_id: str,
    visited_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    visitor: Annotated[list[str], typer.Option(help="who visited (repeatable)")],
    findings: Annotated[str, typer.Option()],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the county's own home visit (县级入户核查)."""
    body = {"visited_on": visited_on, "visitors": visitor, "findings": findings}
    act(case_id, Action.COUNTY_VISIT, body, key, as_json)


@case_app.command(command(Action.COUNTY_DECISION))
def case_county_decision(
    case_id: str,
    opinion: Annotated[str, typer.Option(help="approve or reject")],
    amount: Annotated[str | None, typer.Option(help="yuan per month; default computed")] = None,
    category: Annotated[str | None, typer.Option(help="A, B or C; default assessed")] = None,
    override_reason: Annotated[str, typer.Option(help="why amount/category differ")] = "",
    reason: Annotated[list[str] | None, typer.Option(help="refusal reason (repeatable)")] = None,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve or refuse (县级审批)."""
    body: dict[str, Any] = {
        "opinion": opinion,
        "override_reason": override_reason,
        "reasons": reason or [],
    }
    if amount is not None:
        body["monthly_amount"] = amount
    if category is not None:
        body["category"] = category
    act(case_id, Action.COUNTY_DECISION, body, key, as_json)


@case_app.command(command(Action.TERMINATE))
def case_terminate(
    case_id: str,
    reason: Annotated[str, typer.Option(help="for the notice")],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Terminate the procedure, e.g. for non-cooperation (终止办理)."""
    act(case_id, Action.TERMINATE, {"reason": reason}, key, as_json)


@case_app.command(command(Action.EXTEND_DEADLINE))
def case_extend_deadline(
    case_id: str,
    reason: Annotated[str, typer.Option(help="the special circumstances (recorded, audited)")],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """County: extend the whole procedure's limit once (mca-2021 Art. 22: to 45 working days)."""
    act(case_id, Action.EXTEND_DEADLINE, {"reason": reason}, key, as_json)


@case_app.command(command(Action.REVIEW))
def case_review(case_id: str, file: FileOpt, key: KeyOpt = None, as_json: JsonOpt = False) -> None:
    """Submit the re-review survey of a recipient household (复核), same format as a survey."""
    act(case_id, Action.REVIEW, load_json(file), key, as_json)


@case_app.command(command(Action.SIGN_IN))
def case_sign_in(
    case_id: str,
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    missed: Annotated[bool, typer.Option("--missed/--done", help="missed or done")] = False,
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a monthly sign-in (签到); two missed in a row stop payment."""
    act(case_id, Action.SIGN_IN, {"month": month, "done": not missed}, key, as_json)


@case_app.command(command(Action.LABOUR_ABSENCE))
def case_labour_absence(
    case_id: str,
    on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    justified: Annotated[bool, typer.Option("--justified/--unjustified")] = False,
    note: str = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an absence from public-benefit labour (公益劳动)."""
    act(
        case_id,
        Action.LABOUR_ABSENCE,
        {"on": on, "justified": justified, "note": note},
        key,
        as_json,
    )


@case_app.command(command(Action.REEMPLOYMENT))
def case_reemployment(
    case_id: str,
    member: Annotated[str, typer.Option(help="the member's ID number")],
    wage: Annotated[str, typer.Option(help="monthly wage, yuan")],
    started_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A member found work: 渐退 — the wage counts only after the gradual-exit months."""
    body = {"member_id_number": member, "monthly_wage": wage, "started_on": started_on}
    act(case_id, Action.REEMPLOYMENT, body, key, as_json)


@case_app.command(command(Action.WORK_REFUSAL))
def case_work_refusal(
    case_id: str,
    member: Annotated[str, typer.Option(help="the member's ID number")],
    on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    justified: Annotated[bool, typer.Option("--justified/--unjustified")] = False,
    note: str = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A member refused suitable work (mca-2021 Art. 34)."""
    body = {"member_id_number": member, "on": on, "justified": justified, "note": note}
    act(case_id, Action.WORK_REFUSAL, body, key, as_json)


@case_app.command(command(Action.CIRCUMSTANCE))
def case_circumstance(
    case_id: str,
    kind: Annotated[
        str, typer.Option(help="death_of_only_member, moved_away, income_change, members_change")
    ],
    details: Annotated[str, typer.Option(help="what changed, for the notice")],
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Report a change of circumstances of a recipient household."""
    act(case_id, Action.CIRCUMSTANCE, {"kind": kind, "details": details}, key, as_json)


@case_app.command(command(Action.HOUSEHOLD_CHANGE))
def case_household_change(
    case_id: str,
    event: Annotated[
        str,
        typer.Option(
            help="birth, marriage_in, move_in (joins); death, marriage_out, move_out (leaves); "
            "head_change"
        ),
    ],
    on: Annotated[str, typer.Option(help="date of the event, YYYY-MM-DD")],
    member: Annotated[str, typer.Option(help="ID number of the member who leaves")] = "",
    joining: Annotated[
        str, typer.Option(help="the member who joins: NAME,ID_NUMBER,RELATION (e.g. child)")
    ] = "",
    new_head: Annotated[str, typer.Option(help="ID number of the new head")] = "",
    new_case: Annotated[
        bool,
        typer.Option(
            "--new-case/--same-case",
            help="when the head leaves: 停旧建新 (stop this case, open a linked new one)",
        ),
    ] = False,
    incomes: Annotated[
        str,
        typer.Option(
            help="the household's incomes after the change: CATEGORY=YUAN,... ('-': none)"
        ),
    ] = "",
    key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A family change (家庭人口变化): the case is recomputed on the new household."""
    body: dict[str, object] = {"event": event, "on": on}
    if member:
        body["member_id_number"] = member
    if joining:
        parts = [p.strip() for p in joining.split(",")]
        if len(parts) != 3:
            raise typer.BadParameter("NAME,ID_NUMBER,RELATION", param_hint="--joining")
        body["joining"] = {"name": parts[0], "id_number": parts[1], "relation": parts[2]}
    if new_head:
        body["new_head_id_number"] = new_head
    if new_case:
        body["successor"] = "new_case"
    if incomes:
        items = [] if incomes.strip() == "-" else [i for i in incomes.split(",") if i.strip()]
        try:
            body["incomes"] = [
                {"category": c.strip(), "monthly_amount": a.strip()}
                for c, a in (i.split("=", 1) for i in items)
            ]
        except ValueError:
            raise typer.BadParameter("CATEGORY=YUAN,...", param_hint="--incomes") from None
    act(case_id, Action.HOUSEHOLD_CHANGE, body, key, as_json)


@app.command("standard-change")
def standard_change(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    urban: Annotated[str, typer.Option(help="urban standard, yuan per person per month")],
    rural: Annotated[str, typer.Option(help="rural standard, yuan per person per year")],
    effective_month: Annotated[str, typer.Option("--from", help="YYYY-MM")],
    key: KeyOpt = None,
) -> None:
    """Apply a new standard to every recipient of a county (低保标准调整)."""
    body = {"urban_standard": urban, "rural_standard": rural, "effective_month": effective_month}
    progress = call("POST", f"/counties/{county}/standard-changes", body=body, key=key)
    batch_id = progress["batch_id"]
    # The answer comes as the batch starts, before it has even listed the county's recipients:
    # say what was started and where to watch it, not a count that is still 0/0.
    typer.echo(
        f"standard change {batch_id} started: urban {urban} 元/人·月, rural {rural} 元/人·年 "
        f"from {effective_month}, for every recipient of county {county}"
    )
    typer.echo(
        "it runs in the background: each case recomputes its amount and gets its own notice "
        "and posting"
    )
    if progress["total"] or progress["finished"]:  # a repeat of a batch that has got on
        typer.echo(_progress_line(progress))
    typer.echo(f"follow it with: dibao standard-change-progress {batch_id}")


def _progress_line(progress: dict[str, Any]) -> str:
    batch_id = progress["batch_id"]
    if not progress["finished"] and not progress["total"]:
        return f"{batch_id}: running, listing the county's recipients"
    if progress["finished"] and not progress["total"]:
        return f"{batch_id}: finished; the county has no recipients, nothing changed"
    state = "finished" if progress["finished"] else "running"
    skipped = f", {len(progress['skipped'])} skipped" if progress["skipped"] else ""
    return (
        f"{batch_id}: {state}, applied to {progress['applied']} of {progress['total']} "
        f"recipients{skipped}"
    )


@app.command("standard-change-progress")
def standard_change_progress(batch_id: str) -> None:
    """How far a standard change has got."""
    progress = call("GET", f"/standard-changes/{batch_id}")
    typer.echo(_progress_line(progress))
    for line in progress["skipped"]:
        typer.echo(f"  skipped {line}")


@app.command("spot-check")
def spot_check(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    year: Annotated[int, typer.Option()],
) -> None:
    """Draw (once) the year's recipients for county home visits; prints the selection."""
    result = call("POST", f"/counties/{county}/spot-checks/{year}")
    typer.echo(
        f"{county} {year}: {len(result['selected'])} of {result['recipients']} recipients "
        f"selected (seed {result['seed']}, drawn by {result['drawn_by']})"
    )
    for case_id in result["selected"]:
        typer.echo(f"  {case_id}")


@app.command("postings")
def postings(
    village: Annotated[str, typer.Option(help="12-digit village code")],
    raw_html: Annotated[bool, typer.Option("--html")] = False,
) -> None:
    """The village's posting board (公示栏), as printed for the notice board: every page of it."""
    content = call("GET", "/postings", village=village, limit=_BOARD_PAGE)
    typer.echo(content if raw_html else html_to_text(content))
    while found := _BOARD_NEXT.search(content):
        query = dict(parse_qsl(html.unescape(found.group(1))))
        content = call("GET", "/postings", **query)
        typer.echo(content if raw_html else html_to_text(content))


# The largest page GET /postings gives; a longer board is followed by its 下一页 links.
_BOARD_PAGE = 1000
_BOARD_NEXT = re.compile(r'href="/postings\?([^"]+)">下一页')


@staff_app.command("add-relative")
def staff_add_relative(
    staff_id: str,
    staff_role: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option(help="the relative's name")],
    id_number: Annotated[str, typer.Option(help="the relative's resident ID number")],
    relation: Annotated[str, typer.Option(help="e.g. 父母, 配偶, 子女")],
) -> None:
    """Register a close relative of a staff member or village cadre."""
    body = {
        "staff_role": staff_role,
        "relative_name": name,
        "relative_id_number": id_number,
        "relation": relation,
    }
    row = call("POST", f"/staff/{staff_id}/relatives", body=body)
    typer.echo(f"registered {row['relative_name']} ({row['relation']}) for {staff_id}")


@staff_app.command("relatives")
def staff_relatives(staff_id: str) -> None:
    """A staff member's registered relatives (ID numbers masked)."""
    for row in call("GET", f"/staff/{staff_id}/relatives"):
        typer.echo(f"{row['relative_name']:<8} {row['relation']:<6} {row['relative_id_number']}")


@case_app.command("audit")
def case_audit(case_id: str, as_json: JsonOpt = False) -> None:
    """The audit log of one case."""
    rows = call("GET", f"/cases/{case_id}/audit")
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(
            f"{row['at'][:19]}  {row['action']:<22} {row['actor_id']} ({row['actor_role']})  "
            f"sha256 {row['payload_sha256'][:12]}"
        )


@case_app.command("payments")
def case_payments(case_id: str, as_json: JsonOpt = False) -> None:
    """A household's payment history: entitlement changes (per member too), what each month
    was entitled to and what released payrolls paid, and the payroll lines."""
    data = call("GET", f"/cases/{case_id}/payments")
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"case {data['case_id']}")
    typer.echo("changes (从 month: 元/月, why):")
    for c in data["changes"]:
        shares = " + ".join(c["per_member"]) if c["per_member"] else "members not recorded"
        typer.echo(
            f"  {c['effective_month']}  {c['change_kind']:<9} {c['monthly_amount']:>9}  "
            f"({shares})  {c['reason']}"
        )
    typer.echo("months (entitled / paid by released payrolls):")
    for m in data["months"]:
        flag = "" if m["entitled"] == m["paid"] else "  ← outstanding"
        typer.echo(f"  {m['month']}  {m['entitled']:>9} / {m['paid']:>9}{flag}")
    typer.echo("payroll lines:")
    for line in data["lines"]:
        typer.echo(
            f"  {line['run_id']} ({line['run_status']})  {line['month']}  {line['kind']:<8} "
            f"{line['amount']:>9}"
        )


@notice_app.command("show")
def notice_show(notice_id: str, raw_html: Annotated[bool, typer.Option("--html")] = False) -> None:
    """A notice as issued; plain text unless --html."""
    content = call("GET", f"/notices/{notice_id}")
    typer.echo(content if raw_html else html_to_text(content))


def html_to_text(content: str) -> str:
    body = re.sub(r"(?s)<head>.*?</head>", "", content)
    body = re.sub(r"<li>", "  - ", body)
    body = re.sub(r"</t[hd]>", "  ", body)
    body = re.sub(r"<br\s*/?>|</p>|</h[12]>|</li>|</tr>", "\n", body)
    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def main() -> None:
    # A setting that cannot work ends any command with the variable it names, not a traceback.
    from pydantic import ValidationError

    from dibao.temporal_client import TemporalSettingsError

    try:
        app()
    except ValidationError as err:
        if err.title != "Settings":
            raise
        typer.echo(f"error: {settings_error(err)}", err=True)
        raise SystemExit(2) from None
    except TemporalSettingsError as err:
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
