"""A county going live: the ledger import (台账导入), the bank's return (回盘), the monthly
statistics (月报) and the papers households ask for (低保证, 低保证明, the file as a PDF)."""

# No `from __future__ import annotations`: FastAPI reads parameter types at runtime.

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api import golive_service
from api.deps import (
    AUTHENTICATED,
    ActorDep,
    ClientDep,
    ReadSessionDep,
    SessionsDep,
    SettingsDep,
    check_case,
    check_county,
    require,
)
from api.fields import CaseId
from api.paging import After, decode_time_key, encode_key
from api.responses import documented
from dibao import ledger_import, papers
from dibao.db import bank_return_repo, monthly_repo
from dibao.domain.access import Action
from dibao.domain.ledger import ImportStatus, LedgerError
from dibao.domain.money import format_yuan
from dibao.ledger_files import XLSX_MEDIA_TYPE, marked_copy, template_xlsx
from dibao.messages.case import Actor
from dibao.monthly_files import monthly_xlsx, report_data

router = APIRouter(
    tags=["going live"], dependencies=AUTHENTICATED, responses=documented(401, 403, 404, 413, 422)
)

# The console's upload forms (a ledger, a bank return, registry extracts, a year's calendar,
# the region table) post the same files to its own pages.
UPLOAD_PREFIXES = ("/ledger/", "/payroll/runs/", "/console/go-live/", "/console/policy/")
UPLOAD_LIMIT = 64 * 1024 * 1024

County = Annotated[str, Query(pattern=r"^\d{6}$", examples=["610423"])]
Importer = Annotated[Actor, Depends(require(Action.IMPORT_LEDGER))]


class LedgerErrorOut(BaseModel):
    row: int = Field(description="spreadsheet row; 1 is the header")
    column: str = Field(description="the column's header; empty for the whole row or file")
    message: str


class ImportOut(BaseModel):
    import_id: str
    status: ImportStatus = Field(
        description="checking, then errors (nothing written: see error_report) or importing "
        "(done of total cases started), then done"
    )
    status_url: str = Field(description="GET it to follow the import")
    county_code: str
    file_name: str
    file_sha256: str = Field(description="the same file again is the same import")
    households: int = Field(description="0 while checking")
    persons: int
    done: int = Field(description="cases whose workflow runs")
    total: int = Field(description="cases to start: the file's households once checked")
    errors: int = Field(description="errors of the file; any: nothing was imported")
    error_report: str | None = Field(
        description="where the errors are, by row and column (JSON, or ?format=xlsx: the "
        "file with each bad cell marked), when the check found any"
    )
    imported_by: str
    started_at: datetime = Field(description="when the file was uploaded")
    finished_at: datetime | None
    started: int = Field(description="as `done` (kept for earlier clients)")
    finished: bool = Field(description="nothing more happens: errors or done")
    created: bool = Field(default=False, description="false: this file was uploaded before")


class ImportListOut(BaseModel):
    items: list[ImportOut]
    next: str | None = Field(description="`after=` of the next page (older imports)")


def _errors_out(found: tuple[LedgerError, ...]) -> list[dict[str, Any]]:
    return [
        LedgerErrorOut(row=e.row, column=e.column, message=e.message).model_dump() for e in found
    ]


@router.get("/ledger/template", response_class=Response)
async def ledger_template(actor: Importer) -> Response:
    """The ledger template (xlsx, Chinese headers, an example household)."""
    return Response(
        template_xlsx(),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="ledger-template.xlsx"'},
    )


async def _read(upload: UploadFile) -> bytes:
    return await upload.read()


