"""上线: a county going live. The ledger template and import (台账导入) with its check report and
progress, the bank's return (回盘) with the run's reconciliation, the monthly statistics (月报)
with charts, and the papers of a household (低保证, 低保证明, the file as a PDF).

Everything goes through api/golive_service.py and dibao/ledger_import.py, the same calls as
the API: an import is stored at once and checked, written and started by its workflow in the
worker, and its page reloads itself (<meta http-equiv="refresh">, no script) while it checks
and while its cases start; a file with errors shows them there, with the marked-up workbook
and the form to upload the corrected file. The 上线 page lists the county's past imports.
"""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api import errors, golive_service
from api.deps import check_case, check_county, check_role, client_dep, sessions_dep
from api.paging import decode_time_key, encode_key
from console import monthly_charts as charts
from console.errors import field_errors
from console.errors_zh import message_zh
from console.render import HEADERS, register_page, render, yuan
from console.session import ConsoleForm, ConsoleFormDep, ConsoleUser, ConsoleUserDep
from dibao import ledger_import, papers
from dibao.db import letters_repo, monthly_repo, payroll_repo
from dibao.domain.access import Action
from dibao.domain.calendar import CHINA_TZ
from dibao.domain.ledger import ImportStatus, LedgerError
from dibao.domain.monthly import MonthlyReport
from dibao.ledger_files import XLSX_MEDIA_TYPE, marked_copy, template_xlsx
from dibao.monthly_files import CATEGORIES, monthly_xlsx

router = APIRouter()
golive = APIRouter(prefix="/go-live")
register_page("/console/go-live")

UPLOAD_LIMIT = 64 * 1024 * 1024  # as the API's ledger upload
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_RUN_ID = re.compile(r"^PR-\d{6}-\d{4}-(\d{2}|Q[1-4])$")
_IMPORT_ID = re.compile(r"^LI-[0-9a-f]{16}$")
_CASE_ID = re.compile(r"^DB-[0-9A-Z]{12}$")
# Papers carry their own print styles (<style> in the page): allowed, scripts still not.
PAPER_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The marked-up workbook rides in the error page as a data: link while it is this small.
MARKED_INLINE_LIMIT = 8 * 1024 * 1024


def _county(user: ConsoleUser) -> str:
    return user.jurisdiction[:6]


def _this_month() -> str:
    return datetime.now(CHINA_TZ).strftime("%Y-%m")


async def _upload(form: ConsoleForm) -> tuple[bytes, str] | None:
    value = form.data.get("file")
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise HTTPException(status_code=413, detail={"message": "file larger than 64 MB"})
    return data, value.filename


async def _released_runs(request: Request, county: str) -> list[Any]:
    async with sessions_dep(request)() as session:
        runs = await payroll_repo.list_runs(session, county, limit=24)
    return [r for r in runs if r.status == "released"]


async def _index(request: Request, user: ConsoleUser, **ctx: Any) -> Response:
    check_role(user.actor, Action.IMPORT_LEDGER)
    county = _county(user)
    ctx.setdefault("status_code", 200)
    status = ctx.pop("status_code")
    ctx.setdefault("ledger_errors", None)
    ctx.setdefault("marked", "")
    ctx.setdefault("checked", None)
    runs = await _released_runs(request, county)
    imports, older = await _past_imports(request, user, county)
    return await render(
        request,
        "console/golive/index.html",
        status_code=status,
        county=county,
        runs=runs,
        run_options=[
            (r.run_id, f"{r.run_id}（{r.households} 户，{yuan(r.total_fen)} 元）") for r in runs
        ],
        month=_this_month(),
        imports=imports,
        older=older,
        import_status=IMPORT_STATUS,
        **ctx,
    )


IMPORTS_PER_PAGE = 20
IMPORT_STATUS = {
    ImportStatus.CHECKING.value: "检查中",
    ImportStatus.ERRORS.value: "有错误，未导入",
    ImportStatus.IMPORTING.value: "导入中",
    ImportStatus.DONE.value: "已完成",
}


