"""监督 (supervision): the stuck list with its reasons and filters, the charts a supervisor
reads first (stuck cases per township, overdue cases by stage, cases filed, closed and gone
overdue per week) and the alerts with their state. Read only: every link leads to the
household's file, where a supervisor or auditor is offered no action.

The filters are a GET form (an address a supervisor can bookmark or send); the list pages by
key, as the stuck list's order (longest waiting first) gives it.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api import supervision_service
from api.deps import check_role, sessions_dep
from console import charts, labels
from console.render import place_names, register_page, render
from console.session import ConsoleUserDep
from dibao.db import supervision_repo
from dibao.domain.access import Action
from dibao.domain.enums import Role, Stage
from dibao.domain.ops import WAITING_ROLE, StuckReason

router = APIRouter()
register_page("/console/supervision")

PAGE_SIZE = 50

REASONS: dict[StuckReason, str] = {
    StuckReason.OVERDUE: "超期",
    StuckReason.FAILING: "步骤失败（系统重试中）",
    StuckReason.INCIDENT: "故障待运维处理",
    StuckReason.IDLE: "久未办理",
}
ALERT_KINDS = {
    "overdue": "环节超期",
    "procedure_overdue": "审核确认总时限超期",
    "gradual_exit": "渐退期将满",
}
ALERT_STATES = {
    supervision_repo.AlertState.OPEN: "仍超期",
    supervision_repo.AlertState.CLEARED: "已解除",
    supervision_repo.AlertState.CASE_CLOSED: "案件已办结",
    supervision_repo.AlertState.NOTICE: "提醒",
}
# Stages that wait for a person: the assignee filter's roles.
ASSIGNEES = sorted({r for r in WAITING_ROLE.values() if r is not None}, key=lambda r: r.value)

_CODE = {"county": (6, "县级区划代码应为6位数字"), "township": (9, "乡镇区划代码应为9位数字"),
         "village": (12, "村（社区）区划代码应为12位数字")}  # fmt: skip


def _parse(params: dict[str, str]) -> tuple[supervision_service.StuckQuery, dict[str, str]]:
    """The filters of the GET form, and what is wrong with them by field (in Chinese)."""
    errors: dict[str, str] = {}
    codes: dict[str, str | None] = {}
    for name, (digits, message) in _CODE.items():
        value = params.get(name, "").strip()
        if value and not re.fullmatch(rf"\d{{{digits}}}", value):
            errors[name] = message
            value = ""
        codes[name] = value or None
    stage = reason = assignee = None
    if params.get("stage"):
        try:
            stage = Stage(params["stage"])
        except ValueError:
            errors["stage"] = "请从列表中选择环节"
    if params.get("reason"):
        try:
            reason = StuckReason(params["reason"])
        except ValueError:
            errors["reason"] = "请从列表中选择原因"
    if params.get("assignee"):
        try:
            assignee = Role(params["assignee"])
        except ValueError:
            errors["assignee"] = "请从列表中选择经办角色"
    idle_days = 10
    raw_idle = params.get("idle_days", "").strip()
    if raw_idle:
        if raw_idle.isdigit() and int(raw_idle) <= 3650:
            idle_days = int(raw_idle)
        else:
            errors["idle_days"] = "请填写0至3650之间的整数天数"
    query = supervision_service.StuckQuery(
        county=codes["county"],
        township=codes["township"],
        village=codes["village"],
        stage=stage,
        assignee=assignee,
        reason=reason,
        idle_days=idle_days,
    )
    return query, errors


def _key(raw: str | None) -> supervision_repo.StuckKey | None:
    if not raw or "|" not in raw:
        return None
    at, _, case_id = raw.partition("|")
    try:
        return supervision_repo.StuckKey(datetime.fromisoformat(at), case_id[:32])
    except ValueError:
        return None


def _link(query: supervision_service.StuckQuery, **changes: str | None) -> str:
    """The list's address with these filters changed (None drops one)."""
    current: dict[str, str | None] = {
        "county": query.county,
        "township": query.township,
        "village": query.village,
        "stage": query.stage.value if query.stage else None,
        "assignee": query.assignee.value if query.assignee else None,
        "reason": query.reason.value if query.reason else None,
        "idle_days": str(query.idle_days) if query.idle_days != 10 else None,
    }
    current.update(changes)
    params = {k: v for k, v in current.items() if v}
    return "/console/supervision" + ("?" + urlencode(params) if params else "")


