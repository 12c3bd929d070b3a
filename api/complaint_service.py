"""What the complaint endpoints, the console and the CLI do (mca-2021 Arts. 36–37): record,
assign, investigate, answer in writing, close; a founded complaint acts on its case through the
case actions of api/case_service.

Every step is taken once per request ID. The complainant's name and contact never leave the
complaints table but to the staff who handle complaints (complaints.SEES_COMPLAINANT), and are
never logged, hashed into an audit row or sent to a workflow.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import errors
from api.case_service import run_update
from api.complaint_schemas import (
    AnswerIn,
    AssignIn,
    CloseIn,
    ComplaintEventOut,
    ComplaintIn,
    ComplaintOut,
    InvestigationIn,
)
from api.deps import check_case_access
from dibao.db import calendar_repo, cases_repo, complaints_repo, regions_repo, rulepacks_repo
from dibao.db.complaint_models import ComplaintEventRow, ComplaintRow
from dibao.domain import complaints as rules
from dibao.domain.access import Action
from dibao.domain.application import FieldError
from dibao.domain.calendar import china_date, horizon
from dibao.domain.complaints import (
    Channel,
    ComplaintKind,
    ComplaintState,
    ComplaintStatus,
    Finding,
    FollowUp,
    Level,
    Source,
    Step,
)
from dibao.domain.hashing import payload_sha256
from dibao.domain.recipient import CircumstanceKind
from dibao.messages.case import Actor, ReportCircumstance, Terminate
from dibao.notices.render import content_sha256, render_page
from dibao.settings import Settings
from workflows.case import CaseWorkflow

ANSWER_TEMPLATE = "notices/complaint_answer.html.j2"


def new_complaint_id() -> str:
    return "C-" + secrets.token_hex(10).upper()


def state_of(row: ComplaintRow) -> ComplaintState:
    return ComplaintState(
        status=ComplaintStatus(row.status),
        channel=Channel(row.channel),
        kind=ComplaintKind(row.kind),
        county_code=row.county_code,
        township_code=row.township_code,
        village_code=row.village_code,
        assigned_level=Level(row.assigned_level) if row.assigned_level else None,
        finding=Finding(row.finding) if row.finding else None,
    )


def sees_complainant(actor: Actor) -> bool:
    return actor.role in rules.SEES_COMPLAINANT


def to_out(
    row: ComplaintRow,
    actor: Actor,
    events: list[ComplaintEventRow] | None = None,
    follow_up_result: str | None = None,
) -> ComplaintOut:
    visible = sees_complainant(actor)
    status = ComplaintStatus(row.status)
    return ComplaintOut(
        complaint_id=row.complaint_id,
        kind=ComplaintKind(row.kind),
        channel=Channel(row.channel),
        source=Source(row.source),
        case_id=row.case_id,
        county_code=row.county_code,
        township_code=row.township_code,
        village_code=row.village_code,
        summary=row.summary,
        status=status,
        status_zh=rules.STATUS_ZH[status],
        assigned_level=Level(row.assigned_level) if row.assigned_level else None,
        finding=Finding(row.finding) if row.finding else None,
        investigation=row.investigation,
        follow_up=FollowUp(row.follow_up) if row.follow_up else None,
        received_at=row.received_at,
        received_by=row.received_by,
        due_at=row.due_at,
        due_warning=row.due_warning,
        overdue=rules.overdue(status, china_date(row.due_at), china_date(datetime.now(UTC))),
        answered_at=row.answered_at,
        answer_sha256=row.answer_sha256,
        answer_url=(
            f"/complaints/{row.complaint_id}/answer" if row.answer_sha256 and visible else None
        ),
        closed_at=row.closed_at,
        rule_pack=f"{row.rule_pack_id}@{row.rule_pack_version}",
        complainant_name=row.complainant_name if visible else None,
        complainant_contact=row.complainant_contact if visible else None,
        complainant_hidden=not visible and row.channel == Channel.REAL_NAME.value,
        events=[
            ComplaintEventOut(
                step=Step(e.step),
                actor_id=e.actor_id,
                actor_role=e.actor_role,
                at=e.at,
                detail={k: str(v) for k, v in e.detail.items()},
            )
            for e in events or []
        ],
        follow_up_result=follow_up_result,
    )


def _problems(pairs: list[tuple[str, str]]) -> HTTPException:
    return errors.unprocessable([FieldError((field,), message) for field, message in pairs])


async def _place_of(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, body: ComplaintIn
) -> tuple[str, str | None, str | None]:
    """(county, township, village) of the complaint: the case's, or as given."""
    if body.case_id is not None:
        # The role, the jurisdiction and recusal (a near relative of the household does not
        # take a complaint about it), as for any action on the case.
        access = await check_case_access(sessions, actor, Action.HANDLE_COMPLAINT, body.case_id)
        place = access.place
        if body.kind is ComplaintKind.RECIPIENT:
            async with sessions() as session:
                row = await cases_repo.get_case(session, body.case_id)
            if row is None or row.stage != "recipient":
                raise _problems(
                    [("case_id", "a complaint about a recipient names a case receiving 低保")]
                )
        return place.county_code, place.township_code, place.village_code
    if body.county_code is None:
        raise _problems([("county_code", "a general complaint names its county")])
    codes = [body.county_code, body.township_code, body.village_code]
    for parent, child, field in (
        (codes[0], codes[1], "township_code"),
        (codes[1] or codes[0], codes[2], "village_code"),
    ):
        if child is not None and parent is not None and not child.startswith(parent):
            raise _problems([(field, f"must lie inside {parent}")])
    return body.county_code, body.township_code, body.village_code


