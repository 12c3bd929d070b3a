"""The yearly spot check of recipients (年度抽查): drawn once per county and year, recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from api import errors, policy_service
from api.deps import AUTHENTICATED, ReadSessionDep, SessionDep, SettingsDep, require
from api.responses import documented
from dibao.db.procedure_models import RecipientSpotCheckRow
from dibao.domain.access import Action
from dibao.messages.case import Actor

router = APIRouter(
    tags=["spot checks"],
    dependencies=AUTHENTICATED,
    responses=documented(401, 403, 404, 422, r404="no draw recorded for that county and year"),
)

County = Annotated[str, Path(pattern=r"^\d{6}$")]
Year = Annotated[int, Path(ge=2000, le=2100)]


class SpotCheckOut(BaseModel):
    county_code: str
    year: int
    seed: str
    recipients: int
    selected: list[str]
    drawn_by: str


def _out(county: str, year: int, rows: list[RecipientSpotCheckRow]) -> SpotCheckOut:
    return SpotCheckOut(
        county_code=county,
        year=year,
        seed=rows[0].seed if rows else "",
        recipients=len(rows),
        selected=[r.case_id for r in rows if r.selected],
        drawn_by=rows[0].drawn_by if rows else "",
    )


@router.post(
    "/counties/{county_code}/spot-checks/{year}",
    response_model=SpotCheckOut,
    summary="Draw the year's recipients for home visits (at least the pack's share, 20%)",
)
async def draw(
    county_code: County,
    year: Year,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Action.DRAW_SPOT_CHECK))],
) -> SpotCheckOut:
    rows = await policy_service.draw_spot_check(session, settings, actor, county_code, year)
    return _out(county_code, year, rows)


@router.get(
    "/counties/{county_code}/spot-checks/{year}",
    response_model=SpotCheckOut,
    summary="The recorded draw of the year",
)
async def show(
    county_code: County,
    year: Year,
    session: ReadSessionDep,
    actor: Annotated[Actor, Depends(require(Action.READ_SPOT_CHECK))],
) -> SpotCheckOut:
    rows = await policy_service.spot_check_of(session, actor, county_code, year)
    if not rows:
        raise errors.not_found(f"spot check of {county_code} for {year}")
    return _out(county_code, year, rows)