@router.post("/ledger/check", response_model=None)
async def check_ledger(
    actor: Importer,
    sessions: SessionsDep,
    county: County,
    file: Annotated[UploadFile, File(description="the ledger, xlsx or CSV")],
    format: Annotated[str, Query(pattern=r"^(json|xlsx)$")] = "json",
) -> Response | dict[str, Any]:
    """Check a ledger without importing it: its errors by row and column, or with
    `format=xlsx` the file with each bad cell marked and commented."""
    check_county(actor, Action.IMPORT_LEDGER, county)
    content = await _read(file)
    checked = await ledger_import.check_file(sessions, content, file.filename or "", county)
    if format == "xlsx":
        return Response(
            marked_copy(checked.rows, checked.errors),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="ledger-check.xlsx"'},
        )
    return {
        "households": len(checked.households),
        "persons": sum(len(h.members) for h in checked.households),
        "already_imported": checked.already_imported,
        "errors": _errors_out(checked.errors),
    }


def _import_out(state: ledger_import.ImportState, created: bool = False) -> ImportOut:
    url = f"/ledger/imports/{state.import_id}"
    return ImportOut(
        import_id=state.import_id,
        status=state.status,
        status_url=url,
        county_code=state.county_code,
        file_name=state.file_name,
        file_sha256=state.file_sha256,
        households=state.households,
        persons=state.persons,
        done=state.started,
        total=state.households,
        errors=state.errors,
        error_report=f"{url}/errors" if state.status is ImportStatus.ERRORS else None,
        imported_by=state.imported_by,
        started_at=state.started_at,
        finished_at=state.finished_at,
        started=state.started,
        finished=state.status.finished,
        created=created,
    )


ImportId = Annotated[str, Path(max_length=40, pattern=r"^LI-[0-9a-f]{16}$")]


@router.post(
    "/ledger/imports",
    status_code=202,
    response_model=ImportOut,
    responses=documented(409, r409="the same file was uploaded for another county"),
)
async def import_ledger(
    response: Response,
    actor: Importer,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    county: County,
    file: Annotated[UploadFile, File(description="the ledger, xlsx or CSV")],
) -> ImportOut:
    """Upload a ledger to import: stored at once, answered 202 with the import and its status
    URL. In the background the whole file is checked first (status `errors`, every error in
    the error report, nothing written), then each household becomes a case in the recipient
    phase (`importing`, done of total as their workflows start at a limited rate), then
    `done`. The same file again is the same import and changes nothing."""
    content = await _read(file)
    submitted = await golive_service.begin_import(
        sessions, client, settings, content, file.filename or "ledger", county, actor
    )
    state = await golive_service.import_progress(sessions, submitted.import_id)
    response.headers["Location"] = f"/ledger/imports/{submitted.import_id}"
    return _import_out(state, submitted.created)


@router.get("/ledger/imports", response_model=ImportListOut)
async def past_imports(
    actor: Importer,
    session: ReadSessionDep,
    county: County,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: After = None,
) -> ImportListOut:
    """The county's ledger imports, newest first: who uploaded which file when, its checksum,
    households, status and errors; a page at a time by key (`next` → `after=`)."""
    key = decode_time_key(after, str) if after else None
    rows = await golive_service.past_imports_in(session, actor, county, limit + 1, key)
    more = len(rows) > limit
    rows = rows[:limit]
    return ImportListOut(
        items=[_import_out(state) for state in rows],
        next=encode_key(rows[-1].started_at, rows[-1].import_id) if more and rows else None,
    )


@router.get("/ledger/imports/{import_id}", response_model=ImportOut)
async def import_progress(actor: Importer, sessions: SessionsDep, import_id: ImportId) -> ImportOut:
    """An import's status: checking, errors, importing (done of total) or done."""
    state = await golive_service.import_progress(sessions, import_id)
    check_county(actor, Action.IMPORT_LEDGER, state.county_code)
    return _import_out(state)