async def record(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    actor: Actor,
    body: ComplaintIn,
    request_id: str | None,
) -> tuple[ComplaintOut, bool]:
    """Record a complaint (Art. 36); (the complaint, whether this request created it)."""
    problems = rules.kind_problems(body.kind, body.case_id)
    problems += rules.complainant_problems(
        body.channel, body.complainant_name, body.complainant_contact
    )
    if problems:
        raise _problems(problems)
    county, township, village = await _place_of(sessions, actor, body)
    refused = rules.record_denial(actor, village or township or county)
    if refused:
        raise errors.forbidden(refused)
    now = datetime.now(UTC)
    today = china_date(now)
    async with sessions() as session:
        pack = await rulepacks_repo.pack_for_county(session, county, settings.default_rule_pack)
        days = pack.complaint_working_days
        is_working_day = await calendar_repo.working_day_function(
            session, today, horizon(today, days)
        )
    deadline = rules.due(today, days, is_working_day)
    real_name = body.channel is Channel.REAL_NAME
    row = ComplaintRow(
        complaint_id=new_complaint_id(),
        request_id=request_id or str(uuid.uuid4()),
        kind=body.kind.value,
        channel=body.channel.value,
        source=body.source.value,
        case_id=body.case_id,
        county_code=county,
        township_code=township,
        village_code=village,
        summary=body.summary,
        complainant_name=body.complainant_name if real_name else None,
        complainant_contact=body.complainant_contact if real_name else None,
        status=ComplaintStatus.RECEIVED.value,
        assigned_level=None,
        finding=None,
        investigation=None,
        follow_up=None,
        answer_content=None,
        answer_sha256=None,
        answered_at=None,
        received_by=actor.id,
        received_at=now,
        due_at=deadline.due_at,
        due_warning=deadline.warning,
        rule_pack_id=pack.id,
        rule_pack_version=pack.version,
        closed_at=None,
    )
    # What the events and the audit keep: never the complainant.
    detail = {"kind": body.kind.value, "channel": body.channel.value, "source": body.source.value}
    hashed = payload_sha256({**detail, "summary": body.summary})
    async with sessions() as session:
        applied = await complaints_repo.record(session, row, actor, detail, hashed)
        events = await complaints_repo.events(session, applied.row.complaint_id)
    stored = applied.row
    if not applied.created and (stored.summary, stored.kind) != (body.summary, body.kind.value):
        raise errors.unprocessable_header(
            "Idempotency-Key",
            "this key was already used for a different complaint; use a new key",
        )
    return to_out(stored, actor, events), applied.created


