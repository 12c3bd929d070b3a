"""新申请: the filing form at /console/cases/new.

Members and incomes are rows: a plain form shows a few blank ones and "添加一行" / "删除" submit
buttons that only show the form again; console/static/forms.js does the same in the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.case_service import file_application
from api.deps import check_role
from api.schemas import ApplicationIn
from console.errors import error_page
from console.formdata import Parsed, parse, values_of
from console.forms.common import (
    APPLICATION_MULTI,
    household_choices,
    page_errors,
    refusal_of,
    row_op,
    rows_shown,
)
from console.render import render
from console.session import ConsoleFormDep, ConsoleUser, ConsoleUserDep
from dibao.db import regions_repo
from dibao.domain.access import Action
from dibao.domain.enums import Relation

router = APIRouter()


async def _villages(request: Request, user: ConsoleUser) -> list[tuple[str, str]]:
    async with request.app.state.sessions() as session:
        found = await regions_repo.villages_in(session, user.jurisdiction)
    if found:
        return [(r.code, r.name) for r in found]
    # No 行政区划 rows for the jurisdiction yet: a village user still files in its village.
    return [(user.jurisdiction, user.jurisdiction)] if len(user.jurisdiction) == 12 else []


async def _filing_page(
    request: Request,
    user: ConsoleUser,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    extra_rows: dict[str, int] | None = None,
    request_id: str | None = None,
    status_code: int = 200,
    refusal: str = "",
) -> Response:
    context: dict[str, Any] = {
        "values": values,
        "errors": errors or {},
        "rows": rows_shown(values, extra_rows or {}),
        "villages": await _villages(request, user),
        "refusal": refusal,
        **household_choices(),
    }
    if request_id:
        context["request_id"] = request_id
    return await render(request, "console/forms/filing.html", status_code=status_code, **context)


@router.get("/cases/new", include_in_schema=False)
async def filing_form(request: Request, user: ConsoleUserDep) -> Response:
    try:
        check_role(user.actor, Action.FILE_APPLICATION)
    except HTTPException as err:
        return await error_page(request, err.status_code, refusal_of(err))
    values: dict[str, Any] = {"members.0.relation": Relation.HEAD.value, "area_type": "rural"}
    villages = await _villages(request, user)
    if len(villages) == 1:
        values["hukou.village_code"] = villages[0][0]
    return await _filing_page(request, user, values)


def application_body(parsed: Parsed) -> dict[str, Any]:
    """The API's body of an application from the form: the province, county and township
    codes follow from the village chosen; no payee when none of its fields is filled in."""
    body = parsed.body
    hukou = body.setdefault("hukou", {})
    village = str(hukou.get("village_code", ""))
    if len(village) == 12 and village.isdigit():
        hukou.setdefault("province_code", village[:2])
        hukou.setdefault("county_code", village[:6])
        hukou.setdefault("township_code", village[:9])
    if "payee" in body and not any(
        body["payee"].get(k) for k in ("account_holder", "bank", "account_no", "agent_reason")
    ):
        body.pop("payee")
    return body


@router.post("/cases/new", include_in_schema=False)
async def file(request: Request, form: ConsoleFormDep) -> Response:
    user = form.user
    try:
        check_role(user.actor, Action.FILE_APPLICATION)
    except HTTPException as err:
        return await error_page(request, err.status_code, refusal_of(err))
    values = values_of(form.data.multi_items())
    op = row_op(form.get("op"), values)
    if op is not None:
        shown, extra = op
        return await _filing_page(
            request, user, shown, extra_rows=extra, request_id=form.request_id
        )
    parsed = parse(form.data.multi_items(), multi=APPLICATION_MULTI)
    body = application_body(parsed)
    try:
        application = ApplicationIn.model_validate(body)
    except ValidationError as err:
        return await _filing_page(
            request,
            user,
            values,
            errors=page_errors(parsed, [dict(e) for e in err.errors()]),
            request_id=form.request_id,
            status_code=422,
        )
    app = request.app
    try:
        filed = await file_application(
            app.state.sessions,
            app.state.temporal,
            app.state.settings,
            application,
            user.actor,
            form.request_id,
        )
    except HTTPException as err:
        if err.status_code == 422 and isinstance(err.detail, list):
            errors = page_errors(parsed, err.detail)
            return await _filing_page(
                request, user, values, errors=errors, request_id=form.request_id, status_code=422
            )
        return await _filing_page(
            request,
            user,
            values,
            request_id=form.request_id,
            status_code=err.status_code,
            refusal=refusal_of(err),
        )
    return RedirectResponse(f"/console/cases/{filed.case.case_id}", status_code=303)
