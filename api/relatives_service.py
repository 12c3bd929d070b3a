"""The near-relative registry (近亲属备案), as the API routes and the console both use it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api import errors
from api.procedure_schemas import StaffRelativeIn
from api.recusal import recuse_at_once
from dibao.db import auth_repo, procedure_repo
from dibao.db.procedure_models import StaffRelativeRow
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.application import validate_id_number
from dibao.domain.calendar import china_date
from dibao.messages.case import Actor


async def _jurisdiction_of(session: AsyncSession, staff_id: str) -> str | None:
    """Where a staff member works, when they have an account; None for a cadre without one."""
    user = await auth_repo.get_user(session, staff_id)
    return user.jurisdiction_code if user is not None else None


async def register_relative(
    session: AsyncSession, client: Client, actor: Actor, staff_id: str, body: StaffRelativeIn
) -> dict[str, Any]:
    """Register the relative; the staff member recuses from the household's open cases at
    once. 403 outside the registrar's reach, 422 at `relative_id_number`."""
    staff_jurisdiction = await _jurisdiction_of(session, staff_id)
    refused = access.relative_denial(actor, Action.REGISTER_RELATIVE, staff_id, staff_jurisdiction)
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
            jurisdiction_code=access.registry_jurisdiction(actor, staff_id, staff_jurisdiction),
        ),
    )
    recused = await recuse_at_once(session, client, staff_id, row.relative_id_number)
    return {
        "id": row.id,
        "staff_id": row.staff_id,
        # How many open cases the staff member recuses from, from now on (a count: the cases
        # may lie outside the registering user's jurisdiction).
        "recused_open_cases": len(recused),
        "relative_name": row.relative_name,
        "relation": row.relation,
        "registered_at": row.registered_at.isoformat(),
    }


async def relatives_of(session: AsyncSession, actor: Actor, staff_id: str) -> list[dict[str, Any]]:
    """A staff member's registered relatives, the ID numbers masked."""
    staff_jurisdiction = await _jurisdiction_of(session, staff_id)
    refused = access.relative_denial(actor, Action.READ_RELATIVES, staff_id, staff_jurisdiction)
    if refused:
        raise errors.forbidden(refused)
    rows = await procedure_repo.relatives_of(session, staff_id)
    if staff_jurisdiction is None:
        # No account: each county sees the registrations it made, not another county's.
        rows = [r for r in rows if access.sees_registration(actor, staff_id, r.jurisdiction_code)]
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
