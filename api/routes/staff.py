"""The near-relative registry (近亲属备案): staff and village cadres register relatives."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import relatives_service
from api.deps import AUTHENTICATED, ActorDep, ClientDep, ReadSessionDep, SessionDep
from api.fields import StaffIdPath
from api.procedure_schemas import StaffRelativeIn
from api.responses import documented

router = APIRouter(dependencies=AUTHENTICATED, responses=documented(401, 403, 413, 422))


@router.post(
    "/staff/{staff_id}/relatives",
    status_code=201,
    tags=["integrity"],
    summary="Register a close relative of a staff member or village cadre (近亲属备案)",
)
async def register_relative(
    staff_id: StaffIdPath,
    body: StaffRelativeIn,
    session: SessionDep,
    client: ClientDep,
    actor: ActorDep,
) -> dict[str, Any]:
    return await relatives_service.register_relative(session, client, actor, staff_id, body)


@router.get(
    "/staff/{staff_id}/relatives",
    tags=["integrity"],
    summary="A staff member's registered relatives",
)
async def list_relatives(
    staff_id: StaffIdPath, session: ReadSessionDep, actor: ActorDep
) -> list[dict[str, Any]]:
    return await relatives_service.relatives_of(session, actor, staff_id)