@router.get("/supervision", include_in_schema=False)
async def supervision_page(
    request: Request, user: ConsoleUserDep, after: str | None = None
) -> Response:
    actor = user.actor
    check_role(actor, Action.SUPERVISE)  # a 403 page for any other role, as the API answers
    params = {k: v for k, v in request.query_params.items() if k != "after"}
    query, errors = _parse(params)
    now = datetime.now(UTC)
    names = await place_names(request)
    scope = supervision_service.scope_of(actor, query.county, query.township, query.village)
    county, township, village = scope.county, scope.township, scope.village
    sessions = sessions_dep(request)

    async def stuck() -> supervision_service.StuckPage:
        async with sessions() as session:
            return await supervision_service.stuck(
                session, actor, query, now, limit=PAGE_SIZE + 1, after=_key(after)
            )

    async def overdue_stages() -> list[tuple[Stage, int]]:
        async with sessions() as session:
            return await supervision_repo.overdue_by_stage(
                session, now, county_code=county, township_code=township, village_code=village
            )

    async def weekly() -> list[supervision_repo.WeekCounts]:
        async with sessions() as session:
            return await _weekly(session, now, county, township, village)

    async def latest_alerts() -> list[supervision_repo.AlertWithState]:
        async with sessions() as session:
            return await supervision_repo.alerts_with_state(
                session, limit=20, county_code=county, township_code=township, village_code=village
            )

    # Four independent reads, each on its own connection: the page waits for the slowest,
    # not their sum.
    page, overdue, weeks, alerts = await asyncio.gather(
        stuck(), overdue_stages(), weekly(), latest_alerts()
    )
    items = page.items[:PAGE_SIZE]
    next_link = None
    if len(page.items) > PAGE_SIZE and items[-1].sort_at is not None:
        key = f"{items[-1].sort_at.isoformat()}|{items[-1].case_id}"
        base = _link(query)
        next_link = base + ("&" if "?" in base else "?") + urlencode({"after": key})
    township_chart = charts.hbar(
        "各乡镇（街道）滞留案件数",
        [
            (names.get(t, t), n, _link(query, township=t, village=None))
            for t, n in page.by_township[:20]
        ],
    )
    stage_chart = charts.hbar(
        "超期案件（按环节）",
        [
            (
                labels.zh("stage", s),
                n,
                _link(query, reason=StuckReason.OVERDUE.value, stage=s.value),
            )
            for s, n in overdue
        ],
        css="bar-bad",
    )
    overdue_link = _link(query, reason=StuckReason.OVERDUE.value)
    week_chart = charts.weekly(
        f"近{len(weeks)}周：新受理、办结与超期案件（每分钟更新）",
        [(w.week_start, (w.filed, w.closed, w.overdue), (None, None, overdue_link)) for w in weeks],
        (
            charts.Series("新受理", "filed"),
            charts.Series("办结", "closed"),
            charts.Series("超期", "overdue"),
        ),
    )
    context: dict[str, Any] = {
        "page": page,
        "items": items,
        "next_link": next_link,
        "first_link": _link(query) if after else None,
        "query": query,
        "values": params,
        "errors": errors,
        "township_chart": township_chart,
        "stage_chart": stage_chart,
        "week_chart": week_chart,
        "alerts": alerts,
        "reasons": REASONS,
        "alert_kinds": ALERT_KINDS,
        "alert_states": ALERT_STATES,
        "stage_choices": [(s.value, labels.zh("stage", s)) for s in Stage if s is not Stage.CLOSED],
        "reason_choices": [(r.value, text) for r, text in REASONS.items()],
        "assignee_choices": [(r.value, labels.zh("role", r)) for r in ASSIGNEES],
        "places": _places(names, user.jurisdiction),
        "now": now,
        "waiting_zh": _waiting_zh,
    }
    return await render(
        request,
        "console/supervision.html",
        status_code=422 if errors else 200,
        **context,
    )


# The weekly series changes by the day, yet counts every case of the weeks shown: read at most
# once a minute per area and process (the chart says so).
WEEKLY_TTL = 60.0
_weekly_cache: dict[tuple[str | None, ...], tuple[float, list[supervision_repo.WeekCounts]]] = {}


async def _weekly(
    session: AsyncSession,
    now: datetime,
    county: str | None,
    township: str | None,
    village: str | None,
) -> list[supervision_repo.WeekCounts]:
    key = (county, township, village)
    hit = _weekly_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < WEEKLY_TTL:
        return hit[1]
    weeks = await supervision_repo.weekly_counts(
        session, now, county_code=county, township_code=township, village_code=village
    )
    if len(_weekly_cache) > 1000:  # many areas looked at: start afresh rather than grow
        _weekly_cache.clear()
    _weekly_cache[key] = (time.monotonic(), weeks)
    return weeks


def forget_weekly_counts() -> None:
    _weekly_cache.clear()


def _places(names: dict[str, str], jurisdiction: str) -> dict[str, list[tuple[str, str]]]:
    """Known places within the user's jurisdiction, for the filter fields' suggestions."""
    out: dict[str, list[tuple[str, str]]] = {"county": [], "township": [], "village": []}
    for code, name in sorted(names.items()):
        if not (code.startswith(jurisdiction) or jurisdiction.startswith(code)):
            continue
        level = {6: "county", 9: "township", 12: "village"}.get(len(code))
        if level:
            out[level].append((code, name))
    return out


def _waiting_zh(case: supervision_repo.StuckCase) -> str:
    """What the case waits for, in the console's words."""
    if case.failing is not None:
        if case.failing.status == "incident":
            return f"运维处理：步骤 {case.failing.activity_type} 已失败 {case.failing.attempts} 次"
        return f"系统重试中：步骤 {case.failing.activity_type} 已失败 {case.failing.attempts} 次"
    return labels.zh("waiting", case.stage)
