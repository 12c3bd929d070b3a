"""发放: a county's payroll runs in the console, through api/payroll_service (the API's own
service layer): build a period (the page refreshes itself while the workflow builds it),
preview the roster a page at a time with its totals and checksum, download the bank file and
the roster, release by a second user (审核; its maker is not offered the button, and the
workflow refuses a forged release with its reason), discard a draft with a reason, the
county's schedule, and the households held back from the bank file with why.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.service import RPCError

from api import errors, payroll_service
from api.deps import check_county, check_role, client_dep, sessions_dep
from api.paging import decode_time_key, encode_key
from api.payroll_schedule import describe_schedule, ensure_schedule
from api.routes.payroll import streamed
from console.errors import field_errors
from console.errors_zh import message_zh
from console.render import HEADERS, register_page, render
from console.session import ConsoleFormDep, ConsoleUser, ConsoleUserDep
from dibao.db import payroll_repo, payroll_view_repo
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.calendar import china_date
from dibao.domain.payroll import (
    LINE_LABELS,
    Cadence,
    RunStatus,
    month_of,
    period_label,
)
from dibao.settings import Settings

router = APIRouter()
register_page("/console/payroll")

# How long the build form waits for the roster before showing the progress page instead.
BUILD_WAIT = 3.0
# The progress page reloads itself this often (a <meta refresh>: no script needed).
REFRESH_SECONDS = 2
_RUN_ID = re.compile(r"^PR-\d{6}-\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")
_CASE_ID = re.compile(r"^DB-[0-9A-Z]{12}$")

HELD_ZH = {
    payroll_view_repo.HeldReason.NO_ACCOUNT: "没有收款账户：不进银行文件，录入账户后下期补发",
    payroll_view_repo.HeldReason.AGENT_WITHOUT_REASON: "由代领人领取但未写明代领原因：请补录收款账户的代领原因",
}
STATUS_ZH = {"building": "生成中", "draft": "待审核", "released": "已发放"}


def building_zh(detail: str | None) -> str:
    """The build's state (dibao.domain.payroll.build_status) in the office's words."""
    text = detail or "building"
    if "PendingDraft" in text:
        return "等待本县另一期花名册审核发放或作废后再生成（上次错误：PendingDraft），系统自动重试"
    retry = re.search(r"attempt (\d+)(?:, last error: ([^)]+))?", text)
    if retry:
        out = f"上次中断，正在重试（第 {retry.group(1)} 次"
        out += f"，上次错误：{retry.group(2)}）" if retry.group(2) else "）"
        if "waiting for a worker" in text:
            out += "；等待后台服务接手"
        return out
    silent = re.search(r"has not reported for (\d+) s", text)
    if silent:
        return f"后台服务已 {silent.group(1)} 秒没有响应，超时后将自动在其他后台服务上重试"
    if "waiting for a worker" in text:
        return "等待后台服务（worker）接手：请确认 worker 正在运行"
    return "正在生成花名册和银行文件"


def _may(user: ConsoleUser, action: Action) -> bool:
    return access.county_action_denial(user.actor, action, user.jurisdiction[:6]) is None


def _default_period() -> str:
    today = china_date(datetime.now(UTC))
    return month_of(today.year, today.month)


async def _index(
    request: Request,
    user: ConsoleUser,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: object = None,
    note: str = "",
    after: str | None = None,
) -> Response:
    check_role(user.actor, Action.READ_PAYROLL)
    county = user.jurisdiction[:6]
    key = _run_key(after)
    async with sessions_dep(request)() as session:
        # One row past the page: whether older runs follow.
        runs = await payroll_view_repo.runs_page(session, county, RUNS_PAGE + 1, key)
    older_link = None
    if len(runs) > RUNS_PAGE:
        runs = runs[:RUNS_PAGE]
        cursor = encode_key(runs[-1].built_at, runs[-1].run_id)
        older_link = "/console/payroll?" + urlencode({"after": cursor})
    schedule = None
    schedule_error = ""
    try:
        schedule = await describe_schedule(client_dep(request), county)
    except RPCError:
        schedule_error = "Temporal 暂时无法访问，发放计划未能读取"
    return await render(
        request,
        "console/payroll.html",
        status_code=status_code,
        county=county,
        runs=runs,
        older_link=older_link,
        status_zh=STATUS_ZH,
        period_label=period_label,
        may_build=_may(user, Action.BUILD_PAYROLL),
        schedule=schedule,
        schedule_error=schedule_error,
        cadences=[(Cadence.MONTHLY.value, "按月"), (Cadence.QUARTERLY.value, "按季度")],
        note=note,
        errors=errors or {},
        values=values or {"period": _default_period()},
    )


# The runs' table a page at a time, newest first: a county's runs grow by twelve a year.
RUNS_PAGE = 24


def _run_key(raw: str | None) -> tuple[datetime, str] | None:
    """The `after` of a runs page (a cursor of api.paging); anything else: the newest runs."""
    if not raw:
        return None
    try:
        return decode_time_key(raw, str)
    except HTTPException:
        return None


@router.get("/payroll", include_in_schema=False)
async def payroll_page(
    request: Request,
    user: ConsoleUserDep,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return await _index(request, user, after=after)


@router.get("/payroll/held", include_in_schema=False)
async def held_page(request: Request, user: ConsoleUserDep, after: str = "") -> Response:
    """The households held back, on a page of their own: finding them reads every receiving
    household of the county (≈0.6 s at 100,000 when none is held), which the runs' page
    should not wait for."""
    check_role(user.actor, Action.READ_PAYROLL)
    if after and not _CASE_ID.match(after):
        after = ""
    county = user.jurisdiction[:6]
    async with sessions_dep(request)() as session:
        held = await payroll_view_repo.held_back(session, county, after, payroll_view_repo.PAGE + 1)
    more = held[payroll_view_repo.PAGE - 1].case_id if len(held) > payroll_view_repo.PAGE else ""
    return await render(
        request,
        "console/payroll_held.html",
        county=county,
        held=held[: payroll_view_repo.PAGE],
        more=more,
        after=after,
        held_zh=HELD_ZH,
    )


@router.post("/payroll/runs", include_in_schema=False)
async def build_run(request: Request, form: ConsoleFormDep) -> Response:
    period = form.get("period").strip()[:7]
    settings: Settings = request.app.state.settings
    try:
        built = await payroll_service.build(
            sessions_dep(request),
            client_dep(request),
            settings,
            form.actor,
            form.user.jurisdiction[:6],
            period,
            wait=BUILD_WAIT,
        )
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        found = field_errors(exc) if exc.status_code == 422 else {"period": errors_message(exc)}
        return await _index(
            request,
            form.user,
            status_code=exc.status_code,
            errors={k or "period": message_zh(v) for k, v in found.items()},
            values=form.data,
        )
    return RedirectResponse(f"/console/payroll/runs/{built.run_id}", status_code=303)


def errors_message(exc: HTTPException) -> str:
    detail = exc.detail
    return str(detail.get("message", "")) if isinstance(detail, dict) else str(detail)


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID.match(run_id):
        raise errors.not_found(f"payroll run {run_id}")


@router.get("/payroll/runs/{run_id}", include_in_schema=False)
async def run_page(
    request: Request, run_id: str, user: ConsoleUserDep, after: str = "", discard: str = ""
) -> Response:
    _check_run_id(run_id)
    if after and not _CASE_ID.match(after):
        after = ""
    sessions = sessions_dep(request)
    check_role(user.actor, Action.READ_PAYROLL)
    async with sessions() as session:
        row = await payroll_repo.get_run(session, run_id)
    if row is None:
        built = await payroll_service.building(client_dep(request), user.actor, run_id)
        return await render(
            request,
            "console/payroll_building.html",
            built=built,
            detail=building_zh(built.status_detail),
            refresh=REFRESH_SECONDS,
            period_label=period_label,
        )
    check_county(user.actor, Action.READ_PAYROLL, row.county_code)
    async with sessions() as session:
        page = await payroll_view_repo.roster_page(
            session, run_id, after, payroll_view_repo.PAGE + 1
        )
        discards = await payroll_repo.discards(session, run_id)
    more = page[payroll_view_repo.PAGE - 1].case_id if len(page) > payroll_view_repo.PAGE else ""
    draft = row.status == RunStatus.DRAFT.value
    may_release = draft and _may(user, Action.RELEASE_PAYROLL)
    return await render(
        request,
        "console/payroll_run.html",
        row=row,
        rows=page[: payroll_view_repo.PAGE],
        more=more,
        after=after,
        discards=discards,
        status_zh=STATUS_ZH,
        line_zh=LINE_LABELS,
        period_label=period_label,
        # Four eyes: the maker (制表人) is not offered the release; the workflow refuses it too.
        offer_release=may_release and row.maker != user.user_id,
        maker_is_me=row.maker == user.user_id,
        may_release=may_release,
        errors={"reason": "作废须写明理由（将记入作废记录）"} if discard == "reason" else {},
    )


@router.get("/payroll/runs/{run_id}/bank-file", include_in_schema=False)
async def bank_file(request: Request, run_id: str, user: ConsoleUserDep) -> Response:
    _check_run_id(run_id)
    await payroll_service.readable_run(sessions_dep(request), user.actor, run_id)
    stored = await payroll_repo.open_file(sessions_dep(request), run_id, payroll_repo.RunFile.BANK)
    if stored is None:
        raise errors.not_found(f"payroll run {run_id}")
    return streamed(
        stored,
        "text/csv; charset=utf-8",
        {
            **HEADERS,
            "Content-Disposition": f'attachment; filename="{run_id}.csv"',
            "X-Content-SHA256": stored.bank_file_sha256,
        },
    )


@router.get("/payroll/runs/{run_id}/roster", include_in_schema=False)
async def roster(request: Request, run_id: str, user: ConsoleUserDep) -> Response:
    """The 花名册 as built, for printing and signing (it carries its own print styles)."""
    _check_run_id(run_id)
    await payroll_service.readable_run(sessions_dep(request), user.actor, run_id)
    stored = await payroll_repo.open_file(
        sessions_dep(request), run_id, payroll_repo.RunFile.ROSTER
    )
    if stored is None:
        raise errors.not_found(f"payroll run {run_id}")
    return streamed(
        stored,
        "text/html; charset=utf-8",
        {
            **HEADERS,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        },
    )


@router.post("/payroll/runs/{run_id}/release", include_in_schema=False)
async def release(request: Request, run_id: str, form: ConsoleFormDep) -> Response:
    _check_run_id(run_id)
    released = await payroll_service.release(
        sessions_dep(request),
        client_dep(request),
        request.app.state.settings,
        form.actor,
        run_id,
        form.request_id,
    )
    if isinstance(released, payroll_service.QueuedAction):
        return await render(
            request,
            "console/payroll_queued.html",
            status_code=202,
            run_id=run_id,
            what="审核发放",
        )
    return RedirectResponse(f"/console/payroll/runs/{run_id}", status_code=303)


@router.post("/payroll/runs/{run_id}/discard", include_in_schema=False)
async def discard(request: Request, run_id: str, form: ConsoleFormDep) -> Response:
    _check_run_id(run_id)
    reason = form.get("reason").strip()[:1000]
    if not reason:
        # Nothing is discarded without its reason; the run page again, the error at the field.
        check_role(form.actor, Action.RELEASE_PAYROLL)
        return RedirectResponse(f"/console/payroll/runs/{run_id}?discard=reason", status_code=303)
    done = await payroll_service.discard(
        sessions_dep(request),
        client_dep(request),
        request.app.state.settings,
        form.actor,
        run_id,
        reason,
        form.request_id,
    )
    if isinstance(done, payroll_service.QueuedAction):
        return await render(
            request,
            "console/payroll_queued.html",
            status_code=202,
            run_id=run_id,
            what="作废",
        )
    return await _index(request, form.user, note=f"{run_id} 已作废：{reason}")


@router.post("/payroll/schedule", include_in_schema=False)
async def schedule(request: Request, form: ConsoleFormDep) -> Response:
    county = form.user.jurisdiction[:6]
    # The schedule starts the county's payroll every period: whoever writes it must be allowed
    # to build that payroll, as `dibao payroll schedule` requires.
    check_role(form.actor, Action.BUILD_PAYROLL)
    check_county(form.actor, Action.BUILD_PAYROLL, county)
    cadence = form.get("cadence")
    if cadence not in {c.value for c in Cadence}:
        return await _index(
            request, form.user, status_code=422, errors={"cadence": "请选择按月或按季度"}
        )
    try:
        await ensure_schedule(client_dep(request), request.app.state.settings, county, cadence)
    except RPCError as err:
        raise errors.unavailable("the payroll schedule could not be written; repeat") from err
    return RedirectResponse("/console/payroll", status_code=303)
