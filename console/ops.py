"""运维 (operations): failing steps and incidents (filtered by step and age), a case as Temporal
sees it (pending activities with attempts, next retry and the last error decrypted), retry
(with corrected input), skip with a reason, retry of a selection with a result per case, and
failure drills to rehearse all this on `make dev`.

Retry and skip are the API's own case actions (api/routes/actions.py `act`: a workflow update,
validated and audited), sent with the page's request ID as the idempotency key. A retried
step counts as resolved only once it has actually run through (api/ops_service.retry_outcome).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import ops_service
from api.deps import check_case, check_case_access, check_role, sessions_dep
from api.ops_schemas import RetryStepIn, SkipStepIn
from api.routes.actions import act
from console.forms.common import refusal_of
from console.render import register_page, render
from console.session import ConsoleForm, ConsoleFormDep, ConsoleUserDep
from dibao.db import ops_repo
from dibao.db.ops_models import OpsDrillRow
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.ops import FailureStatus
from workflows.case import CaseWorkflow

router = APIRouter()
register_page("/console/ops")

PAGE_SIZE = 50
_CASE_ID = re.compile(r"^DB-[0-9A-Z]{12}$")
_INCIDENT_ID = re.compile(r"^I-[0-9A-Za-z-]{1,98}$")
_ACTIVITY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")

# Failed for longer than: the age filter's choices (hours).
AGES: tuple[tuple[str, str], ...] = (
    ("1", "1小时以上"),
    ("24", "1天以上"),
    ("72", "3天以上"),
    ("168", "7天以上"),
)
STATUS_ZH = {
    FailureStatus.INCIDENT.value: "故障（待处理）",
    FailureStatus.RETRYING.value: "重试中",
    FailureStatus.RETRIED.value: "已重试",
    FailureStatus.SKIPPED.value: "已跳过",
    FailureStatus.CLOSED.value: "已结案",
    FailureStatus.RECOVERED.value: "已自动恢复",
    FailureStatus.SUPERSEDED.value: "已被取代",
}
OUTCOME_ZH = {
    ops_service.RetryOutcome.WAITING: "重试已提交，等待案件接手",
    ops_service.RetryOutcome.SUCCEEDED: "已成功",
    ops_service.RetryOutcome.RETRYING: "仍在重试",
    ops_service.RetryOutcome.FAILED_AGAIN: "再次失败",
    ops_service.RetryOutcome.OTHER: "已另行处理",
}
# The activities a drill is usually run on (the walkthrough of docs/operations.md); any
# activity name may be typed.
DRILL_SUGGESTIONS = ("issue_notice", "verify_household", "append_audit", "record_stage")


def _actor_may_operate(user: Any) -> None:
    check_role(user.actor, Action.OPERATE)  # a 403 page for any other role, as the API answers


def _age_filter(raw: str | None, now: datetime) -> datetime | None:
    if raw and raw in {v for v, _ in AGES}:
        return now - timedelta(hours=int(raw))
    return None


def _key(raw: str | None) -> tuple[datetime, int] | None:
    if not raw or "|" not in raw:
        return None
    at, _, row_id = raw.partition("|")
    try:
        return datetime.fromisoformat(at), int(row_id)
    except ValueError:
        return None


async def _ops_page(
    request: Request,
    user: Any,
    *,
    activity: str | None = None,
    older_than: str | None = None,
    after: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    drill_errors: dict[str, str] | None = None,
    status_code: int = 200,
    request_id: str | None = None,
) -> Response:
    now = datetime.now(UTC)
    actor = user.actor
    scope = access.list_scope(actor.jurisdiction, None, None, None)
    county = scope.county if not isinstance(scope, str) else None
    activity = activity if activity and _ACTIVITY.match(activity) else None
    async with sessions_dep(request)() as session:
        rows, total = await ops_repo.list_failures(
            session,
            county_code=county,
            activity_type=activity,
            failed_before=_age_filter(older_than, now),
            after=_key(after),
            limit=PAGE_SIZE + 1,
        )
        steps = await ops_repo.failing_activity_types(session)
        drills = await ops_repo.list_drills(session)
    shown = [ops_service.incident_out(r) for r in rows[:PAGE_SIZE]]
    next_link = None
    if len(rows) > PAGE_SIZE:
        last = rows[PAGE_SIZE - 1].row
        params = {k: v for k, v in (("activity", activity), ("older_than", older_than)) if v}
        params["after"] = f"{last.first_failed_at.isoformat()}|{last.id}"
        next_link = "/console/ops?" + urlencode(params)
    context: dict[str, Any] = {
        "incidents": shown,
        "total": min(total, ops_repo.TOTAL_CAP),
        # Counted no further: "1000 项以上", not a number that looks exact.
        "total_capped": total > ops_repo.TOTAL_CAP,
        "next_link": next_link,
        "activity": activity or "",
        "older_than": older_than or "",
        "step_choices": [(a, f"{a}（{n}）") for a, n in steps],
        "age_choices": list(AGES),
        "drills": drills,
        "ui_link": request.app.state.settings.temporal_ui_workflow,
        "drill_suggestions": DRILL_SUGGESTIONS,
        "status_zh": STATUS_ZH,
        # One page, several forms with fields of distinct names: one dict of errors serves all.
        "errors": {**(errors or {}), **(drill_errors or {})},
        "values": values or {},
        "now": now,
    }
    if request_id:
        context["request_id"] = request_id
    return await render(request, "console/ops.html", status_code=status_code, **context)


@router.get("/ops", include_in_schema=False)
async def ops_page(
    request: Request,
    user: ConsoleUserDep,
    activity: str | None = None,
    older_than: str | None = None,
    after: str | None = None,
) -> Response:
    _actor_may_operate(user)
    return await _ops_page(request, user, activity=activity, older_than=older_than, after=after)


def _retry_key(request_id: str, incident_id: str) -> str:
    """One idempotency key per case of a batch: the same form sent twice retries each once."""
    return str(uuid.uuid5(uuid.UUID(request_id), incident_id))


async def _retry(
    request: Request, form: ConsoleForm, case_id: str, body: RetryStepIn, key: str
) -> Any:
    app = request.app
    sessions, client, settings = app.state.sessions, app.state.temporal, app.state.settings
    actor = form.actor
    case = await check_case_access(sessions, actor, Action.OPERATE, case_id)
    return await act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.retry_step,
        key,
        lambda rid: body.to_message(rid, actor),
        "retry-step",
        case,
    )


@router.post("/ops/retry-selected", include_in_schema=False)
async def retry_selected(request: Request, form: ConsoleFormDep) -> Response:
    """Retry every ticked incident with one reason; then the batch's result page (PRG)."""
    _actor_may_operate(form.user)
    chosen = [i for i in form.data.getlist("incident") if isinstance(i, str)]
    reason = form.get("reason").strip()
    errors: dict[str, str] = {}
    wrong = [i for i in chosen if not _INCIDENT_ID.match(i)]
    if not chosen or wrong:
        errors["incident"] = "请勾选要重试的故障（至少一项）"
    if len(chosen) > PAGE_SIZE:
        errors["incident"] = f"一次最多重试 {PAGE_SIZE} 项"
    if not reason:
        errors["reason"] = "请填写重试原因（记入审计日志）"
    elif len(reason) > 1000:
        errors["reason"] = "重试原因不能超过1000字"
    if errors:
        return await _ops_page(
            request,
            form.user,
            errors=errors,
            values={"reason": reason},
            status_code=422,
            request_id=form.request_id,
        )
    sent: list[str] = []
    refused: list[str] = []
    async with sessions_dep(request)() as session:
        found = {i: await ops_repo.incident_by_id(session, i) for i in dict.fromkeys(chosen)}
    for incident_id, row in found.items():
        if row is None or row.case_id is None:
            refused.append(incident_id)
            continue
        body = RetryStepIn(incident_id=incident_id, reason=reason)
        try:
            await _retry(request, form, row.case_id, body, _retry_key(form.request_id, incident_id))
        except HTTPException:
            # Already resolved by someone else, out of the user's jurisdiction, ...: its line
            # of the result says so; the others go ahead.
            refused.append(incident_id)
            continue
        sent.append(incident_id)
    query = [("i", i) for i in sent] + [("refused", i) for i in refused]
    return RedirectResponse("/console/ops/batch?" + urlencode(query), status_code=303)