@router.get("/ledger/imports/{import_id}/errors", response_model=None)
async def import_errors(
    actor: Importer,
    sessions: SessionsDep,
    import_id: ImportId,
    format: Annotated[str, Query(pattern=r"^(json|xlsx)$")] = "json",
) -> Response | dict[str, Any]:
    """The errors the check found, by row and column; with `format=xlsx` the uploaded file
    with each bad cell marked and commented. None while checking or once imported."""
    state = await golive_service.import_progress(sessions, import_id)
    check_county(actor, Action.IMPORT_LEDGER, state.county_code)
    if format == "xlsx":
        return Response(
            await ledger_import.error_report(sessions, import_id),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="ledger-check.xlsx"'},
        )
    found = await ledger_import.errors_of(sessions, import_id)
    return {
        "import_id": import_id,
        "status": state.status.value,
        "message": f"台账有 {len(found)} 处错误，未导入任何数据" if found else "",
        "errors": _errors_out(found),
    }


# --- the bank's return (回盘) ------------------------------------------------------------------

RunId = Annotated[str, Path(max_length=40, pattern=r"^PR-\d{6}-\d{4}-(\d{2}|Q[1-4])$")]


class ReturnedOut(BaseModel):
    case_id: str
    amount: str = Field(description="yuan")
    reason: str = Field(description="the bank's reason (退票原因)")


class ReconciliationOut(BaseModel):
    run_id: str
    released_total: str
    paid: str
    returned: str
    balanced: bool = Field(description="paid + returned = released total, to the fen")
    loaded: bool = Field(description="whether the bank's return was loaded")
    returned_households: list[ReturnedOut]


def _reconciliation_out(rec: Any, loaded: bool) -> ReconciliationOut:
    return ReconciliationOut(
        run_id=rec.run_id,
        released_total=format_yuan(rec.released_fen),
        paid=format_yuan(rec.paid_fen),
        returned=format_yuan(rec.returned_fen),
        balanced=rec.balanced,
        loaded=loaded,
        returned_households=[
            ReturnedOut(case_id=r.case_id, amount=format_yuan(r.amount_fen), reason=r.reason)
            for r in rec.returned
        ],
    )


@router.post("/payroll/runs/{run_id}/bank-return", response_model=ReconciliationOut)
async def load_bank_return(
    run_id: RunId,
    actor: Annotated[Actor, Depends(require(Action.LOAD_BANK_RETURN))],
    sessions: SessionsDep,
    file: Annotated[UploadFile, File(description="the bank's result file (CSV)")],
) -> ReconciliationOut:
    """Load the bank's answer to a released run: failed rows become 退票 with the bank's
    reason, paid again as 补发 by the next run once the household's account is corrected. A
    file that does not answer the run is refused (422) with the reason; the same file again
    changes nothing."""
    rec = await golive_service.load_bank_return(sessions, actor, run_id, await file.read())
    return _reconciliation_out(rec, loaded=True)


@router.get("/payroll/runs/{run_id}/reconciliation", response_model=ReconciliationOut)
async def reconciliation(
    run_id: RunId,
    actor: Annotated[Actor, Depends(require(Action.READ_PAYROLL))],
    sessions: SessionsDep,
) -> ReconciliationOut:
    """The run against the bank's answer (对账): released, paid, returned, per household."""
    rec, loaded = await golive_service.reconciliation(sessions, actor, run_id)
    return _reconciliation_out(rec, loaded)


# --- the monthly statistics (月报) -------------------------------------------------------------


@router.get("/statistics/monthly", response_model=None)
async def monthly_statistics(
    actor: Annotated[Actor, Depends(require(Action.READ_STATISTICS))],
    sessions: SessionsDep,
    county: County,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-12"])],
    format: Annotated[str, Query(pattern=r"^(json|xlsx)$")] = "json",
) -> Response | dict[str, Any]:
    """The county's 月报 for a month, per township: households and persons receiving (urban,
    rural, by category), amount paid, new households, exits by reason, increases and
    reductions, average per person. Paid figures are the month's released payroll run."""
    check_county(actor, Action.READ_STATISTICS, county)
    async with sessions() as session:
        report = await monthly_repo.report(session, county, month)
    if format == "xlsx":
        return Response(
            monthly_xlsx(report),
            media_type=XLSX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="monthly-{county}-{month}.xlsx"'
            },
        )
    return report_data(report)


