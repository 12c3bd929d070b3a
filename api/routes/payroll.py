"""/payroll: a county's payroll runs (花名册 and bank file), their release, and what a household
was paid.

A run is built and released by PayrollWorkflow (`payroll-{county}-{period}`) through
api/payroll_service (which the console's 发放 page calls too); reads come from PostgreSQL, where
the released runs are immutable.
"""

# No `from __future__ import annotations`: FastAPI reads the body and response types from the
# annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api import errors, payroll_service
from api.case_service import QueuedOut, queued
from api.deps import (
    AUTHENTICATED,
    ClientDep,
    IdempotencyKey,
    ReadSessionDep,
    SessionDep,
    SessionsDep,
    SettingsDep,
    case_actor,
    check_county,
    require,
)
from api.fields import CaseId, Line, Text
from api.paging import After, decode_time_key, encode_key
from api.responses import documented
from api.schemas import Strict
from dibao.db import payroll_repo, payroll_view_repo, procedure_repo
from dibao.db.payroll_models import PayrollRunRow
from dibao.domain.access import Action
from dibao.domain.calendar import china_date
from dibao.domain.money import format_yuan
from dibao.domain.payroll import (
    Change,
    RunStatus,
    member_shares,
    month_accounts,
    month_of,
)
from dibao.messages.case import Actor

router = APIRouter(
    tags=["payroll"], dependencies=AUTHENTICATED, responses=documented(401, 403, 404, 413, 422)
)

RunId = Annotated[
    str, Path(max_length=40, pattern=r"^[A-Za-z0-9-]+$", examples=["PR-610423-2026-11"])
]
# The role is checked before anything else (403); the county once the run or body names it.
PayrollReader = Annotated[Actor, Depends(require(Action.READ_PAYROLL))]


class RunIn(Strict):
    county_code: Line = Field(max_length=6, pattern=r"^\d{6}$", examples=["610423"])
    period: Line = Field(
        max_length=7,
        description="a month (YYYY-MM: urban, and rural paid monthly) or a quarter (YYYY-Qn)",
        examples=["2026-11", "2026-Q4"],
    )


class RunOut(BaseModel):
    run_id: str
    county_code: str
    period: str
    status: str = Field(description="building, draft (waiting for the checker) or released")
    maker: str | None = None
    checker: str | None = None
    built_at: datetime | None = None
    released_at: datetime | None = None
    households: int | None = Field(default=None, description="rows of the bank file")
    total: str | None = Field(default=None, description="yuan, net of arrears and recoveries")
    bank_file_sha256: str | None = None
    bank_file_url: str | None = None
    roster_url: str | None = None
    status_detail: str | None = Field(
        default=None,
        description="while building: retried after an interruption (attempt, last error), "
        "waiting for a worker, or plain building",
    )

    @classmethod
    def from_row(cls, row: PayrollRunRow) -> "RunOut":
        return cls(
            run_id=row.run_id,
            county_code=row.county_code,
            period=row.period,
            status=row.status,
            maker=row.maker,
            checker=row.checker,
            built_at=row.built_at,
            released_at=row.released_at,
            households=row.households,
            total=format_yuan(row.total_fen),
            bank_file_sha256=row.bank_file_sha256,
            bank_file_url=f"/payroll/runs/{row.run_id}/bank-file",
            roster_url=f"/payroll/runs/{row.run_id}/roster",
        )


class RunListOut(BaseModel):
    items: list[RunOut]
    next: str | None = Field(
        default=None, description="pass as `after=` for the next page; null on the last"
    )


class ChangeOut(BaseModel):
    effective_month: str
    monthly_amount: str
    change_kind: str
    reason: str
    recorded_at: datetime
    paid_members: int | None = Field(
        description="members the amount is paid for; null on changes recorded before it was"
    )
    per_member: list[str] = Field(
        description="the amount split over those members in whole fen, adding up exactly"
    )


class PaidLineOut(BaseModel):
    run_id: str
    period: str
    run_status: str
    month: str
    kind: str
    amount: str


class MonthOut(BaseModel):
    month: str
    entitled: str
    paid: str = Field(description="by released runs")
    paid_members: int | None = None
    per_member: list[str] = Field(default_factory=list, description="each member's share")


class PaymentsOut(BaseModel):
    case_id: str
    changes: list[ChangeOut]
    lines: list[PaidLineOut]
    months: list[MonthOut] = Field(
        description="from the first change to this month (or the last month paid)"
    )