@router.get("/ops/batch", include_in_schema=False)
async def batch_result(
    request: Request,
    user: ConsoleUserDep,
    i: Annotated[list[str] | None, Query(max_length=PAGE_SIZE)] = None,
    refused: Annotated[list[str] | None, Query(max_length=PAGE_SIZE)] = None,
) -> Response:
    """Per retried incident: still waiting, succeeded, still retrying or failed again. The page
    refreshes itself (a meta refresh, no script) until every line has settled."""
    _actor_may_operate(user)
    app = request.app
    lines = []
    async with sessions_dep(request)() as session:
        for incident_id in dict.fromkeys(x for x in i or [] if _INCIDENT_ID.match(x)):
            outcome, listing, again = await ops_service.retry_outcome(
                session, app.state.temporal, incident_id
            )
            row = listing.row if listing else None
            if row is not None and row.case_id is not None:
                # Only cases the user may operate on are described.
                await check_case(app.state.sessions, user.actor, Action.OPERATE, row.case_id)
            lines.append(
                {"incident_id": incident_id, "row": row, "outcome": outcome, "again": again}
            )
        refused_rows = []
        for incident_id in dict.fromkeys(x for x in refused or [] if _INCIDENT_ID.match(x)):
            refused_rows.append(
                {
                    "incident_id": incident_id,
                    "row": await ops_repo.incident_by_id(session, incident_id),
                }
            )
    settled = all(
        line["outcome"] not in (ops_service.RetryOutcome.WAITING, ops_service.RetryOutcome.RETRYING)
        for line in lines
    )
    return await render(
        request,
        "console/ops_batch.html",
        lines=lines,
        refused=refused_rows,
        settled=settled,
        outcome_zh=OUTCOME_ZH,
        status_zh=STATUS_ZH,
        refresh_seconds=2,
    )