async def _past_imports(
    request: Request, user: ConsoleUser, county: str
) -> tuple[list[ledger_import.ImportState], str]:
    """A page of the county's past imports, newest first, and the `after=` of the next."""
    cursor = request.query_params.get("after", "")
    after = None
    if cursor:
        try:
            after = decode_time_key(cursor, str)
        except HTTPException:
            after = None  # a stale or mangled link: the newest page
    rows = await golive_service.past_imports(
        sessions_dep(request), user.actor, county, IMPORTS_PER_PAGE + 1, after
    )
    if len(rows) <= IMPORTS_PER_PAGE:
        return rows, ""
    rows = rows[:IMPORTS_PER_PAGE]
    return rows, encode_key(rows[-1].started_at, rows[-1].import_id)


@golive.get("", include_in_schema=False)
async def index(request: Request, user: ConsoleUserDep) -> Response:
    return await _index(request, user)


@golive.get("/template", include_in_schema=False)
async def template(request: Request, user: ConsoleUserDep) -> Response:
    check_role(user.actor, Action.IMPORT_LEDGER)
    return Response(
        template_xlsx(),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="ledger-template.xlsx"'},
    )


@golive.post("/ledger", include_in_schema=False)
async def upload_ledger(request: Request, form: ConsoleFormDep) -> Response:
    """检查 (check only) or 检查并导入 (check, then import when clean)."""
    check_role(form.actor, Action.IMPORT_LEDGER)
    county = _county(form.user)
    check_county(form.actor, Action.IMPORT_LEDGER, county)
    upload = await _upload(form)
    if upload is None:
        return await _index(
            request,
            form.user,
            status_code=422,
            errors={"file": "请选择台账文件（xlsx 或 CSV）"},
        )
    content, filename = upload
    sessions = sessions_dep(request)
    if form.get("action") == "import":
        # Stored at once; its page follows the check and the import.
        submitted = await golive_service.begin_import(
            sessions,
            client_dep(request),
            request.app.state.settings,
            content,
            filename,
            county,
            form.actor,
        )
        return RedirectResponse(f"/console/go-live/imports/{submitted.import_id}", status_code=303)
    outcome = await ledger_import.check_file(sessions, content, filename, county)
    if outcome.already_imported:
        return RedirectResponse(
            f"/console/go-live/imports/{outcome.already_imported}", status_code=303
        )
    if not outcome.errors:
        return await _index(
            request,
            form.user,
            checked={
                "households": len(outcome.households),
                "persons": sum(len(h.members) for h in outcome.households),
                "filename": filename,
            },
        )
    marked = ""
    workbook = await asyncio.to_thread(marked_copy, outcome.rows, outcome.errors)
    if len(workbook) <= MARKED_INLINE_LIMIT:
        marked = f"data:{XLSX_MEDIA_TYPE};base64," + base64.b64encode(workbook).decode()
    return await _index(
        request,
        form.user,
        status_code=422,
        errors={"file": f"台账有 {len(outcome.errors)} 处错误，未导入任何数据"},
        ledger_errors=outcome.errors,
        marked=marked,
        filename=filename,
    )


async def _import_of(
    request: Request, import_id: str, user: ConsoleUser
) -> ledger_import.ImportState:
    if not _IMPORT_ID.match(import_id):
        raise errors.not_found(f"ledger import {import_id}")
    progress = await golive_service.import_progress(sessions_dep(request), import_id)
    check_county(user.actor, Action.IMPORT_LEDGER, progress.county_code)
    return progress


@golive.get("/imports/{import_id}", include_in_schema=False)
async def import_page(request: Request, import_id: str, user: ConsoleUserDep) -> Response:
    progress = await _import_of(request, import_id, user)
    found: tuple[LedgerError, ...] = ()
    if progress.status is ImportStatus.ERRORS:
        found = await ledger_import.errors_of(sessions_dep(request), import_id)
    return await render(
        request,
        "console/golive/import.html",
        progress=progress,
        st=progress.status.value,
        ledger_errors=found,
        share=round(100 * progress.started / progress.households) if progress.households else 0,
    )


