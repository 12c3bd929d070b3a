"""The console's read pages: 工作台 (inbox), the household's file (一户一档), notices as issued
and the village posting board (公示栏)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import errors
from api.case_service import read_case
from api.deps import check_case, client_dep, sessions_dep
from api.household_change import with_links
from api.paging import decode_key
from api.postings_service import board_page
from console import casefile, labels
from console.actions import offered_actions
from console.render import HEADERS, place_names, render
from console.session import ConsoleFormDep, ConsoleUserDep
from dibao.db import (
    audit_repo,
    cases_repo,
    complaints_repo,
    inbox_repo,
    notices_repo,
    payroll_repo,
    procedure_repo,
    regions_repo,
)
from dibao.domain import access
from dibao.domain.access import Action, CasePlace
from dibao.domain.enums import CaseStatus, Stage

router = APIRouter()
# The inbox is /console itself; console/__init__.py adds it (an included router cannot
# have an empty path).

_CASE_ID = re.compile(r"^DB-[0-9A-Z]{12}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


async def inbox(
    request: Request, user: ConsoleUserDep, stage: str | None = None, after: str | None = None
) -> Response:
    if stage is not None and stage not in {s.value for s in Stage}:
        stage = None
    async with sessions_dep(request)() as session:
        found = await inbox_repo.inbox(
            session, user.user_id, user.role, user.jurisdiction, stage=stage, after=after
        )
    now = datetime.now(UTC)
    return await render(
        request,
        "console/inbox.html",
        inbox=found,
        stage=stage,
        stages=[s.value for s in Stage if s.value in found.counts],
        total=sum(found.counts.values()),
        now=now,
        mine=user.role.value in ("village_caseworker", "township_caseworker", "county_approver"),
        results=None,
        query="",
    )


@router.get("/find", include_in_schema=False)
async def find_page(request: Request, user: ConsoleUserDep) -> Response:
    return await render(request, "console/find.html", query="", results=None)


async def _find_refused(request: Request, field: str, message: str) -> Response:
    """The search page again, the reason at its field; nothing was looked up."""
    return await render(
        request,
        "console/find.html",
        status_code=422,
        query="",
        results=None,
        errors={field: message},
    )


@router.post("/find/name", include_in_schema=False)
async def find(request: Request, form: ConsoleFormDep) -> Response:
    """By case ID (opens it) or by the head's name within the jurisdiction. Posted, like the
    ID number, so names stay out of addresses, browser histories and access logs."""
    q = form.get("q").strip()[:50]
    if _CASE_ID.match(q.upper()):
        return RedirectResponse(f"/console/cases/{q.upper()}", status_code=303)
    if _ID_NUMBER.match(q.upper()):
        return await _find_refused(
            request, "q", "身份证号请在“按身份证号”一栏中输入（该查询将记入审计日志）"
        )
    if not q:
        return await _find_refused(request, "q", "请输入案件编号或户主姓名")
    user = form.user
    async with sessions_dep(request)() as session:
        results = await inbox_repo.find_by_name(session, user.user_id, user.jurisdiction, q)
    return await render(request, "console/find.html", query=q, results=results)


@router.post("/find/id-number", include_in_schema=False)
async def find_by_id_number(request: Request, form: ConsoleFormDep) -> Response:
    number = form.get("id_number").strip().upper()
    if not _ID_NUMBER.match(number):
        return await _find_refused(request, "id_number", "请输入18位公民身份号码（最后一位可为X）")
    user = form.user
    async with sessions_dep(request)() as session:
        results = await inbox_repo.find_by_id_number(
            session, user.user_id, user.jurisdiction, number
        )
        await inbox_repo.audit_lookup(
            session,
            [r.case_id for r in results],
            user.user_id,
            user.role,
            hashlib.sha256(number.encode()).hexdigest(),
            form.request_id,
            datetime.now(UTC),
        )
    return await render(
        request,
        "console/find.html",
        query="",
        results=results,
        by_id_number=True,
        now=datetime.now(UTC),
    )


async def _place(request: Request, case_id: str) -> tuple[Any, CasePlace]:
    from dibao.db import recusal_repo, rulepacks_repo

    async with sessions_dep(request)() as session:
        row = await cases_repo.get_case(session, case_id)
        if row is None:
            raise errors.not_found(f"case {case_id}")
        recused = await recusal_repo.recused_staff(session, row)
        delegated = await rulepacks_repo.approval_delegated(
            session, row.rule_pack_id, row.rule_pack_version
        )
    return row, CasePlace(
        row.county_code, row.township_code, row.village_code, recused, approval_delegated=delegated
    )


@router.get("/cases/{case_id}", include_in_schema=False)
async def case_page(request: Request, case_id: str, user: ConsoleUserDep) -> Response:
    if not _CASE_ID.match(case_id):
        raise errors.not_found(f"case {case_id}")
    row, place = await _place(request, case_id)
    refused = access.case_denial(user.actor, Action.READ_CASE, place)
    if refused:
        raise errors.forbidden(refused)
    sessions = sessions_dep(request)
    may_audit = access.case_denial(user.actor, Action.READ_AUDIT, place) is None

    async def stored() -> tuple[Any, ...]:
        async with sessions() as session:
            return (
                await cases_repo.stage_events(session, case_id),
                await audit_repo.list_for_case(session, case_id),
                await procedure_repo.entitlements_for_case(session, case_id),
                await payroll_repo.lines_for_case(session, case_id),
                await notices_repo.list_for_case(session, case_id),
                await complaints_repo.count_for_case(session, case_id),
            )

    # The workflow's answer and the stored records at the same time: the page waits for the
    # slower of the two, not their sum.
    case, (events, audit, entitlements, lines, notices, complaints) = await asyncio.gather(
        read_case(sessions, client_dep(request), case_id), stored()
    )
    case = await with_links(sessions, case)  # 停旧建新, both ways
    # Who acted at each stage: the audit rows between its start and the next stage's.
    timeline = []
    for i, event in enumerate(events):
        end = events[i + 1].entered_at if i + 1 < len(events) else None
        acts = [
            a
            for a in audit
            # The first stage also holds what came before its row was written (the filing).
            if (i == 0 or a.at >= event.entered_at)
            and (end is None or a.at < end)
            and not a.action.startswith("lookup")
        ]
        timeline.append({"event": event, "acts": acts, "current": i == len(events) - 1})
    months: dict[str, dict[str, int]] = {}
    for line in lines:
        entry = months.setdefault(line.month, {"paid": 0, "drafted": 0})
        entry["paid" if line.run_status == "released" else "drafted"] += line.amount_fen
    entitled = _entitled_by_month(entitlements, sorted(months))
    payments = [
        {
            "month": m,
            "entitled": entitled.get(m),
            "paid": months[m]["paid"],
            "drafted": months[m]["drafted"],
        }
        for m in sorted(months)
    ]
    offered = offered_actions(
        user.actor,
        Stage(row.stage),
        CaseStatus(row.status),
        place,
        materials_missing=bool(case.missing_materials),
        review_due=case.review_due,
    )
    return await render(
        request,
        "console/case.html",
        case=case,
        row=row,
        procedure=casefile.Recorded(case.procedure or {}),
        application=case.application or {},
        timeline=timeline,
        audit=audit if may_audit else None,
        entitlements=entitlements,
        payments=payments,
        notices=notices,
        # 举报/投诉 about the household (all, open): for those who may read complaints.
        complaints=complaints
        if access.role_denial(Action.READ_COMPLAINTS, user.role) is None
        else None,
        offered=offered,
        arith=casefile.arithmetic(case.procedure or {}, case.application or {}),
        department=casefile.department,
        stage_name=_stage_namer(place.approval_delegated),
        now=datetime.now(UTC),
    )


def _stage_namer(delegated: bool) -> Callable[[str], str]:
    """The stage's name on this case: approval delegated to the township (mca-2021 Art. 2) is
    the township's, not the county's."""

    def name(stage: str) -> str:
        if delegated and stage == Stage.COUNTY_APPROVAL:
            return "乡镇审批（县级委托）"
        return labels.zh("stage", stage)

    return name


def _entitled_by_month(entitlements: list[Any], months: list[str]) -> dict[str, int]:
    """The amount in force in each month: the latest change effective at or before it."""
    out: dict[str, int] = {}
    ordered = sorted(entitlements, key=lambda e: (e.effective_month, e.id))
    for month in months:
        current = None
        for e in ordered:
            if e.effective_month <= month:
                current = e.monthly_amount_fen
        if current is not None:
            out[month] = current
    return out


@router.get("/notices/{notice_id}", include_in_schema=False)
async def notice(request: Request, notice_id: str, user: ConsoleUserDep) -> Response:
    """The notice exactly as issued, in the 公文 print layout (A4)."""
    async with sessions_dep(request)() as session:
        row = await notices_repo.get_notice(session, notice_id[:40])
    if row is None:
        raise errors.not_found(f"notice {notice_id}")
    await check_case(sessions_dep(request), user.actor, Action.READ_CASE, row.case_id)
    bar = (
        '<link rel="stylesheet" href="/console/static/gongwen.css">'
        if "</head>" in row.content
        else ""
    )
    back = (
        f'<p class="console-bar"><a href="/console/cases/{row.case_id}">返回案件</a>'
        "按 Ctrl+P 打印（A4）</p>"
    )
    content = row.content.replace("</head>", bar + "</head>", 1)
    content = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + back, content, count=1)
    return HTMLResponse(
        content,
        headers={
            **HEADERS,
            # The stored notice carries its own <style>; still no script of any kind.
            "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            "X-Content-SHA256": row.content_sha256,
        },
    )


@router.get("/postings", include_in_schema=False)
async def postings_index(request: Request) -> Response:
    """Choose a village: the boards are public, like GET /postings."""
    async with sessions_dep(request)() as session:
        villages = await regions_repo.villages_in(session, "")
    return await render(request, "console/postings_index.html", villages=villages)


# A board's page: a village posting a whole ledger import at once is read a page at a time.
POSTINGS_PAGE = 100


def _posting_key(raw: str | None) -> tuple[str, datetime, str] | None:
    """The `after` of a board page (a cursor of api.paging); anything else: the first page."""
    if not raw:
        return None
    try:
        stage, opens_at, posting_id = decode_key(raw, (str, datetime, str))
    except HTTPException:
        return None
    return stage, opens_at, posting_id


@router.get("/postings/{village}", include_in_schema=False)
async def postings_board(
    request: Request,
    village: str,
    after: Annotated[str | None, Query(max_length=200)] = None,
    n: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    if not re.match(r"^\d{12}$", village):
        raise HTTPException(status_code=404, detail={"message": "村（社区）代码应为12位数字"})
    now = datetime.now(UTC)
    key = _posting_key(after)
    async with sessions_dep(request)() as session:
        board = await board_page(session, village, now, POSTINGS_PAGE, key, n)
    names = await place_names(request)
    next_link = None
    if board.next_key is not None:
        next_link = f"/console/postings/{village}?" + urlencode(
            {"after": board.next_key, "n": board.next_n}
        )
    return await render(
        request,
        "console/postings.html",
        village=village,
        village_name=regions_repo.place_name(names, village),
        township=regions_repo.township_office(names, village[:9]),
        groups=board.groups,
        today=now,
        next_link=next_link,
        complaint_phone=request.app.state.settings.complaint_phone,
    )


__all__ = ["labels", "router"]
