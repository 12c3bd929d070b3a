"""`dibao calendar` and `dibao rulepack`: the policy data the office maintains.

Unlike the case commands these write to PostgreSQL directly (DATABASE_URL): they are operator
tasks for the civil affairs office, not caseworker actions on a case, and must work while the
API is down, e.g. to enter next year's holidays before the service is upgraded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from cli.auth import operator
from cli.db import with_session
from cli.http import fail
from dibao.calendar_csv import NOTE_MAX, parse_calendar_csv, parse_day
from dibao.db import calendar_repo, rulepacks_repo
from dibao.domain.access import Action
from dibao.domain.calendar import YearStatus, official_covers

calendar_app = typer.Typer(
    no_args_is_help=True,
    help="Holiday calendar for years the official calendar does not cover (节假日安排)",
    pretty_exceptions_show_locals=False,
)
rulepack_app = typer.Typer(
    no_args_is_help=True,
    help="Rule packs: versions, and the pack each county's new cases use",
    pretty_exceptions_show_locals=False,
)

T = TypeVar("T")


JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


# --- calendar -------------------------------------------------------------------------------


def _read_text(file: Path) -> tuple[str, str]:
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        # Spreadsheet programs on Chinese Windows save CSV in GBK; GB18030 is its superset.
        try:
            return data.decode("gb18030"), "GB18030"
        except UnicodeDecodeError:
            fail(f"{file}: neither UTF-8 nor GB18030 text; save it as CSV UTF-8", code=2)


def _check_uncovered_year(year: int) -> None:
    if not 1 <= year <= 9999:
        fail(f"{year} is not a calendar year", code=2)
    if official_covers(year):
        fail(
            f"{year} is covered by the official calendar (chinese-calendar); correct single "
            "days with `dibao calendar set`",
            code=2,
        )


@calendar_app.command("load")
def calendar_load(
    year: int,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    note: Annotated[str, typer.Option(help="e.g. the State Council notice (国办发明电…)")] = "",
) -> None:
    """Load a year's arrangement from CSV (day,is_working_day,note) and mark the year entered.

    The file replaces every day already entered for the year. One bad row loads nothing.
    """
    _check_uncovered_year(year)
    content, encoding = _read_text(file)
    parsed = parse_calendar_csv(content, year)
    if parsed.errors:
        lines = [f"{file}: {len(parsed.errors)} problem(s); nothing was loaded"]
        lines += [f"  {e}" for e in parsed.errors]
        fail("\n".join(lines), code=2)

    async def work(session: AsyncSession) -> int:
        by = await operator(session, Action.EDIT_CALENDAR)
        return await calendar_repo.replace_year(
            session, year, parsed.days, published_by=by, note=note
        )

    replaced = with_session(work)
    holidays = sum(1 for d in parsed.days if not d.is_working_day)
    typer.echo(
        f"{year}: loaded {len(parsed.days)} days ({holidays} holidays, "
        f"{len(parsed.days) - holidays} working days) from {encoding} text"
        + (f", replacing {replaced} entered before" if replaced else "")
    )
    typer.echo(f"{year} is office-entered: deadlines in {year} now use these days")


@calendar_app.command("publish")
def calendar_publish(
    year: int, note: Annotated[str, typer.Option(help="e.g. the State Council notice")] = ""
) -> None:
    """Mark a year entered after setting its days one by one with `set`."""
    _check_uncovered_year(year)

    async def work(session: AsyncSession) -> calendar_repo.YearCalendar:
        by = await operator(session, Action.EDIT_CALENDAR)
        await calendar_repo.publish_year(session, year, published_by=by, note=note)
        return await calendar_repo.list_year(session, year)

    calendar = with_session(work)
    typer.echo(f"{year} is office-entered with {len(calendar.days)} day(s) listed")


@calendar_app.command("show")
def calendar_show(year: int, as_json: JsonOpt = False) -> None:
    """A year's holidays and make-up working days, and where they come from."""
    if not 1 <= year <= 9999:
        fail(f"{year} is not a calendar year", code=2)

    async def work(session: AsyncSession) -> calendar_repo.YearCalendar:
        return await calendar_repo.list_year(session, year)

    calendar = with_session(work)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "year": year,
                    "status": calendar.status.value,
                    "warning": calendar.warning,
                    "days": [
                        {
                            "day": d.day.isoformat(),
                            "is_working_day": d.is_working_day,
                            "note": d.note,
                            "source": d.source.value,
                        }
                        for d in calendar.days
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    status = {
        YearStatus.OFFICIAL: "official calendar (chinese-calendar)",
        YearStatus.OFFICE_ENTERED: "entered by the office",
        YearStatus.NOT_COVERED: "NOT COVERED: weekends only",
    }[calendar.status]
    typer.echo(f"{year}  {status}")
    if calendar.published is not None:
        published = calendar.published
        typer.echo(
            f"published by {published.published_by} at {published.updated_at:%Y-%m-%d %H:%M}"
            + (f"  ({published.note})" if published.note else "")
        )
    if calendar.warning:
        typer.echo(f"warning: {calendar.warning}")
    for d in calendar.days:
        kind = "working" if d.is_working_day else "holiday"
        by = f"  ({d.updated_by})" if d.updated_by else ""
        typer.echo(f"{d.day}  {d.day:%a}  {kind:<8} {d.source.value:<9}{d.note}{by}")


@calendar_app.command("set")
def calendar_set(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    working: Annotated[
        bool | None,
        typer.Option("--working/--holiday", help="a make-up working day, or a holiday"),
    ] = None,
    note: Annotated[str, typer.Option(help="e.g. 国庆节 or 调休上班")] = "",
) -> None:
    """Enter or correct one day."""
    try:
        parsed = parse_day(day)
    except ValueError as err:
        fail(str(err), code=2)
    if working is None:
        fail("say --holiday or --working", code=2)
    is_working: bool = working
    if len(note) > NOTE_MAX:
        fail(f"note is longer than {NOTE_MAX} characters", code=2)

    async def work(session: AsyncSession) -> calendar_repo.YearCalendar:
        by = await operator(session, Action.EDIT_CALENDAR)
        await calendar_repo.set_day(
            session, parsed, is_working_day=is_working, note=note, updated_by=by
        )
        return await calendar_repo.list_year(session, parsed.year)

    calendar = with_session(work)
    kind = "working day" if is_working else "holiday"
    typer.echo(f"{parsed} ({parsed:%a}) is a {kind}" + (f": {note}" if note else ""))
    if calendar.status is YearStatus.OFFICIAL:
        typer.echo(f"this corrects the official calendar for {parsed}")
    if calendar.warning:
        typer.echo(f"warning: {calendar.warning}")


# --- rule packs -----------------------------------------------------------------------------


@rulepack_app.command("list")
def rulepack_list() -> None:
    """Every rule pack at its latest version."""

    async def work(session: AsyncSession) -> list[tuple[str, int, str, str, str]]:
        rows = await rulepacks_repo.list_packs(session)
        return [(r.id, r.version, r.title, r.created_by, f"{r.created_at:%Y-%m-%d}") for r in rows]

    typer.echo(f"{'PACK':<20} {'VERSION':>7}  {'CREATED':<10} {'BY':<16} TITLE")
    for pack_id, version, title, by, created in with_session(work):
        typer.echo(f"{pack_id:<20} {version:>7}  {created:<10} {by:<16} {title}")


@rulepack_app.command("show")
def rulepack_show(
    pack_id: str,
    version: Annotated[int | None, typer.Option(help="default: the latest", min=1)] = None,
) -> None:
    """A pack's parameters as JSON (the latest version unless --version)."""

    async def work(session: AsyncSession) -> dict[str, Any] | None:
        row = await rulepacks_repo.get_pack_row(session, pack_id, version)
        return None if row is None else row.params

    params = with_session(work)
    if params is None:
        what = f"{pack_id} version {version}" if version is not None else pack_id
        fail(f"unknown rule pack {what}", code=2)
    typer.echo(json.dumps(params, ensure_ascii=False, indent=2))


@rulepack_app.command("assign")
def rulepack_assign(county_code: str, pack_id: str) -> None:
    """Choose the pack for a county's new cases (cases already filed keep theirs)."""
    if not rulepacks_repo.COUNTY_CODE.match(county_code):
        fail(f"county code must be 6 digits, got {county_code!r}", code=2)

    async def work(session: AsyncSession) -> tuple[int, str] | list[str]:
        by = await operator(session, Action.ASSIGN_RULE_PACK, county=county_code)
        try:
            await rulepacks_repo.assign_county(session, county_code, pack_id, by)
        except rulepacks_repo.UnknownRulePack:
            return [r.id for r in await rulepacks_repo.list_packs(session)]
        pack = await rulepacks_repo.latest_pack(session, pack_id)
        return pack.version, pack.title

    result = with_session(work)
    if isinstance(result, list):
        fail(f"unknown rule pack {pack_id}; known: {', '.join(result)}", code=2)
    version, title = result
    typer.echo(f"county {county_code}: new cases use {pack_id}@{version}  {title}")


def parse_settings(assignments: list[str]) -> tuple[dict[str, Any], list[str]]:
    changes: dict[str, Any] = {}
    errors: list[str] = []
    for item in assignments:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            errors.append(f"--set {item}: expected FIELD=VALUE")
            continue
        try:
            changes[name] = json.loads(raw)
        except json.JSONDecodeError:
            errors.append(f"--set {item}: the value is not JSON (quote text: {name}='\"...\"')")
    return changes, errors


@rulepack_app.command("publish")
def rulepack_publish(
    pack_id: str,
    assignments: Annotated[
        list[str],
        typer.Option(
            "--set", help="FIELD=VALUE, the value as JSON, e.g. posting_days=10; repeatable"
        ),
    ],
) -> None:
    """Publish a new version: the latest with the given changes. Earlier versions stay."""
    changes, errors = parse_settings(assignments)
    if errors:
        fail("\n".join(["nothing was published", *(f"  {e}" for e in errors)]), code=2)

    async def work(session: AsyncSession) -> tuple[int, dict[str, Any]] | list[str]:
        by = await operator(session, Action.PUBLISH_RULE_PACK)
        try:
            before = (await rulepacks_repo.latest_pack(session, pack_id)).to_params()
            pack = await rulepacks_repo.publish_version(session, pack_id, changes, by)
        except rulepacks_repo.UnknownRulePack as err:
            return [str(err)]
        except rulepacks_repo.InvalidRulePack as err:
            return err.errors
        except rulepacks_repo.ConcurrentPublish as err:
            return [str(err)]
        after = pack.to_params()
        changed = {
            k: (before[k], after[k]) for k in after if k != "version" and before[k] != after[k]
        }
        return pack.version, changed

    result = with_session(work)
    if isinstance(result, list):
        fail("\n".join(["nothing was published", *(f"  {e}" for e in result)]), code=2)
    version, changed = result
    typer.echo(f"published {pack_id}@{version}; cases already filed keep their version")
    for name, (old, new) in changed.items():
        typer.echo(
            f"  {name}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}"
        )


# parse_calendar_csv lives in dibao/calendar_csv.py (shared with the console); named here too.
__all__ = ["calendar_app", "parse_calendar_csv", "parse_day", "rulepack_app"]