# --- papers: 低保证, 低保证明, the household's file ---------------------------------------------


class LetterIn(BaseModel):
    purpose: str = Field(
        min_length=2,
        max_length=200,
        description="why the household asks for the letter (recorded with who printed it)",
        examples=["子女入学减免学费"],
    )


def _html(page: str) -> HTMLResponse:
    return HTMLResponse(page)


@router.get(
    "/cases/{case_id}/certificate",
    response_class=HTMLResponse,
    responses=documented(409, r409="the case has no entitlement: neither approved nor imported"),
)
async def certificate(
    case_id: CaseId, sessions: SessionsDep, settings: SettingsDep, actor: ActorDep
) -> HTMLResponse:
    """The household's 低保证, a printable A4 page."""
    await check_case(sessions, actor, Action.PRINT_PAPERS, case_id)
    h = await golive_service.papers_household(sessions, case_id)
    return _html(papers.certificate_html(settings.templates_dir, h, datetime.now(UTC)))


@router.post(
    "/cases/{case_id}/certificate-letter",
    response_class=HTMLResponse,
    responses=documented(409, r409="the case has no entitlement: neither approved nor imported"),
)
async def certificate_letter(
    case_id: CaseId, body: LetterIn, sessions: SessionsDep, settings: SettingsDep, actor: ActorDep
) -> HTMLResponse:
    """A 低保证明 for the purpose given: recorded (who, why, when) and in the audit log."""
    await check_case(sessions, actor, Action.PRINT_PAPERS, case_id)
    h = await golive_service.papers_household(sessions, case_id)
    async with sessions() as session:
        page = await papers.print_letter(
            session, settings.templates_dir, h, actor, body.purpose.strip(), datetime.now(UTC)
        )
    return _html(page)


@router.get("/cases/{case_id}/file", response_class=Response)
async def household_file(
    case_id: CaseId,
    sessions: SessionsDep,
    settings: SettingsDep,
    client: ClientDep,
    actor: ActorDep,
    format: Annotated[str, Query(pattern=r"^(pdf|html)$")] = "pdf",
) -> Response:
    """The household's whole file (一户一档) as one printable document: application, survey,
    verification, evaluation, postings, decisions, notices, ledger and payments, audit."""
    await check_case(sessions, actor, Action.READ_AUDIT, case_id)
    page = await golive_service.household_file_html(sessions, client, settings, case_id)
    if format == "html":
        return _html(page)
    pdf = await asyncio.to_thread(papers.to_pdf, page)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="file-{case_id}.pdf"'},
    )


class CaseReturnOut(BaseModel):
    run_id: str
    month: str
    kind: str
    amount: str = Field(description="yuan")
    reason: str = Field(description="the bank's reason (退票原因)")
    reissued: bool = Field(
        description="the account was corrected since: the next run pays it (or paid it) as 补发"
    )


@router.get("/cases/{case_id}/returns", response_model=list[CaseReturnOut])
async def case_returns(
    case_id: CaseId, sessions: SessionsDep, actor: ActorDep
) -> list[CaseReturnOut]:
    """The household's 退票: payment lines the bank returned, with its reason."""
    await check_case(sessions, actor, Action.READ_CASE, case_id)
    async with sessions() as session:
        rows = await bank_return_repo.returns_for_case(session, case_id)
        corrected = await bank_return_repo.newest_payee_id(session, case_id)
    return [
        CaseReturnOut(
            run_id=r.run_id,
            month=r.month,
            kind=r.kind,
            amount=format_yuan(r.amount_fen),
            reason=r.reason,
            reissued=corrected > r.payee_id_at_return,
        )
        for r in rows
    ]