@golive.get("/imports/{import_id}/errors.xlsx", include_in_schema=False)
async def import_error_report(request: Request, import_id: str, user: ConsoleUserDep) -> Response:
    progress = await _import_of(request, import_id, user)
    if progress.status is not ImportStatus.ERRORS:
        raise errors.not_found(f"errors of ledger import {import_id}")
    return Response(
        await ledger_import.error_report(sessions_dep(request), import_id),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="ledger-check.xlsx"'},
    )


# --- the bank's return ------------------------------------------------------------------------


@golive.post("/bank-return", include_in_schema=False)
async def bank_return(request: Request, form: ConsoleFormDep) -> Response:
    check_role(form.actor, Action.LOAD_BANK_RETURN)
    run_id = form.get("run_id").strip()
    problems: dict[str, str] = {}
    if not _RUN_ID.match(run_id):
        problems["run_id"] = "请选择已发放的批次"
    upload = await _upload(form)
    if upload is None:
        problems["bank_file"] = "请选择银行回盘文件（CSV）"
    if not problems and upload is not None:
        try:
            await golive_service.load_bank_return(
                sessions_dep(request), form.actor, run_id, upload[0]
            )
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            message = next(iter(field_errors(exc).values()), "")
            problems["bank_file"] = "回盘文件与该批次不符，未作任何改动：" + message_zh(
                message.removeprefix("file: ")
            )
        else:
            return RedirectResponse(
                f"/console/go-live/runs/{run_id}/reconciliation?loaded=1", status_code=303
            )
    return await _index(
        request, form.user, status_code=422, errors=problems, values={"run_id": run_id}
    )


@golive.get("/runs/{run_id}/reconciliation", include_in_schema=False)
async def reconciliation(request: Request, run_id: str, user: ConsoleUserDep) -> Response:
    if not _RUN_ID.match(run_id):
        raise errors.not_found(f"payroll run {run_id}")
    check_role(user.actor, Action.READ_PAYROLL)
    rec, loaded = await golive_service.reconciliation(sessions_dep(request), user.actor, run_id)
    return await render(
        request,
        "console/golive/reconciliation.html",
        rec=rec,
        loaded=loaded,
        just_loaded=request.query_params.get("loaded") == "1",
    )


# --- the monthly statistics ------------------------------------------------------------------


async def _report(request: Request, user: ConsoleUser, month: str) -> MonthlyReport:
    check_role(user.actor, Action.READ_STATISTICS)
    county = _county(user)
    check_county(user.actor, Action.READ_STATISTICS, county)
    async with sessions_dep(request)() as session:
        return await monthly_repo.report(session, county, month)


@golive.get("/monthly", include_in_schema=False)
async def monthly(request: Request, user: ConsoleUserDep, month: str = "") -> Response:
    problems: dict[str, str] = {}
    if month and not _MONTH.match(month):
        problems["month"] = "请选择月份（年-月）"
    shown = month if month and not problems else _this_month()
    report = await _report(request, user, shown)
    township = user.jurisdiction if len(user.jurisdiction) == 9 else ""
    sections = [t for t in report.townships if not township or t.township_code == township]
    names = await _names(request)
    labels = [names.get(t.township_code, t.township_code) for t in sections]
    return await render(
        request,
        "console/golive/monthly.html",
        status_code=422 if problems else 200,
        errors=problems,
        values={"month": shown},
        report=report,
        county_section=report.county,
        sections=sections,
        township=township,
        categories=CATEGORIES,
        charts=charts.monthly_charts(report.county, sections, labels) if sections else {},
    )


async def _names(request: Request) -> dict[str, str]:
    from console.render import place_names

    return await place_names(request)


@golive.get("/monthly.xlsx", include_in_schema=False)
async def monthly_download(request: Request, user: ConsoleUserDep, month: str = "") -> Response:
    if not _MONTH.match(month):
        raise HTTPException(status_code=422, detail={"message": "month must be YYYY-MM"})
    report = await _report(request, user, month)
    return Response(
        monthly_xlsx(report),
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f'attachment; filename="monthly-{report.county_code}-{month}.xlsx"'
            )
        },
    )