async def read(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, complaint_id: str
) -> ComplaintOut:
    async with sessions() as session:
        row = await complaints_repo.get(session, complaint_id)
        if row is None:
            raise errors.not_found(f"complaint {complaint_id}")
        refused = rules.read_denial(actor, state_of(row))
        if refused:
            raise errors.forbidden(refused, complaint_id=complaint_id)
        events = await complaints_repo.events(session, complaint_id)
    return to_out(row, actor, events)


async def answer_document(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, complaint_id: str
) -> str:
    """The written answer as issued; it names the reporter, so only for those who see them."""
    async with sessions() as session:
        row = await complaints_repo.get(session, complaint_id)
    if row is None:
        raise errors.not_found(f"complaint {complaint_id}")
    refused = rules.read_denial(actor, state_of(row))
    if refused:
        raise errors.forbidden(refused, complaint_id=complaint_id)
    if not sees_complainant(actor):
        raise errors.forbidden(
            "the written answer names the reporter: only the staff who handle complaints read "
            "it (mca-2021 Art. 37); its hash is on the complaint"
        )
    if row.answer_content is None:
        raise errors.not_found(f"the written answer of complaint {complaint_id}")
    return row.answer_content


@dataclass(frozen=True)
class _Step:
    step: Step
    change: Callable[[ComplaintRow], str | None]  # changes the row, or says why not
    detail: dict[str, str]


async def _take(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    complaint_id: str,
    request_id: str | None,
    spec: _Step,
) -> tuple[ComplaintRow, bool]:
    async with sessions() as session:
        row = await complaints_repo.get(session, complaint_id)
    if row is None:
        raise errors.not_found(f"complaint {complaint_id}")
    state = state_of(row)
    refused = rules.read_denial(actor, state) or rules.step_denial(actor, spec.step, state)
    if refused:
        raise errors.forbidden(refused, complaint_id=complaint_id)
    if row.case_id is not None:
        await check_case_access(sessions, actor, Action.HANDLE_COMPLAINT, row.case_id)

    def change(locked: ComplaintRow) -> str | None:
        problem = rules.transition_problem(spec.step, state_of(locked))
        if problem:
            return problem
        problem = spec.change(locked)
        if problem:
            return problem
        locked.status = rules.next_status(spec.step).value
        return None

    async with sessions() as session:
        outcome = await complaints_repo.apply_step(
            session,
            complaint_id,
            spec.step,
            request_id or str(uuid.uuid4()),
            actor,
            datetime.now(UTC),
            change,
            spec.detail,
            payload_sha256(spec.detail),
        )
    match outcome:
        case None:
            raise errors.not_found(f"complaint {complaint_id}")
        case complaints_repo.Refused(reason):
            if reason.split(":")[0] in {"township_code", "follow_up"}:
                raise errors.unprocessable_message(reason)
            raise errors.conflict(reason, complaint_id=complaint_id)
        case complaints_repo.KeyReused(step):
            raise errors.unprocessable_header(
                "Idempotency-Key", f"this key was already used for the {step} step; use a new key"
            )
        case complaints_repo.Applied(stored, created):
            return stored, created
    raise AssertionError(outcome)


async def _out(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    row: ComplaintRow,
    follow_up_result: str | None = None,
) -> ComplaintOut:
    async with sessions() as session:
        events = await complaints_repo.events(session, row.complaint_id)
    return to_out(row, actor, events, follow_up_result)


