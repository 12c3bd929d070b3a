"""What supervisors read, for the API's /supervision routes and the console's 监督 page alike:
the stuck list narrowed to the actor's jurisdiction, and the alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api import errors
from dibao.db import ops_repo, supervision_repo
from dibao.db.ops_models import SupervisorAlertRow
from dibao.domain import access
from dibao.domain.access import ListScope
from dibao.domain.enums import Role, Stage
from dibao.domain.ops import StuckReason
from dibao.messages.case import Actor


@dataclass(frozen=True)
class StuckQuery:
    county: str | None = None
    township: str | None = None
    village: str | None = None
    stage: Stage | None = None
    assignee: Role | None = None
    reason: StuckReason | None = None
    idle_days: int = 10


@dataclass(frozen=True)
class StuckPage:
    items: list[supervision_repo.StuckCase]
    by_township: list[tuple[str, int]]
    scope: ListScope
    as_of: datetime
    outage: supervision_repo.LastOutage | None = None  # read with the list when asked for

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_township)


def scope_of(
    actor: Actor, county: str | None, township: str | None, village: str | None
) -> ListScope:
    """The filters narrowed to the actor's jurisdiction; 403 for a place outside it."""
    scope = access.list_scope(actor.jurisdiction, county, township, village)
    if isinstance(scope, str):
        raise errors.forbidden(scope)
    return scope


async def stuck(
    session: AsyncSession,
    actor: Actor,
    query: StuckQuery,
    now: datetime,
    *,
    limit: int = 100,
    offset: int = 0,
    after: supervision_repo.StuckKey | None = None,
    with_outage: bool = False,
) -> StuckPage:
    scope = scope_of(actor, query.county, query.township, query.village)
    flt = supervision_repo.StuckFilter(
        now=now,
        idle_days=query.idle_days,
        county_code=scope.county,
        township_code=scope.township,
        village_code=scope.village,
        stage=query.stage,
        assignee=query.assignee,
        reason=query.reason,
    )
    answer = await supervision_repo.stuck_answer(
        session, flt, limit, offset, after=after, with_outage=with_outage
    )
    return StuckPage(
        items=answer.items,
        by_township=answer.counts,
        scope=scope,
        as_of=now,
        outage=answer.outage,
    )


async def alerts(
    session: AsyncSession,
    actor: Actor,
    county: str | None = None,
    township: str | None = None,
    limit: int = 100,
    *,
    after: tuple[datetime, int] | None = None,
) -> list[SupervisorAlertRow]:
    scope = scope_of(actor, county, township, None)
    return await ops_repo.list_alerts(
        session, county_code=scope.county, township_code=scope.township, limit=limit, after=after
    )