# --- papers ---------------------------------------------------------------------------------


def _paper(page: str, case_id: str) -> HTMLResponse:
    back = (
        f'<p class="console-bar"><a href="/console/cases/{case_id}">返回案件</a>'
        "按 Ctrl+P 打印（A4）</p>"
    )
    page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + back, page, count=1)
    page = page.replace(
        "</head>", '<link rel="stylesheet" href="/console/static/gongwen.css"></head>', 1
    )
    return HTMLResponse(page, headers={**HEADERS, "Content-Security-Policy": PAPER_POLICY})


def _case_id(case_id: str) -> str:
    if not _CASE_ID.match(case_id):
        raise errors.not_found(f"case {case_id}")
    return case_id


@router.get("/cases/{case_id}/certificate", include_in_schema=False)
async def certificate(request: Request, case_id: str, user: ConsoleUserDep) -> Response:
    sessions = sessions_dep(request)
    await check_case(sessions, user.actor, Action.PRINT_PAPERS, _case_id(case_id))
    h = await golive_service.papers_household(sessions, case_id)
    settings = request.app.state.settings
    return _paper(papers.certificate_html(settings.templates_dir, h, datetime.now(UTC)), case_id)


@router.get("/cases/{case_id}/letter", include_in_schema=False)
async def letter_form(request: Request, case_id: str, user: ConsoleUserDep) -> Response:
    await check_case(sessions_dep(request), user.actor, Action.PRINT_PAPERS, _case_id(case_id))
    return await render(request, "console/golive/letter.html", case_id=case_id)


@router.post("/cases/{case_id}/letter", include_in_schema=False)
async def letter(request: Request, case_id: str, form: ConsoleFormDep) -> Response:
    sessions = sessions_dep(request)
    await check_case(sessions, form.actor, Action.PRINT_PAPERS, _case_id(case_id))
    purpose = form.get("purpose").strip()
    if not 2 <= len(purpose) <= 200:
        return await render(
            request,
            "console/golive/letter.html",
            status_code=422,
            case_id=case_id,
            errors={"purpose": "请写明用途，2至200个字（将与打印人一并记录）"},
            values=form.data,
        )
    # Only a household with a 低保证 gets a letter (409 otherwise), so nothing is recorded.
    await golive_service.papers_household(sessions, case_id)
    async with sessions() as session:
        row = await letters_repo.record(session, case_id, form.actor, purpose, datetime.now(UTC))
    # To the letter's own page: a reload shows it again instead of issuing (and auditing)
    # another one.
    return RedirectResponse(f"/console/cases/{case_id}/letters/{row.id}", status_code=303)


@router.get("/cases/{case_id}/letters/{letter_id}", include_in_schema=False)
async def letter_issued(
    request: Request, case_id: str, letter_id: int, user: ConsoleUserDep
) -> Response:
    sessions = sessions_dep(request)
    await check_case(sessions, user.actor, Action.PRINT_PAPERS, _case_id(case_id))
    async with sessions() as session:
        row = await letters_repo.one(session, case_id, letter_id)
    if row is None:
        raise HTTPException(404, f"no letter {letter_id} of case {case_id}")
    h = await golive_service.papers_household(sessions, case_id)
    page = papers.letter_page(request.app.state.settings.templates_dir, h, row)
    return _paper(page, case_id)


@router.get("/cases/{case_id}/file.pdf", include_in_schema=False)
async def household_file(request: Request, case_id: str, user: ConsoleUserDep) -> Response:
    sessions = sessions_dep(request)
    await check_case(sessions, user.actor, Action.READ_AUDIT, _case_id(case_id))
    page = await golive_service.household_file_html(
        sessions, client_dep(request), request.app.state.settings, case_id
    )
    pdf = await asyncio.to_thread(papers.to_pdf, page)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="file-{case_id}.pdf"'},
    )


router.include_router(golive)