async def assign(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    complaint_id: str,
    body: AssignIn,
    request_id: str | None,
) -> ComplaintOut:
    """To the township (which then handles it) or the county (000 篇3 line 54: 专人负责)."""

    def change(row: ComplaintRow) -> str | None:
        township = body.township_code or row.township_code
        problems = rules.assign_problems(body.level, township, row.county_code)
        if problems:
            field, message = problems[0]
            return f"{field}: {message}"
        if body.level is Level.TOWNSHIP and row.township_code is None:
            row.township_code = township
        elif body.level is Level.TOWNSHIP and township != row.township_code:
            return "township_code: the complaint lies in another township"
        row.assigned_level = body.level.value
        return None

    detail = {"level": body.level.value, "township_code": body.township_code or ""}
    row, _ = await _take(
        sessions, actor, complaint_id, request_id, _Step(Step.ASSIGN, change, detail)
    )
    return await _out(sessions, actor, row)


async def investigate(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    actor: Actor,
    complaint_id: str,
    body: InvestigationIn,
    request_id: str | None,
) -> ComplaintOut:
    """Record what the check found (Art. 37 逐一核查); a founded complaint may start a
    re-review of the recipient or end the application (000 篇5 line 69)."""

    def change(row: ComplaintRow) -> str | None:
        problem = rules.follow_up_problem(
            ComplaintKind(row.kind), body.finding, body.follow_up, row.case_id
        )
        if problem:
            return problem
        row.finding = body.finding.value
        row.investigation = body.summary
        row.follow_up = body.follow_up.value
        return None

    request_id = request_id or str(uuid.uuid4())
    detail = {"finding": body.finding.value, "follow_up": body.follow_up.value}
    row, _ = await _take(
        sessions, actor, complaint_id, request_id, _Step(Step.INVESTIGATE, change, detail)
    )
    result = None
    follow_up = FollowUp(row.follow_up) if row.follow_up else FollowUp.NONE
    if follow_up is not FollowUp.NONE and row.case_id is not None:
        # A repeat of the same request re-sends the same update ID: the case acts once.
        result = await _follow_up(sessions, client, settings, actor, row, follow_up)
    return await _out(sessions, actor, row, result)


async def _follow_up(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    actor: Actor,
    row: ComplaintRow,
    follow_up: FollowUp,
) -> str:
    assert row.case_id is not None
    key = f"complaint-{row.complaint_id}"
    # The case's history learns that a complaint was founded and its ID, never who made it.
    reason = f"举报/投诉（{row.complaint_id}）经核查属实：{(row.investigation or '')[:900]}"
    try:
        if follow_up is FollowUp.REVIEW:
            access = await check_case_access(sessions, actor, Action.CIRCUMSTANCE, row.case_id)
            message: ReportCircumstance | Terminate = ReportCircumstance(
                request_id=key, actor=actor, kind=CircumstanceKind.INCOME_CHANGE, details=reason
            )
            update: Any = CaseWorkflow.report_circumstance
            what = "复核已启动（该户列入待复核）"
        else:
            access = await check_case_access(sessions, actor, Action.TERMINATE, row.case_id)
            message = Terminate(request_id=key, actor=actor, reason=reason)
            update = CaseWorkflow.terminate
            what = "该申请已终止办理"
        answered = await run_update(
            sessions,
            client,
            settings,
            row.case_id,
            update,
            message,
            f"{'circumstance' if follow_up is FollowUp.REVIEW else 'terminate'}-{key}",
            key,
            county_code=access.place.county_code,
        )
    except HTTPException as exc:
        detail = exc.detail
        why = detail.get("message") if isinstance(detail, dict) else str(detail)
        raise HTTPException(
            status_code=exc.status_code,
            detail={
                "message": f"the finding is recorded, but the case did not take the follow-up: "
                f"{why}; repeat the request with the same Idempotency-Key to try again",
                "complaint_id": row.complaint_id,
                "case_id": row.case_id,
            },
        ) from exc
    if isinstance(answered, JSONResponse):  # 202: no worker took it up yet
        return f"{what}：已交工作流排队，工作进程恢复后执行一次"
    return what