@router.get("/ops/cases/{case_id}", include_in_schema=False)
async def ops_case(request: Request, case_id: str, user: ConsoleUserDep) -> Response:
    _actor_may_operate(user)
    return await _case_page(request, user, case_id)


async def _case_page(
    request: Request,
    user: Any,
    case_id: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    form_of: str = "",
    status_code: int = 200,
    request_id: str | None = None,
    refusal: str = "",
) -> Response:
    if not _CASE_ID.match(case_id):
        raise HTTPException(404, {"message": f"case {case_id[:40]} not found"})
    app = request.app
    await check_case(app.state.sessions, user.actor, Action.OPERATE, case_id)
    async with sessions_dep(request)() as session:
        described = await ops_service.describe(session, app.state.temporal, case_id)
    context: dict[str, Any] = {
        "d": described,
        "case_id": case_id,
        "ui_link": app.state.settings.temporal_ui_workflow(case_id),
        "status_zh": STATUS_ZH,
        "errors": errors or {},
        "values": values or {},
        "form_of": form_of,
        "refusal": refusal,
    }
    if request_id:
        context["request_id"] = request_id
    return await render(request, "console/ops_case.html", status_code=status_code, **context)


def _corrections(form: ConsoleForm) -> dict[str, str | int]:
    """The corrected fields typed in (blank: not corrected). An amount in fen is a whole
    number in the step's input, so it is sent as one."""
    out: dict[str, str | int] = {}
    for name, value in form.data.multi_items():
        if name.startswith("corrections.") and isinstance(value, str) and value.strip():
            field = name.removeprefix("corrections.")
            text = value.strip()
            out[field] = (
                int(text) if field.endswith("_fen") and re.fullmatch(r"-?\d{1,18}", text) else text
            )
    return out


