"""What the case endpoints do, between HTTP and Temporal/PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from api.schemas import ApplicationIn, CaseOut, NoticeOut
from dibao.codec import payloads_of_county
from dibao.db import cases_repo, notices_repo, rulepacks_repo
from dibao.db.models import NoticeRow
from dibao.domain import access
from dibao.domain.application import validate_application
from dibao.domain.calendar import china_date
from dibao.domain.enums import CaseStatus, NoticeKind, Role, Stage
from dibao.domain.hashing import payload_sha256
from dibao.domain.materials import missing_materials, provided_materials
from dibao.domain.measures import place_of_application_problems
from dibao.messages.case import Actor, CaseInput, CaseView
from dibao.settings import Settings
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
QUERY_TIMEOUT = timedelta(seconds=5)
UPDATE_TIMEOUT = timedelta(seconds=30)


def new_case_id() -> str:
    """Opaque: random, carries no name, ID number or place."""
    return "DB-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


@dataclass(frozen=True)
class Filed:
    case: CaseOut
    created: bool


async def file_application(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    body: ApplicationIn,
    actor: Actor,
    idempotency_key: str | None,
) -> Filed:
    application = body.to_domain()
    problems = validate_application(application, today=china_date(datetime.now(UTC)))
    if problems:
        raise errors.unprocessable(problems)
    # After validation, so a mistyped code is a 422 naming the field rather than a 403.
    hukou = application.hukou
    refused = access.place_denial(
        actor.jurisdiction, hukou.county_code, hukou.township_code, hukou.village_code
    )
    if refused:
        raise errors.forbidden(refused)
    payload = body.model_dump(mode="json")
    async with sessions() as session:
        # The county's pack at its latest version, pinned by value for the life of the case.
        pack = await rulepacks_repo.pack_for_county(
            session, application.hukou.county_code, settings.default_rule_pack
        )
    # mca-2021 Arts. 5, 6: where the family may apply, by the county's pack.
    misplaced = place_of_application_problems(application, pack)
    if misplaced:
        raise errors.unprocessable(misplaced)
    case = CaseInput(
        case_id=new_case_id(),
        application=application,
        rule_pack_id=pack.id,
        rule_pack_version=pack.version,
        filed_at=datetime.now(UTC),
        filed_by=actor,
        request_id=idempotency_key or str(uuid.uuid4()),
        rule_pack=pack,
    )
    async with sessions() as session:
        try:
            outcome = await cases_repo.reserve_case(
                session, case, payload, idempotency_key, payload_sha256(payload)
            )
        except cases_repo.RaceLost:
            raise errors.conflict(
                "other filings of this household or key were being saved at the same moment; "
                "repeat the request"
            ) from None
    match outcome:
        case cases_repo.Reserved():
            await _start(client, settings, case)
            # Answered now, not when the worker has issued the first notice: under load that
            # wait held every filing for seconds. The answer says where the notice will appear.
            return Filed(_as_filed(case), created=True)
        case cases_repo.SameRequest(case_id):
            await ensure_workflow(sessions, client, settings, case_id)
            return Filed(await read_case(sessions, client, case_id), created=False)
        case cases_repo.KeyReused():
            # Keys are unique across counties: the other filing may be one this user may not
            # see, so neither its case ID nor anything of it is named.
            raise errors.unprocessable_header(
                "Idempotency-Key",
                "this key was already used for a different application; "
                "use a new key for a new application",
            )
        case cases_repo.HouseholdHasOpenCase(case_id):
            await ensure_workflow(sessions, client, settings, case_id)
            raise errors.conflict(
                f"the household already has an open case {case_id}; "
                "supplement or withdraw it instead of filing again",
                open_case_id=case_id,
            )


async def _start(client: Client, settings: Settings, case: CaseInput) -> None:
    hukou = case.application.hukou
    try:
        # Labelled with the household's county: the codec endpoint decrypts the case's
        # history only for users of that county, and the worker labels what it writes the same.
        with payloads_of_county(hukou.county_code):
            await client.start_workflow(
                CaseWorkflow.run,
                case,
                id=case.case_id,
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.STAGE, Stage.APPLICATION.value),
                        SearchAttributePair(sa.STATUS, CaseStatus.FILED.value),
                        SearchAttributePair(sa.COUNTY, hukou.county_code),
                        SearchAttributePair(sa.TOWNSHIP, hukou.township_code),
                    ]
                ),
            )
    except WorkflowAlreadyStartedError:
        pass  # closed already: nothing to restart
    except (RPCError, RuntimeError) as err:
        if isinstance(err, RuntimeError) and errors.dependency_down(err) is None:
            raise
        raise errors.unavailable(
            "the case was saved but its workflow could not be started; repeat the request "
            "with the same Idempotency-Key, or file again, to resume it",
            case_id=case.case_id,
            reason=err.message if isinstance(err, RPCError) else "Temporal unreachable",
        ) from err


async def ensure_workflow(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings, case_id: str
) -> None:
    """Start the workflow of a saved case if a crash came between saving and starting it."""
    async with sessions() as session:
        row = await cases_repo.get_case(session, case_id)
        app_row = await cases_repo.get_application_payload(session, case_id)
        if row is None or app_row is None or row.status != CaseStatus.FILED.value:
            return
        pack = await rulepacks_repo.get_pack(session, row.rule_pack_id, row.rule_pack_version)
    body = ApplicationIn.model_validate(app_row.payload)
    case = CaseInput(
        case_id=case_id,
        application=body.to_domain(),
        rule_pack_id=row.rule_pack_id,
        rule_pack_version=row.rule_pack_version,
        filed_at=row.filed_at,
        filed_by=Actor(id=app_row.filed_by, role=Role(app_row.filed_role)),
        request_id=app_row.idempotency_key or case_id,
        rule_pack=pack,
    )
    await _start(client, settings, case)


def _as_filed(case: CaseInput) -> CaseOut:
    """The case as saved, before its workflow's first step: no notice yet (pending)."""
    app = case.application
    provided = provided_materials(
        app.materials, app.declaration_signed, app.verification_authorised
    )
    missing = missing_materials(app, provided)
    return CaseOut.from_view(
        CaseView(
            case_id=case.case_id,
            stage=Stage.APPLICATION,
            status=CaseStatus.FILED,
            rule_pack_id=case.rule_pack_id,
            rule_pack_version=case.rule_pack_version,
            application=app,
            filed_at=case.filed_at,
            stage_entered_at=case.filed_at,
            due_at=None,
            due_warning=None,
            provided_materials=tuple(sorted(provided)),
            missing_materials=missing,
            notices=(),
            payee=app.payee,
        )
    )


