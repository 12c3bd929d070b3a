"""The county office's policy and base data, as the API routes and the console both use it:
rule packs and their comparison, the county's pack, the calendar, registry extracts, the region
table, the yearly spot check and a county's change of standard.

Refusals are the API's HTTPExceptions (403 role or county, 404, 422 with field paths), so the
routes answer them as JSON and the console shows them beside its fields.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from api import errors
from api.deps import check_county, check_role
from dibao.calendar_csv import ParsedCalendar, parse_calendar_csv
from dibao.db import calendar_repo, procedure_repo, regions_repo, registry_repo, rulepacks_repo
from dibao.db.policy_models import CountyRulePackRow
from dibao.db.procedure_models import RecipientSpotCheckRow
from dibao.domain.access import Action
from dibao.domain.application import FieldError
from dibao.domain.calendar import china_date, official_covers
from dibao.domain.standards import standard_change_problems
from dibao.domain.verification import Department
from dibao.messages.case import Actor, StandardChangeInput, StandardChangeProgress
from dibao.registry_csv import ParsedExtract, parse_extract
from dibao.settings import Settings
from workflows.standard_change import StandardChangeWorkflow

# --- rule packs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamDiff:
    """One parameter of two pack versions: its dotted key and both values (None: absent)."""

    key: str
    left: Any
    right: Any

    @property
    def differs(self) -> bool:
        return bool(self.left != self.right)


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def compare_params(left: dict[str, Any], right: dict[str, Any]) -> list[ParamDiff]:
    """Every parameter of either version, side by side, in key order."""
    a, b = _flatten(left), _flatten(right)
    return [ParamDiff(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys())]


async def assign_county_pack(
    session: AsyncSession, actor: Actor, county_code: str, pack_id: str
) -> CountyRulePackRow:
    """Choose the pack of a county's new cases; 422 at `pack_id` for a pack that is not."""
    check_role(actor, Action.ASSIGN_RULE_PACK)
    check_county(actor, Action.ASSIGN_RULE_PACK, county_code)
    try:
        return await rulepacks_repo.assign_county(session, county_code, pack_id, actor.id)
    except rulepacks_repo.UnknownRulePack as err:
        known = ", ".join(r.id for r in await rulepacks_repo.list_packs(session))
        raise errors.unprocessable([FieldError(("pack_id",), f"{err}; known: {known}")]) from None


# --- calendar -------------------------------------------------------------------------------


async def set_calendar_day(
    session: AsyncSession, actor: Actor, day: date, *, is_working_day: bool, note: str
) -> calendar_repo.YearCalendar:
    check_role(actor, Action.EDIT_CALENDAR)
    await calendar_repo.set_day(
        session, day, is_working_day=is_working_day, note=note, updated_by=actor.id
    )
    return await calendar_repo.list_year(session, day.year)


def read_csv_text(data: bytes) -> str | None:
    """UTF-8, else GB18030 (what spreadsheet programs on Chinese Windows save); None: neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


@dataclass(frozen=True)
class CalendarLoad:
    parsed: ParsedCalendar
    replaced: int  # days entered before that the file replaced (0 when it has errors)


async def load_calendar_year(
    session: AsyncSession, actor: Actor, year: int, data: bytes, note: str
) -> CalendarLoad:
    """A year's arrangement from CSV, all or nothing; a year the official calendar covers is
    corrected day by day instead (422 at `year`)."""
    check_role(actor, Action.EDIT_CALENDAR)
    if not 1 <= year <= 9999:
        raise errors.unprocessable([FieldError(("year",), f"{year} is not a calendar year")])
    if official_covers(year):
        raise errors.unprocessable(
            [
                FieldError(
                    ("year",),
                    f"{year} is covered by the official calendar; correct single days instead",
                )
            ]
        )
    text = read_csv_text(data)
    if text is None:
        parsed = ParsedCalendar([], ["line 1: neither UTF-8 nor GB18030 text"])
        return CalendarLoad(parsed, 0)
    parsed = parse_calendar_csv(text, year)
    if parsed.errors:
        return CalendarLoad(parsed, 0)
    replaced = await calendar_repo.replace_year(
        session, year, parsed.days, published_by=actor.id, note=note
    )
    return CalendarLoad(parsed, replaced)


# --- registry extracts and the region table -------------------------------------------------


@dataclass(frozen=True)
class RegistryLoad:
    parsed: ParsedExtract
    result: registry_repo.LoadResult | None  # None: the file had errors, nothing was loaded


async def load_registry_extract(
    session: AsyncSession,
    actor: Actor,
    department: Department,
    data: bytes,
    file_name: str,
    *,
    replace: bool,
) -> RegistryLoad:
    """One department's extract, checked whole first: any error loads nothing."""
    check_role(actor, Action.LOAD_REGISTRY)
    # Checking is CPU work (about 0.2 ms a line, mostly the ID numbers' region codes): off the
    # event loop, so the service keeps answering while a department's extract is checked.
    parsed = await asyncio.to_thread(
        parse_extract, data, department, today=china_date(datetime.now(UTC))
    )
    if parsed.errors:
        return RegistryLoad(parsed, None)
    result = await registry_repo.load_batch(
        session,
        department,
        parsed.records,
        file_name=file_name[:200],
        sha256=parsed.sha256,
        loaded_by=actor.id,
        replace=replace,
    )
    return RegistryLoad(parsed, result)