def _validation_errors(err: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        name = ".".join(loc[:2]) if loc and loc[0] == "corrections" else ".".join(loc[:1])
        out.setdefault(name, _zh_validation(e))
    return out


def _zh_validation(e: Any) -> str:
    kind = str(e.get("type", ""))
    if kind == "string_too_short" or kind == "missing":
        return "请填写此项"
    if kind == "string_too_long":
        return "内容过长"
    return "内容有误：只能填写可打印的文字"


@router.post("/ops/cases/{case_id}/retry", include_in_schema=False)
async def retry_one(request: Request, case_id: str, form: ConsoleFormDep) -> Response:
    _actor_may_operate(form.user)
    incident_id = form.get("incident_id")
    reason = form.get("reason").strip()
    values = {k: v for k, v in form.data.items() if k not in ("csrf", "request_id")}
    try:
        body = RetryStepIn(
            incident_id=incident_id, reason=reason, corrections=_corrections(form) or None
        )
    except ValidationError as err:
        return await _case_page(
            request,
            form.user,
            case_id,
            errors=_validation_errors(err),
            values=values,
            form_of=f"retry/{incident_id}",
            status_code=422,
            request_id=form.request_id,
        )
    try:
        result = await _retry(request, form, case_id, body, form.request_id)
    except HTTPException as err:
        if err.status_code in (404, 403):
            raise
        return await _case_page(
            request,
            form.user,
            case_id,
            values=values,
            form_of=f"retry/{incident_id}",
            status_code=err.status_code,
            request_id=form.request_id,
            refusal=refusal_of(err),
        )
    if isinstance(result, JSONResponse):
        return await _case_page(
            request,
            form.user,
            case_id,
            status_code=202,
            refusal="已提交，正在排队等待处理（工作进程暂未接手）；可再次提交，不会重复办理",
        )
    return RedirectResponse("/console/ops/batch?" + urlencode({"i": incident_id}), status_code=303)


@router.post("/ops/cases/{case_id}/skip", include_in_schema=False)
async def skip_one(request: Request, case_id: str, form: ConsoleFormDep) -> Response:
    _actor_may_operate(form.user)
    incident_id = form.get("incident_id")
    reason = form.get("skip_reason").strip()
    values = {k: v for k, v in form.data.items() if k not in ("csrf", "request_id")}
    try:
        body = SkipStepIn(incident_id=incident_id, reason=reason)
    except ValidationError as err:
        errors = _validation_errors(err)
        if "reason" in errors:
            errors["skip_reason"] = errors.pop("reason")
        return await _case_page(
            request,
            form.user,
            case_id,
            errors=errors,
            values=values,
            form_of=f"skip/{incident_id}",
            status_code=422,
            request_id=form.request_id,
        )
    app = request.app
    sessions, client, settings = app.state.sessions, app.state.temporal, app.state.settings
    actor = form.actor
    try:
        case = await check_case_access(sessions, actor, Action.OPERATE, case_id)
        await act(
            sessions,
            client,
            settings,
            case_id,
            CaseWorkflow.skip_step,
            form.request_id,
            lambda rid: body.to_message(rid, actor),
            "skip-step",
            case,
        )
    except HTTPException as err:
        if err.status_code in (404, 403):
            raise
        return await _case_page(
            request,
            form.user,
            case_id,
            values=values,
            form_of=f"skip/{incident_id}",
            status_code=err.status_code,
            request_id=form.request_id,
            refusal=refusal_of(err),
        )
    return RedirectResponse(f"/console/ops/cases/{case_id}", status_code=303)


# --- drills ----------------------------------------------------------------------------------


@router.post("/ops/drills", include_in_schema=False)
async def start_drill(request: Request, form: ConsoleFormDep) -> Response:
    """Start a failure drill: the worker fails that activity (within its poll interval)."""
    _actor_may_operate(form.user)
    activity = form.get("activity_type").strip()
    case_id = form.get("case_id").strip().upper()
    message = form.get("message").strip() or "rehearsal"
    errors: dict[str, str] = {}
    if not _ACTIVITY.match(activity):
        errors["activity_type"] = "请填写步骤（活动）名称：小写字母、数字和下划线，如 issue_notice"
    if case_id and not _CASE_ID.match(case_id):
        errors["case_id"] = "案件编号格式应为 DB- 加12位字母数字；留空表示所有案件"
    if len(message) > 500:
        errors["message"] = "错误信息不能超过500字"
    if errors:
        values = {k: v for k, v in form.data.items() if k not in ("csrf", "request_id")}
        return await _ops_page(
            request,
            form.user,
            drill_errors=errors,
            values=values,
            status_code=422,
            request_id=form.request_id,
        )
    async with sessions_dep(request)() as session:
        await ops_repo.start_drill(
            session,
            OpsDrillRow(
                activity_type=activity,
                case_id=case_id or None,
                retryable=form.get("retryable") == "on",
                message=message,
                started_by=form.user.user_id,
            ),
        )
    return RedirectResponse("/console/ops#drills-h", status_code=303)


@router.post("/ops/drills/stop", include_in_schema=False)
async def stop_drill(request: Request, form: ConsoleFormDep) -> Response:
    _actor_may_operate(form.user)
    activity = form.get("activity_type").strip()
    async with sessions_dep(request)() as session:
        await ops_repo.stop_drills(session, activity if _ACTIVITY.match(activity) else None)
    return RedirectResponse("/console/ops#drills-h", status_code=303)