_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "the role may not do this, the county is outside the user's "
        "jurisdiction, or the checker is the roster's maker"
    },
    409: {"description": "wrong state: already released, or another draft of the county waits"},
    422: {"description": "invalid input: `detail` lists each field path and reason"},
}


@router.post(
    "/payroll/runs",
    status_code=201,
    response_model=RunOut,
    responses={
        200: {"description": "the run of this county and period exists already"},
        202: {"description": "the roster is still being built; GET the run later"},
        **_RESPONSES,
    },
    summary="Build the payroll of a county for a period (花名册 and bank file)",
)
async def create_run(
    body: RunIn,
    response: Response,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Action.BUILD_PAYROLL))],
) -> RunOut:
    built = await payroll_service.build(
        sessions, client, settings, actor, body.county_code, body.period
    )
    if built.row is None:
        response.status_code = 202
        return RunOut(
            run_id=built.run_id,
            county_code=built.county_code,
            period=built.period,
            status="building",
            status_detail=built.status_detail,
        )
    if built.existed:
        response.status_code = 200
    else:
        response.headers["Location"] = f"/payroll/runs/{built.run_id}"
    return RunOut.from_row(built.row)


@router.get(
    "/payroll/runs",
    response_model=RunListOut,
    summary="Payroll runs of the user's county, newest first",
)
async def list_runs(
    session: ReadSessionDep,
    actor: PayrollReader,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: After = None,
) -> RunListOut:
    county = county or actor.jurisdiction[:6]
    check_county(actor, Action.READ_PAYROLL, county)
    key = decode_time_key(after, str) if after else None
    # One row past the page: whether there is a next one.
    rows = await payroll_view_repo.runs_page(session, county, limit + 1, key)
    more = len(rows) > limit
    rows = rows[:limit]
    return RunListOut(
        items=[RunOut.from_row(r) for r in rows],
        next=encode_key(rows[-1].built_at, rows[-1].run_id) if more else None,
    )


@router.get(
    "/payroll/runs/{run_id}",
    response_model=RunOut,
    summary="One payroll run; while it is being built, how the build is going",
)
async def get_run(
    run_id: RunId, sessions: SessionsDep, client: ClientDep, actor: PayrollReader
) -> RunOut:
    async with sessions() as session:
        row = await payroll_repo.get_run(session, run_id)
    if row is not None:
        check_county(actor, Action.READ_PAYROLL, row.county_code)
        return RunOut.from_row(row)
    # Not stored yet: being built, if its workflow runs.
    built = await payroll_service.building(client, actor, run_id)
    return RunOut(
        run_id=run_id,
        county_code=built.county_code,
        period=built.period,
        status="building",
        status_detail=built.status_detail,
    )


@router.get(
    "/payroll/runs/{run_id}/bank-file",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The bank file (CSV, UTF-8; last row: SHA256 of the rows before it)",
)
async def get_bank_file(run_id: RunId, sessions: SessionsDep, actor: PayrollReader) -> Response:
    await payroll_service.readable_run(sessions, actor, run_id)
    stored = await payroll_repo.open_file(sessions, run_id, payroll_repo.RunFile.BANK)
    if stored is None:
        raise errors.not_found(f"payroll run {run_id}")
    return streamed(
        stored,
        "text/csv; charset=utf-8",
        {
            "Content-Disposition": f'attachment; filename="{run_id}.csv"',
            "X-Content-SHA256": stored.bank_file_sha256,
        },
    )


def streamed(
    stored: payroll_repo.StoredFile, media_type: str, headers: dict[str, str]
) -> StreamingResponse:
    """A stored file sent as it is read from the database (a county's files are megabytes),
    with its length when known."""
    if stored.size is not None:
        headers = {**headers, "Content-Length": str(stored.size)}
    return StreamingResponse(stored.chunks(), media_type=media_type, headers=headers)


@router.get(
    "/payroll/runs/{run_id}/roster",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}},
    summary="The roster (花名册) for printing and signing",
)
async def get_roster(run_id: RunId, sessions: SessionsDep, actor: PayrollReader) -> Response:
    await payroll_service.readable_run(sessions, actor, run_id)
    stored = await payroll_repo.open_file(sessions, run_id, payroll_repo.RunFile.ROSTER)
    if stored is None:
        raise errors.not_found(f"payroll run {run_id}")
    return streamed(stored, "text/html; charset=utf-8", {})