class RegionLoadRefused(ValueError):
    """The region file cannot be loaded; nothing was."""


async def load_regions(session: AsyncSession, actor: Actor, data: bytes) -> int:
    check_role(actor, Action.LOAD_REGISTRY)
    try:
        regions = regions_repo.parse_csv(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise RegionLoadRefused("the file is not UTF-8 text") from None
    except regions_repo.RegionCsvError as err:
        raise RegionLoadRefused(str(err)) from None
    try:
        return await regions_repo.load(session, regions)
    except IntegrityError:
        await session.rollback()
        raise RegionLoadRefused(
            "a township or village whose parent is neither in the file nor loaded"
        ) from None


# --- the yearly spot check ------------------------------------------------------------------


async def draw_spot_check(
    session: AsyncSession, settings: Settings, actor: Actor, county_code: str, year: int
) -> list[RecipientSpotCheckRow]:
    """The year's draw of the county's recipients, once; later calls return the same draw."""
    check_role(actor, Action.DRAW_SPOT_CHECK)
    check_county(actor, Action.DRAW_SPOT_CHECK, county_code)
    pack = await rulepacks_repo.pack_for_county(session, county_code, settings.default_rule_pack)
    return await procedure_repo.annual_spot_check(
        session,
        county_code,
        year,
        f"{settings.spot_check_seed}:recipients:{county_code}:{year}",
        pack.spot_check_share,
        actor.id,
    )


async def spot_check_of(
    session: AsyncSession, actor: Actor, county_code: str, year: int
) -> list[RecipientSpotCheckRow]:
    check_role(actor, Action.READ_SPOT_CHECK)
    check_county(actor, Action.READ_SPOT_CHECK, county_code)
    return await procedure_repo.annual_rows(session, county_code, year)


# --- a county's change of standard ----------------------------------------------------------


async def start_standard_change(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    actor: Actor,
    county_code: str,
    *,
    urban_fen: int,
    rural_fen: int,
    effective_month: str,
    idempotency_key: str | None,
) -> StandardChangeProgress:
    """Record the county's new standards from a month and apply them to every recipient (a
    batch workflow); 422 by field when the pack bounds refuse them."""
    check_role(actor, Action.CHANGE_STANDARD)
    check_county(actor, Action.CHANGE_STANDARD, county_code)
    # Bounded by the county's pack: no month before it went live or beyond its horizon (a
    # change from 0000-01 once stopped households), no standard no county could mean.
    pack = await rulepacks_repo.pack_for_county(session, county_code, settings.default_rule_pack)
    problems = standard_change_problems(
        urban_fen, rural_fen, effective_month, pack, china_date(datetime.now(UTC))
    )
    if problems:
        raise errors.unprocessable(problems)
    token = (
        hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        if idempotency_key
        else uuid.uuid4().hex[:12]
    )
    batch_id = f"SC-{county_code}-{effective_month}-{token}"
    request = StandardChangeInput(
        batch_id=batch_id,
        county_code=county_code,
        urban_standard_fen_month=urban_fen,
        rural_standard_fen_year=rural_fen,
        effective_month=effective_month,
        requested_by=actor,
        page_size=settings.batch_page_size,
        concurrency=settings.batch_concurrency,
        cases_per_run=settings.batch_cases_per_run,
    )
    handle = await client.start_workflow(
        StandardChangeWorkflow.run,
        request,
        id=batch_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await handle.query(StandardChangeWorkflow.progress)
