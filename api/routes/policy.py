"""Office-maintained policy data: the holiday calendar beyond the official one, rule packs and
the pack each county uses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api import errors, policy_service
from api.deps import AUTHENTICATED, SessionDep, SettingsDep, require
from api.fields import Day, Line
from api.responses import documented
from api.schemas import Strict
from dibao.db import calendar_repo, rulepacks_repo
from dibao.db.policy_models import CountyRulePackRow
from dibao.domain.access import Action
from dibao.domain.calendar import DaySource, YearStatus
from dibao.messages.case import Actor

router = APIRouter(
    tags=["policy"],
    dependencies=[*AUTHENTICATED, Depends(require(Action.READ_POLICY))],
    responses=documented(401, 403, 404, 413, 422),
)

_INVALID = {"description": "invalid input: `detail` lists each field path and reason"}

Year = Annotated[int, Path(ge=1, le=9999, description="calendar year", examples=[2027])]
CountyCode = Annotated[
    str, Path(pattern=r"^[0-9]{6}$", description="6-digit county code", examples=["610423"])
]
PackId = Annotated[
    str, Path(max_length=40, pattern=r"^[A-Za-z0-9._-]+$", examples=["seed-default"])
]


# --- bodies ---------------------------------------------------------------------------------


class CalendarDayIn(Strict):
    # strict: "yes" or 1 for a holiday flag is more likely a mistake than a wish.
    is_working_day: bool = Field(strict=True, description="false for a holiday")
    note: Line = Field(default="", max_length=100, examples=["国庆节", "调休上班"])


class CalendarDayOut(BaseModel):
    day: date
    is_working_day: bool
    note: str
    source: DaySource = Field(description="official: chinese-calendar; office: entered here")
    updated_by: str | None = None
    updated_at: datetime | None = None


class CalendarYearOut(BaseModel):
    year: int
    status: YearStatus = Field(
        description="official: the State Council calendar as packaged; office_entered: the "
        "office entered the year's arrangement; not_covered: weekends only"
    )
    published_by: str | None = None
    published_note: str | None = None
    published_at: datetime | None = None
    warning: str | None = None
    days: list[CalendarDayOut]


class CalendarDaySetOut(BaseModel):
    day: CalendarDayOut
    year_status: YearStatus
    warning: str | None = None


class RulePackSummaryOut(BaseModel):
    id: str
    version: int = Field(description="the latest version")
    title: str
    created_at: datetime
    created_by: str


class RulePackOut(BaseModel):
    id: str
    version: int
    title: str
    params: dict[str, Any] = Field(description="the pack's parameters, as cases pin them")
    created_at: datetime
    created_by: str


class CountyRulePackIn(Strict):
    pack_id: Line = Field(min_length=1, max_length=40, examples=["mca-2021"])


class CountyRulePackOut(BaseModel):
    county_code: str
    assigned: bool = Field(description="false: no assignment, the service default applies")
    pack_id: str
    version: int = Field(description="the pack's latest version, which new cases pin")
    title: str
    assigned_by: str | None = None
    assigned_at: datetime | None = None


# --- calendar -------------------------------------------------------------------------------


@router.get(
    "/calendar/{year}",
    response_model=CalendarYearOut,
    responses={422: _INVALID},
    summary="A year's holidays and make-up working days, and where they come from",
)
async def get_calendar_year(year: Year, session: SessionDep) -> CalendarYearOut:
    calendar = await calendar_repo.list_year(session, year)
    published = calendar.published
    return CalendarYearOut(
        year=year,
        status=calendar.status,
        published_by=published.published_by if published else None,
        published_note=published.note if published else None,
        published_at=published.updated_at if published else None,
        warning=calendar.warning,
        days=[CalendarDayOut.model_validate(d, from_attributes=True) for d in calendar.days],
    )


@router.put(
    "/calendar/days/{day}",
    response_model=CalendarDaySetOut,
    responses={422: _INVALID},
    summary="Enter or correct one day (a holiday or a make-up working day)",
)
async def put_calendar_day(
    day: Day,
    body: CalendarDayIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Action.EDIT_CALENDAR))],
) -> CalendarDaySetOut:
    row = await calendar_repo.set_day(
        session, day, is_working_day=body.is_working_day, note=body.note, updated_by=actor.id
    )
    calendar = await calendar_repo.list_year(session, day.year)
    return CalendarDaySetOut(
        day=CalendarDayOut(
            day=row.day,
            is_working_day=row.is_working_day,
            note=row.note,
            source=DaySource.OFFICE,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        ),
        year_status=calendar.status,
        warning=calendar.warning,
    )


# --- rule packs -----------------------------------------------------------------------------


@router.get(
    "/rule-packs", response_model=list[RulePackSummaryOut], summary="Every rule pack, latest"
)
async def list_rule_packs(session: SessionDep) -> list[RulePackSummaryOut]:
    rows = await rulepacks_repo.list_packs(session)
    return [RulePackSummaryOut.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/rule-packs/{pack_id}", response_model=RulePackOut, summary="A rule pack's latest version"
)
async def get_rule_pack(pack_id: PackId, session: SessionDep) -> RulePackOut:
    row = await rulepacks_repo.get_pack_row(session, pack_id)
    if row is None:
        raise errors.not_found(f"rule pack {pack_id}")
    return RulePackOut.model_validate(row, from_attributes=True)


@router.get(
    "/rule-packs/{pack_id}/versions/{version}",
    response_model=RulePackOut,
    summary="One version of a rule pack, as cases that pinned it read it",
)
async def get_rule_pack_version(
    pack_id: PackId, version: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> RulePackOut:
    row = await rulepacks_repo.get_pack_row(session, pack_id, version)
    if row is None:
        raise errors.not_found(f"rule pack {pack_id} version {version}")
    return RulePackOut.model_validate(row, from_attributes=True)


# --- counties -------------------------------------------------------------------------------


async def _county_out(
    session: AsyncSession, county_code: str, assignment: CountyRulePackRow | None, default: str
) -> CountyRulePackOut:
    pack_id = assignment.pack_id if assignment is not None else default
    row = await rulepacks_repo.get_pack_row(session, pack_id)
    if row is None:
        raise errors.unavailable(f"the rule pack {pack_id} is not in the database")
    return CountyRulePackOut(
        county_code=county_code,
        assigned=assignment is not None,
        pack_id=row.id,
        version=row.version,
        title=row.title,
        assigned_by=assignment.assigned_by if assignment else None,
        assigned_at=assignment.assigned_at if assignment else None,
    )


@router.put(
    "/counties/{county_code}/rule-pack",
    response_model=CountyRulePackOut,
    responses={422: _INVALID},
    summary="Choose the rule pack for a county's new cases",
)
async def put_county_rule_pack(
    county_code: CountyCode,
    body: CountyRulePackIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Action.ASSIGN_RULE_PACK))],
) -> CountyRulePackOut:
    assignment = await policy_service.assign_county_pack(session, actor, county_code, body.pack_id)
    return await _county_out(session, county_code, assignment, settings.default_rule_pack)


@router.get(
    "/counties/{county_code}/rule-pack",
    response_model=CountyRulePackOut,
    responses={422: _INVALID},
    summary="The rule pack a county's new cases use",
)
async def get_county_rule_pack(
    county_code: CountyCode, session: SessionDep, settings: SettingsDep
) -> CountyRulePackOut:
    assignment = await rulepacks_repo.county_assignment(session, county_code)
    return await _county_out(session, county_code, assignment, settings.default_rule_pack)