async def read_case(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    case_id: str,
    *,
    row_read: bool = False,
) -> CaseOut:
    """The case as its workflow holds it, with the stored notices. `row_read`: the caller
    has read the case row already (its access check), so a missing workflow is not looked
    up again to tell an unknown case from one whose workflow cannot answer."""
    try:
        view = await client.get_workflow_handle(case_id).query(
            CaseWorkflow.state, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and not row_read:
            async with sessions() as session:
                if await cases_repo.get_case(session, case_id) is None:
                    raise errors.not_found(f"case {case_id}") from err
        return await _projection_view(sessions, case_id)
    except WorkflowQueryFailedError:
        # The worker could not answer this time (e.g. a workflow task over the deadlock
        # detector's two seconds on a starved CPU): the page says what the database knows
        # (`source: projection`) rather than fail.
        return await _projection_view(sessions, case_id)
    except RuntimeError as err:
        if errors.dependency_down(err) is None:
            raise
        return await _projection_view(sessions, case_id)  # Temporal unreachable
    return await with_stored_notices(sessions, CaseOut.from_view(view))


async def with_stored_notices(sessions: async_sessionmaker[AsyncSession], case: CaseOut) -> CaseOut:
    """一户一档: the case shows every notice issued to the household, once each and in order,
    from PostgreSQL, the record of truth, whatever its workflow run holds in memory."""
    async with sessions() as session:
        rows = await notices_repo.list_for_case(session, case.case_id)
    return case.model_copy(update={"notices": _notices_out(rows)})


def _notices_out(rows: list[NoticeRow]) -> list[NoticeOut]:
    return [
        NoticeOut(
            notice_id=n.notice_id,
            kind=NoticeKind(n.kind),
            content_sha256=n.content_sha256,
            url=f"/notices/{n.notice_id}",
        )
        for n in rows
    ]


async def _projection_view(sessions: async_sessionmaker[AsyncSession], case_id: str) -> CaseOut:
    """When the workflow cannot answer (no worker, history gone), say what the database knows."""
    async with sessions() as session:
        row = await cases_repo.get_case(session, case_id)
        if row is None:
            raise errors.not_found(f"case {case_id}")
        notices = await notices_repo.list_for_case(session, case_id)
    return CaseOut.model_validate(
        {
            "case_id": row.case_id,
            "stage": row.stage,
            "status": row.status,
            "rule_pack": f"{row.rule_pack_id}@{row.rule_pack_version}",
            "filed_at": row.filed_at,
            "stage_entered_at": row.stage_entered_at,
            "due_at": row.due_at,
            "due_warning": row.due_warning,
            "procedure_deadline": {
                "due_at": row.procedure_due_at,
                "overdue_since": row.procedure_overdue_since,
            }
            if row.procedure_due_at
            else None,
            "missing_materials": [],
            "provided_materials": [],
            "notices": _notices_out(notices),
            "source": "projection",
        }
    )


class QueuedOut(BaseModel):
    """An action no worker has taken up within the wait: Temporal keeps it and the case
    applies it once, when a worker is back. The request ID is its Idempotency-Key."""

    request_id: str
    case_id: str | None = None
    status: Literal["queued"] = "queued"
    reason: str


def queued(request_id: str, reason: str, **extra: Any) -> JSONResponse:
    body = QueuedOut(request_id=request_id, reason=reason, **extra)
    return JSONResponse(status_code=202, content=body.model_dump(mode="json"))


QUEUED_REASON = (
    "no worker took the action up within {seconds:g} s (is the worker running?); Temporal "
    "keeps it and applies it once when a worker is back. Sending it again with "
    "Idempotency-Key {request_id} is safe: it has no second effect and answers its outcome"
)


@dataclass(frozen=True)
class Queued:
    """send_update's answer when no worker accepted the update in time."""


async def send_update(
    handle: WorkflowHandle[Any, Any],
    update: Any,
    request: Any,
    update_id: str,
    accept_within: float,
    rpc_timeout: timedelta = UPDATE_TIMEOUT,
) -> Any:
    """Send an update and wait for its result, unless no worker accepts it within
    `accept_within` seconds: then `Queued`, the update left with Temporal.

    The update's ID is derived from the request ID, so a repeat attaches to the same update
    (before it applied) or answers its outcome (after): exactly once either way.
    """
    try:
        started = await asyncio.wait_for(
            handle.start_update(
                update,
                request,
                id=update_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                rpc_timeout=rpc_timeout,
            ),
            timeout=accept_within,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # Cancelling the wait does not withdraw the update: the server has admitted it.
        return Queued()
    # Accepted: a worker runs the handler now, so the result follows shortly.
    return await started.result(rpc_timeout=rpc_timeout)


async def run_update(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    case_id: str,
    update: Any,
    request: Any,
    update_id: str,
    request_id: str,
    county_code: str | None = None,
) -> CaseOut | JSONResponse:
    """Send a caseworker action; map the validator's rejection to 409 (stage) or 422 (input);
    202 (queued) when no worker takes it up in time. `county_code`: the case's, when the
    caller has read its row already."""
    handle = client.get_workflow_handle(case_id)
    if county_code is None:
        async with sessions() as session:
            row = await cases_repo.get_case(session, case_id)
        county_code = row.county_code if row is not None else None
    try:
        # The request is labelled with the case's county, like everything in its history.
        with payloads_of_county(county_code) if county_code is not None else nullcontext():
            result = await send_update(
                handle, update, request, update_id, settings.update_accept_seconds
            )
    except WorkflowUpdateFailedError as err:
        http = errors.from_rejection(err, case_id=case_id)
        if http is None:
            raise
        raise http from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            async with sessions() as session:
                row = await cases_repo.get_case(session, case_id)
            if row is None:
                raise errors.not_found(f"case {case_id}") from err
            raise errors.conflict("the case is closed", case_id=case_id) from err
        raise errors.unavailable(
            "the case workflow did not answer; the action was not applied", case_id=case_id
        ) from err
    if isinstance(result, Queued):
        reason = QUEUED_REASON.format(seconds=settings.update_accept_seconds, request_id=request_id)
        return queued(request_id, reason, case_id=case_id)
    view: CaseView = result
    return await with_stored_notices(sessions, CaseOut.from_view(view))