# Release and discard wait for the workflow's worker only so long (api/case_service.py).
_QUEUED_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_RESPONSES,
    202: {
        "model": QueuedOut,
        "description": "no worker took it up within a few seconds: Temporal keeps it and "
        "applies it once when a worker is back; repeat with the same Idempotency-Key",
    },
}


@router.post(
    "/payroll/runs/{run_id}/release",
    response_model=RunOut,
    responses=_QUEUED_RESPONSES,
    summary="Check and release a run (审核); the checker may not be its maker",
)
async def release_run(
    run_id: RunId,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Action.RELEASE_PAYROLL))],
    idempotency_key: IdempotencyKey = None,
) -> RunOut | JSONResponse:
    released = await payroll_service.release(
        sessions, client, settings, actor, run_id, idempotency_key
    )
    if isinstance(released, payroll_service.QueuedAction):
        return queued(released.request_id, released.reason)
    return RunOut.from_row(released)


class DiscardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(
        min_length=1, max_length=1000, examples=["11月有两户停发未录入，花名册作废重做"]
    )


class DiscardOut(BaseModel):
    run_id: str
    status: str = "discarded"
    discards: list[dict[str, Any]] = Field(
        description="every discarded build of this run ID: what it held, by whom, why"
    )


@router.post(
    "/payroll/runs/{run_id}/discard",
    response_model=DiscardOut,
    responses=_QUEUED_RESPONSES,
    summary="Discard a draft before release (作废), with a reason; the period can be built again",
)
async def discard_run(
    run_id: RunId,
    body: DiscardIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Action.RELEASE_PAYROLL))],
    idempotency_key: IdempotencyKey = None,
) -> DiscardOut | JSONResponse:
    records = await payroll_service.discard(
        sessions, client, settings, actor, run_id, body.reason, idempotency_key
    )
    if isinstance(records, payroll_service.QueuedAction):
        return queued(records.request_id, records.reason)
    return DiscardOut(
        run_id=run_id,
        discards=[
            {
                "built_at": r.built_at,
                "maker": r.maker,
                "households": r.households,
                "total": format_yuan(r.total_fen),
                "bank_file_sha256": r.bank_file_sha256,
                "discarded_by": r.discarded_by,
                "reason": r.reason,
                "discarded_at": r.discarded_at,
            }
            for r in records
        ],
    )


@router.get(
    "/cases/{case_id}/payments",
    response_model=PaymentsOut,
    responses={403: {"description": "outside the user's jurisdiction, or recused"}},
    dependencies=[Depends(case_actor(Action.READ_CASE))],
    summary="A household's entitlement changes, payroll lines and balance by month",
)
async def case_payments(case_id: CaseId, session: SessionDep) -> PaymentsOut:
    changes = await procedure_repo.entitlements_for_case(session, case_id)
    lines = await payroll_repo.lines_for_case(session, case_id)
    paid: dict[str, int] = {}
    for line in lines:
        if line.run_status == RunStatus.RELEASED.value:
            paid[line.month] = paid.get(line.month, 0) + line.amount_fen
    today = china_date(datetime.now(UTC))
    accounts = month_accounts(
        [
            Change(
                c.effective_month,
                c.monthly_amount_fen,
                c.change_kind,
                c.id,
                paid_members=c.paid_members or 0,
            )
            for c in changes
        ],
        paid,
        month_of(today.year, today.month),
    )
    return PaymentsOut(
        case_id=case_id,
        changes=[
            ChangeOut(
                effective_month=c.effective_month,
                monthly_amount=format_yuan(c.monthly_amount_fen),
                change_kind=c.change_kind,
                reason=c.reason,
                recorded_at=c.recorded_at,
                paid_members=c.paid_members,
                per_member=[
                    format_yuan(f) for f in member_shares(c.monthly_amount_fen, c.paid_members or 0)
                ],
            )
            for c in changes
        ],
        lines=[
            PaidLineOut(
                run_id=line.run_id,
                period=line.period,
                run_status=line.run_status,
                month=line.month,
                kind=line.kind,
                amount=format_yuan(line.amount_fen),
            )
            for line in lines
        ],
        months=[
            MonthOut(
                month=a.month,
                entitled=format_yuan(a.entitled_fen),
                paid=format_yuan(a.paid_fen),
                paid_members=a.paid_members or None,
                per_member=[format_yuan(f) for f in a.shares],
            )
            for a in accounts
        ],
    )
