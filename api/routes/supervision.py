"""Supervision: stuck and overdue cases, alerts, and the Prometheus metrics of the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api import supervision_service
from api.deps import ReadSessionDep, SessionDep, require
from api.fields import Offset
from api.ops_schemas import AlertOut, StuckCaseOut, StuckListOut, TownshipCountOut
from api.outage import outage_out
from api.paging import NEXT_HEADER, After, decode_time_key, encode_key
from api.responses import documented
from dibao.db import supervision_repo
from dibao.domain.access import Action
from dibao.domain.enums import Role, Stage
from dibao.domain.ops import StuckReason
from dibao.messages.case import Actor
from dibao.metrics import case_gauges

router = APIRouter(tags=["supervision"], responses=documented(401, 403, 422))

SupervisorDep = Annotated[Actor, Depends(require(Action.SUPERVISE))]

CountyCode = Annotated[str | None, Query(pattern=r"^\d{6}$")]
TownshipCode = Annotated[str | None, Query(pattern=r"^\d{9}$")]
VillageCode = Annotated[str | None, Query(pattern=r"^\d{12}$")]


@router.get(
    "/supervision/stuck",
    response_model=StuckListOut,
    summary="Stuck cases: past the stage deadline, a failing step, or idle; counts per township",
)
async def stuck(
    session: ReadSessionDep,
    actor: SupervisorDep,
    county: CountyCode = None,
    township: TownshipCode = None,
    village: VillageCode = None,
    stage: Stage | None = None,
    assignee: Annotated[
        Role | None, Query(description="the role whose move it is, e.g. township_caseworker")
    ] = None,
    reason: StuckReason | None = None,
    idle_days: Annotated[
        int, Query(ge=0, le=3650, description="idle: no step for more than this many days")
    ] = 10,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    after: After = None,
) -> StuckListOut:
    now = datetime.now(UTC)
    page = await supervision_service.stuck(
        session,
        actor,
        supervision_service.StuckQuery(
            county=county,
            township=township,
            village=village,
            stage=stage,
            assignee=assignee,
            reason=reason,
            idle_days=idle_days,
        ),
        now,
        # One row past the page: whether there is a next one.
        limit=limit + 1,
        offset=offset,
        after=supervision_repo.StuckKey(*decode_time_key(after, str)) if after else None,
        with_outage=True,
    )
    more = len(page.items) > limit
    items = page.items[:limit]
    last = supervision_repo.page_key(items[-1]) if more else None
    return StuckListOut(
        total=page.total,
        items=[StuckCaseOut.model_validate(c, from_attributes=True) for c in items],
        next=encode_key(last.sort_at, last.case_id) if last is not None else None,
        by_township=[TownshipCountOut(township_code=t, cases=n) for t, n in page.by_township],
        as_of=now,
        idle_days=idle_days,
        database_outage=outage_out(page.outage) if page.outage is not None else None,
    )


@router.get(
    "/supervision/alerts",
    response_model=list[AlertOut],
    summary="Alerts to supervisors (stage deadlines passed), newest first; the next page's "
    "cursor (for `after=`) in the X-Next-After header",
)
async def alerts(
    response: Response,
    session: ReadSessionDep,
    actor: SupervisorDep,
    county: CountyCode = None,
    township: TownshipCode = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: After = None,
) -> list[AlertOut]:
    # One row past the page: whether there is a next one.
    rows = await supervision_service.alerts(
        session,
        actor,
        county,
        township,
        limit + 1,
        after=decode_time_key(after, int) if after else None,
    )
    if len(rows) > limit:
        rows = rows[:limit]
        # The body stays a list (as before cursors); the next page's cursor is a header.
        response.headers[NEXT_HEADER] = encode_key(rows[-1].raised_at, rows[-1].id)
    return [AlertOut.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/metrics",
    summary="Prometheus metrics: cases by stage, overdue cases, failing steps, open incidents",
    response_class=Response,
)
async def metrics(session: SessionDep) -> Response:
    counts = await supervision_repo.case_counts(session, datetime.now(UTC))
    registry = CollectorRegistry()
    by_stage, overdue, incidents, failing = case_gauges(registry)
    for stage_name, status, n in counts["by_stage"]:
        by_stage.labels(stage_name, status).set(n)
    overdue.set(counts["overdue"])
    incidents.set(counts["incidents"])
    failing.set(counts["failing"])
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