async def answer(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    actor: Actor,
    complaint_id: str,
    body: AnswerIn,
    request_id: str | None,
) -> ComplaintOut:
    """The written answer (Art. 37: 向举报人反馈核查处理结果), stored and hashed like a notice."""
    async with sessions() as session:
        names = await regions_repo.all_names(session)
    issued_at = datetime.now(UTC)

    def change(row: ComplaintRow) -> str | None:
        level = Level(row.assigned_level) if row.assigned_level else Level.COUNTY
        issuer = (
            regions_repo.township_office(names, row.township_code)
            if level is Level.TOWNSHIP and row.township_code
            else regions_repo.county_office(names, row.county_code)
        )
        place = regions_repo.place_name(
            names, row.village_code or row.township_code or row.county_code
        )
        content = render_page(
            settings.templates_dir,
            ANSWER_TEMPLATE,
            {
                "complaint_id": row.complaint_id,
                "addressee": row.complainant_name or "举报人",
                "received_at": row.received_at,
                "source": rules.SOURCE_ZH[Source(row.source)],
                "kind": rules.KIND_ZH[ComplaintKind(row.kind)],
                "place": place,
                "summary": row.summary,
                "investigation": row.investigation or "",
                "finding": rules.FINDING_ZH[Finding(row.finding or Finding.UNFOUNDED.value)],
                "follow_up": rules.FOLLOW_UP_ZH[FollowUp(row.follow_up or FollowUp.NONE.value)],
                "text": body.text,
                "issuer": issuer,
                "issued_at": issued_at,
                "complaint_phone": settings.complaint_phone,
            },
        )
        row.answer_content = content
        row.answer_sha256 = content_sha256(content)
        row.answered_at = issued_at
        return None

    detail = {"text_sha256": payload_sha256({"text": body.text})}
    row, _ = await _take(
        sessions, actor, complaint_id, request_id, _Step(Step.ANSWER, change, detail)
    )
    return await _out(sessions, actor, row)


async def close(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    complaint_id: str,
    body: CloseIn,
    request_id: str | None,
) -> ComplaintOut:
    def change(row: ComplaintRow) -> str | None:
        row.closed_at = datetime.now(UTC)
        return None

    row, _ = await _take(
        sessions,
        actor,
        complaint_id,
        request_id,
        _Step(Step.CLOSE, change, {"note": body.note[:200]}),
    )
    return await _out(sessions, actor, row)


async def list_page(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    *,
    status: ComplaintStatus | None = None,
    overdue: bool = False,
    case_id: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> tuple[list[ComplaintOut], tuple[datetime, str] | None]:
    """Complaints in the user's jurisdiction, newest first; the key of the next page."""
    async with sessions() as session:
        return await list_page_in(
            session,
            actor,
            status=status,
            overdue=overdue,
            case_id=case_id,
            after=after,
            limit=limit,
        )


async def list_page_in(
    session: AsyncSession,
    actor: Actor,
    *,
    status: ComplaintStatus | None = None,
    overdue: bool = False,
    case_id: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> tuple[list[ComplaintOut], tuple[datetime, str] | None]:
    """As list_page, on a session of the caller's (GET /complaints: the request's reader)."""
    if actor.role not in rules.READERS:
        raise errors.forbidden(
            f"a {actor.role.value} may not read complaints: the township and the county handle "
            "them (mca-2021 Art. 36)"
        )
    flt = complaints_repo.ComplaintFilter(
        jurisdiction=actor.jurisdiction,
        status=status.value if status else None,
        overdue_at=datetime.now(UTC) if overdue else None,
        case_id=case_id,
    )
    rows = await complaints_repo.list_page(session, flt, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = (rows[-1].received_at, rows[-1].complaint_id) if more and rows else None
    return [to_out(r, actor) for r in rows], next_key
