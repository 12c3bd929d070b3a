"""POST /cases/{id}/household-change: a member joins or leaves, the head dies or changes
(动态管理; mca-2021 Arts. 30–32). With successor new_case (停旧建新) the old case stops and
the linked new case is opened and started here."""

# No `from __future__ import annotations`: FastAPI reads the body type from the annotation.

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import (
    AUTHENTICATED,
    CaseAccess,
    ClientDep,
    IdempotencyKey,
    SessionsDep,
    SettingsDep,
    case_access,
)
from api.fields import CaseId
from api.household_change import HouseholdChangeIn, start_successor, with_links
from api.responses import documented
from api.routes.actions import RESPONSES, SENDS, act
from api.schemas import CaseOut
from dibao.domain.access import Action
from dibao.domain.actions import case_path, segment
from dibao.domain.household_change import Successor
from workflows.case import CaseWorkflow

router = APIRouter(
    tags=["actions"], dependencies=AUTHENTICATED, responses=documented(401, 403, 404, 409, 413, 422)
)


SENDS[Action.HOUSEHOLD_CHANGE.value] = CaseWorkflow.report_household_change


@router.post(
    case_path(Action.HOUSEHOLD_CHANGE),
    response_model=CaseOut,
    responses=RESPONSES,
    summary="Report a family change (家庭人口变化): the case is recomputed on the new household; "
    "when the head leaves, a new head on this case or 停旧建新",
)
async def report_household_change(
    case_id: CaseId,
    body: HouseholdChangeIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    case: Annotated[CaseAccess, Depends(case_access(Action.HOUSEHOLD_CHANGE))],
    idempotency_key: IdempotencyKey = None,
) -> CaseOut | JSONResponse:
    out = await act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.report_household_change,
        idempotency_key,
        lambda rid: body.to_message(rid, case.actor),
        segment(Action.HOUSEHOLD_CHANGE),
        case,
    )
    if not isinstance(out, CaseOut):
        return out  # queued: the new case is opened when the request is repeated
    if body.successor is Successor.NEW_CASE:
        await start_successor(
            sessions, client, settings, case_id, case.place.county_code, case.actor
        )
    return await with_links(sessions, out)
