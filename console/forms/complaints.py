"""举报/投诉 pages (mca-2021 Arts. 36–37; 000 篇3, 003): the complaints in one's jurisdiction,
recording one, and each next step (交办, 核查, 书面答复, 办结) on its page.

The same service layer as the API (api/complaint_service); a form's request ID is the step's
key, so a double click acts once. Who sees the complainant is the service's rule: township and
county staff only; a supervisor or auditor reads "实名（对本角色保密）".
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from api import complaint_service as service
from api.complaint_schemas import AnswerIn, AssignIn, CloseIn, ComplaintIn, InvestigationIn
from api.deps import client_dep, sessions_dep
from console.errors import field_errors
from console.errors_zh import errors_by_field, message_zh
from console.render import HEADERS, register_page, render
from console.session import ConsoleFormDep, ConsoleUserDep
from dibao.domain import complaints as rules
from dibao.domain.complaints import (
    Channel,
    ComplaintKind,
    ComplaintStatus,
    Finding,
    FollowUp,
    Level,
    Source,
)

router = APIRouter()
register_page("/console/complaints")

# The service's reasons (dibao/domain/complaints.py), in the office's words; others go through
# console.errors_zh.
MESSAGE_ZH = {
    "a real-name report names the reporter": "实名举报须登记举报人姓名",
    "a real-name report gives a way to answer the reporter (Art. 37)": (
        "实名举报须登记联系方式，以便反馈核查处理结果（《办法》第三十七条）"
    ),
    "an anonymous report records no name or contact": "匿名举报不登记姓名和联系方式",
    "a general complaint names its county": "反映工作问题的，须填写所在县（区划代码6位）",
    "a general complaint names no case; choose kind case or recipient": (
        "反映工作问题的不填案件编号；反映申请或低保对象的请选相应类别"
    ),
    "a complaint about a case names its case": "反映申请办理的，须填写案件编号",
    "a complaint about a recipient names its case": "反映低保对象的，须填写案件编号",
    "a complaint about a recipient names a case receiving 低保": "该案件不是正在享受低保的家庭",
    "assigning to a township names the township": "交办乡镇的，须填写乡镇区划代码",
}


CHOICES: dict[str, list[tuple[str, str]]] = {
    "kinds": [(k.value, rules.KIND_ZH[k]) for k in ComplaintKind],
    "channels": [(c.value, rules.CHANNEL_ZH[c]) for c in Channel],
    "sources": [(s.value, rules.SOURCE_ZH[s]) for s in Source],
    "findings": [(f.value, rules.FINDING_ZH[f]) for f in Finding],
    "follow_ups": [(f.value, rules.FOLLOW_UP_ZH[f]) for f in FollowUp],
    "levels": [(lv.value, rules.LEVEL_ZH[lv]) for lv in Level],
    "statuses": [(s.value, rules.STATUS_ZH[s]) for s in ComplaintStatus],
}
NAMES_ZH = {
    "kind": rules.KIND_ZH,
    "channel": rules.CHANNEL_ZH,
    "source": rules.SOURCE_ZH,
    "finding": rules.FINDING_ZH,
    "follow_up": rules.FOLLOW_UP_ZH,
    "level": rules.LEVEL_ZH,
}


def zh_of(table: str, value: Any) -> str:
    if value is None:
        return "—"
    names: dict[Any, str] = NAMES_ZH[table]  # type: ignore[assignment]
    return next((text for key, text in names.items() if key.value == str(value)), str(value))


def _zh_errors(exc: HTTPException) -> dict[str, str]:
    out = {}
    for field, message in field_errors(exc).items():
        out[field] = MESSAGE_ZH.get(message) or message_zh(message)
    return out


def _parse(model: type[BaseModel], data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        return model.model_validate(data), {}
    except ValidationError as err:
        return None, errors_by_field(err.errors())


def _blank_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if v != "" else None) for k, v in data.items()}


async def _list_page(
    request: Request,
    user: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    overdue: bool = False,
    case_id: str | None = None,
) -> Response:
    refusal = None
    items: list[Any] = []
    if case_id is not None and not re.fullmatch(r"DB-[0-9A-Z]{12}", case_id):
        case_id = None
    try:
        items, _ = await service.list_page(
            sessions_dep(request), user.actor, overdue=overdue, case_id=case_id, limit=100
        )
    except HTTPException as exc:
        if exc.status_code != 403:
            raise
        refusal = "举报、投诉由乡镇（街道）和县级民政部门受理、核查（《办法》第三十六条），本角色不能查阅。"
    return await render(
        request,
        "console/complaints.html",
        status_code=status_code,
        items=items,
        refusal=refusal,
        handler=user.role in rules.HANDLERS,
        overdue=overdue,
        values=values or {},
        errors=errors or {},
        choices=CHOICES,
        zh_of=zh_of,
    )


@router.get("/complaints", include_in_schema=False)
async def complaints_page(
    request: Request, user: ConsoleUserDep, overdue: bool = False, case_id: str | None = None
) -> Response:
    return await _list_page(request, user, overdue=overdue, case_id=case_id)


@router.post("/complaints", include_in_schema=False)
async def record(request: Request, form: ConsoleFormDep) -> Response:
    values = {k: str(v) for k, v in form.data.items() if k not in ("csrf", "request_id")}
    body, errors = _parse(ComplaintIn, _blank_none(values))
    if errors:
        return await _list_page(request, form.user, values=values, errors=errors, status_code=422)
    try:
        out, _ = await service.record(
            sessions_dep(request), request.app.state.settings, form.actor, body, form.request_id
        )
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return await _list_page(
            request, form.user, values=values, errors=_zh_errors(exc), status_code=422
        )
    return RedirectResponse(f"/console/complaints/{out.complaint_id}", status_code=303)


async def _detail(
    request: Request,
    user: Any,
    complaint_id: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    complaint = await service.read(sessions_dep(request), user.actor, complaint_id)
    return await render(
        request,
        "console/complaint.html",
        status_code=status_code,
        c=complaint,
        handler=user.role in rules.HANDLERS,
        values=values or {},
        errors=errors or {},
        refusal=refusal,
        choices=CHOICES,
        zh_of=zh_of,
        status_zh=rules.STATUS_ZH,
    )


@router.get("/complaints/{complaint_id}", include_in_schema=False)
async def complaint_page(request: Request, complaint_id: str, user: ConsoleUserDep) -> Response:
    return await _detail(request, user, complaint_id)


STEP_MODELS: dict[str, type[BaseModel]] = {
    "assign": AssignIn,
    "investigation": InvestigationIn,
    "answer": AnswerIn,
    "close": CloseIn,
}


@router.post("/complaints/{complaint_id}/{step}", include_in_schema=False)
async def take_step(
    request: Request, complaint_id: str, step: str, form: ConsoleFormDep
) -> Response:
    model = STEP_MODELS.get(step)
    if model is None:
        raise HTTPException(status_code=404, detail={"message": f"no step {step}"})
    values = {k: str(v) for k, v in form.data.items() if k not in ("csrf", "request_id")}
    body, errors = _parse(model, _blank_none(values) if step == "assign" else values)
    if errors:
        return await _detail(
            request, form.user, complaint_id, values=values, errors=errors, status_code=422
        )
    sessions = sessions_dep(request)
    settings = request.app.state.settings
    try:
        if step == "assign":
            await service.assign(sessions, form.actor, complaint_id, body, form.request_id)
        elif step == "investigation":
            await service.investigate(
                sessions, client_dep(request), settings, form.actor, complaint_id, body,
                form.request_id,
            )  # fmt: skip
        elif step == "answer":
            await service.answer(
                sessions, settings, form.actor, complaint_id, body, form.request_id
            )
        else:
            await service.close(sessions, form.actor, complaint_id, body, form.request_id)
    except HTTPException as exc:
        if exc.status_code == 422:
            return await _detail(
                request, form.user, complaint_id, values=values, errors=_zh_errors(exc),
                status_code=422,
            )  # fmt: skip
        if exc.status_code == 409:
            detail: dict[str, Any] = exc.detail if isinstance(exc.detail, dict) else {}
            return await _detail(
                request, form.user, complaint_id, values=values, status_code=409,
                refusal="未办理：" + message_zh(str(detail.get("message", ""))),
            )  # fmt: skip
        raise
    return RedirectResponse(f"/console/complaints/{complaint_id}", status_code=303)


@router.get("/complaints/{complaint_id}/document", include_in_schema=False)
async def answer_document(request: Request, complaint_id: str, user: ConsoleUserDep) -> Response:
    """The written answer exactly as issued (it names the reporter: handlers only)."""
    content = await service.answer_document(sessions_dep(request), user.actor, complaint_id)
    return HTMLResponse(
        content,
        headers={
            **HEADERS,
            # The stored document carries its own <style>; still no script of any kind.
            "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        },
    )
