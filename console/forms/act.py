"""Actions on a case at /console/cases/{case_id}/act/{key}: GET the form, POST it.

The forms are listed in console/actions.py (FORMS); each is parsed into the API's request model
and sent through the API's own `act` (or `raise_objection`), with the page's request ID as the
idempotency key, so a double click or a reload acts once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.case_service import read_case
from api.deps import check_case, check_case_access
from api.household_change import HouseholdChangeIn
from api.procedure_schemas import ObjectionIn
from api.routes.actions import act, raise_objection
from api.routes.household import report_household_change
from api.schemas import CaseOut
from console import labels
from console.errors import error_page
from console.formdata import flatten, parse, values_of
from console.forms.common import household_choices, page_errors, refusal_of, row_op, rows_shown
from console.forms.specs import FORMS, ActionForm, applies
from console.render import render
from console.session import ConsoleFormDep, ConsoleUser, ConsoleUserDep
from dibao.domain.access import Action
from dibao.domain.calendar import china_date

router = APIRouter()


def _on_fields(spec: ActionForm, errors: dict[str, str]) -> dict[str, str]:
    """The workflow names a field by its place in the domain message (`payee.account_no` of a
    payee change): put it at the form's own field of that name."""
    names = {f.name for f in spec.fields}
    out: dict[str, str] = {}
    for name, message in errors.items():
        _, _, rest = name.partition(".")
        out[rest if name not in names and rest in names else name] = message
    return out


async def _refused_page(request: Request, err: HTTPException) -> Response:
    return await error_page(request, err.status_code, refusal_of(err))


def prefill(spec: ActionForm, case: CaseOut, user: ConsoleUser) -> dict[str, Any]:
    """What a fresh form shows: a survey starts from the household as filed."""
    today = china_date(datetime.now(UTC))
    values: dict[str, Any] = {}
    app = case.application or {}
    if spec.household:
        values.update(
            flatten(
                {
                    "members": app.get("members", []),
                    "incomes": app.get("incomes", []),
                    "assets": app.get("assets", {}),
                }
            )
        )
        values["investigators"] = user.user_id
        values["surveyed_on"] = today.isoformat()
    for f in spec.fields:
        if f.kind == "date" and f.name not in values:
            values[f.name] = today.isoformat()
    if spec.action is Action.SIGN_IN:
        values["month"] = today.strftime("%Y-%m")
    if spec.action is Action.COUNTY_VISIT:
        values["visitors"] = user.user_id
    return {k: v for k, v in values.items() if v is not None}


def _members_of(case: CaseOut) -> list[tuple[str, str]]:
    # The household as it now is: a recipient's after family changes, else as filed.
    members = (case.recipient or {}).get("members") or (case.application or {}).get("members", [])
    return [(m["id_number"], m["name"]) for m in members]


async def _action_page(
    request: Request,
    spec: ActionForm,
    case: CaseOut,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    extra_rows: dict[str, int] | None = None,
    request_id: str | None = None,
    status_code: int = 200,
    refusal: str = "",
    applicable: bool = True,
) -> Response:
    context: dict[str, Any] = {
        "spec": spec,
        "applicable": applicable,
        "case": case,
        "values": values,
        "errors": errors or {},
        "rows": rows_shown(values, extra_rows or {}) if spec.household else {},
        "member_choices": _members_of(case),
        "refusal": refusal,
        **household_choices(),
    }
    if request_id:
        context["request_id"] = request_id
    return await render(request, "console/forms/action.html", status_code=status_code, **context)


async def _case_for(request: Request, user: ConsoleUser, spec: ActionForm, case_id: str) -> CaseOut:
    """The case, once the role table, jurisdiction and recusal allow the user this action."""
    app = request.app
    await check_case(app.state.sessions, user.actor, spec.action, case_id)
    return await read_case(app.state.sessions, app.state.temporal, case_id)


@router.get("/cases/{case_id}/act/{key}", include_in_schema=False)
async def action_form(request: Request, case_id: str, key: str, user: ConsoleUserDep) -> Response:
    spec = FORMS.get(key)
    if spec is None or len(case_id) > 32:
        return await _refused_page(request, HTTPException(404, {"message": "not found"}))
    try:
        case = await _case_for(request, user, spec, case_id)
    except HTTPException as err:
        return await _refused_page(request, err)
    if not applies(spec, case):
        refusal = f"案件目前在“{labels.zh('stage', case.stage)}”环节，现在不能办理“{spec.title}”"
        return await _action_page(
            request, spec, case, {}, status_code=409, refusal=refusal, applicable=False
        )
    return await _action_page(request, spec, case, prefill(spec, case, user))


@router.post("/cases/{case_id}/act/{key}", include_in_schema=False)
async def take_action(request: Request, case_id: str, key: str, form: ConsoleFormDep) -> Response:
    spec = FORMS.get(key)
    if spec is None or len(case_id) > 32:
        return await _refused_page(request, HTTPException(404, {"message": "not found"}))
    user = form.user
    try:
        case = await _case_for(request, user, spec, case_id)
    except HTTPException as err:
        return await _refused_page(request, err)
    values = values_of(form.data.multi_items())
    if spec.household:
        op = row_op(form.get("op"), values)
        if op is not None:
            shown, extra = op
            return await _action_page(
                request, spec, case, shown, extra_rows=extra, request_id=form.request_id
            )
    parsed = parse(
        form.data.multi_items(), multi=spec.multi(), split=spec.split(), lines=spec.lines()
    )
    try:
        body = spec.model.model_validate(parsed.body)
    except ValidationError as err:
        return await _action_page(
            request,
            spec,
            case,
            values,
            errors=page_errors(parsed, [dict(e) for e in err.errors()]),
            request_id=form.request_id,
            status_code=422,
        )
    app = request.app
    sessions, client, settings = app.state.sessions, app.state.temporal, app.state.settings
    actor = user.actor
    try:
        access = await check_case_access(sessions, actor, spec.action, case_id)
        if isinstance(body, ObjectionIn):
            result: Any = await raise_objection(
                case_id, body, sessions, client, settings, access, form.request_id
            )
        elif isinstance(body, HouseholdChangeIn):  # 停旧建新 opens the linked case too
            result = await report_household_change(
                case_id, body, sessions, client, settings, access, form.request_id
            )
        else:
            message: Any = body
            result = await act(
                sessions,
                client,
                settings,
                case_id,
                spec.update,
                form.request_id,
                lambda rid: message.to_message(rid, actor),
                spec.key,
                access,
            )
    except HTTPException as err:
        errors: dict[str, str] = (
            _on_fields(spec, page_errors(parsed, err.detail))
            if err.status_code == 422 and isinstance(err.detail, list)
            else {}
        )
        refusal = "" if errors.keys() - {""} else refusal_of(err)
        return await _action_page(
            request,
            spec,
            case,
            values,
            errors=errors,
            request_id=form.request_id,
            status_code=err.status_code,
            refusal=refusal,
        )
    if isinstance(result, JSONResponse):  # 202: no worker took it up yet; Temporal keeps it
        return await _action_page(
            request,
            spec,
            case,
            values,
            request_id=form.request_id,
            status_code=202,
            refusal="已提交，正在排队等待处理（工作进程暂未接手）；可用同一表单再次提交，不会重复办理",
        )
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)
