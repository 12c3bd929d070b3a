"""The near-relative registry (近亲属备案): staff and village cadres register relatives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from api import errors
from api.deps import AUTHENTICATED, ActorDep, SessionDep
from api.fields import StaffIdPath
from api.procedure_schemas import StaffRelativeIn
from api.responses import documented
from dibao.db import procedure_repo
from dibao.db.procedure_models import StaffRelativeRow
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.application import validate_id_number
from dibao.domain.calendar import china_date

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
    actor: ActorDep,
) -> dict[str, Any]:
    refused = access.relative_denial(actor, Action.REGISTER_RELATIVE, staff_id)
    if refused:
        raise errors.forbidden(refused)
    reason = validate_id_number(body.relative_id_number.upper(), china_date(datetime.now(UTC)))
    if reason:
        raise errors.unprocessable_header_or_body("relative_id_number", reason)
    row = await procedure_repo.register_relative(
        session,
        StaffRelativeRow(
            staff_id=staff_id,
            staff_role=body.staff_role,
            relative_name=body.relative_name,
            relative_id_number=body.relative_id_number.upper(),
            relation=body.relation,
            registered_by=actor.id,
        ),
    )
    return {
        "id": row.id,
        "staff_id": row.staff_id,
        "relative_name": row.relative_name,
        "relation": row.relation,
        "registered_at": row.registered_at.isoformat(),
    }


@router.get(
    "/staff/{staff_id}/relatives",
    tags=["integrity"],
    summary="A staff member's registered relatives",
)
async def list_relatives(
    staff_id: StaffIdPath, session: SessionDep, actor: ActorDep
) -> list[dict[str, Any]]:
    refused = access.relative_denial(actor, Action.READ_RELATIVES, staff_id)
    if refused:
        raise errors.forbidden(refused)
    rows = await procedure_repo.relatives_of(session, staff_id)
    # The relative's ID number is masked: the registry is for matching, not for reading.
    return [
        {
            "id": r.id,
            "relative_name": r.relative_name,
            "relation": r.relation,
            "relative_id_number": r.relative_id_number[:6] + "********" + r.relative_id_number[-4:],
            "registered_by": r.registered_by,
            "registered_at": r.registered_at.isoformat(),
        }
        for r in rows
    ]
