"""停旧建新: writing the linked new case of a household whose head left, and reading the link
both ways."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.case_link_models import CaseLinkRow, HouseholdChangeRow
from dibao.db.models import ApplicationRow, AuditRow, CaseRow, StageEventRow
from dibao.db.procedure_models import EntitlementRow
from dibao.domain.application import Application
from dibao.domain.enums import AuditAction, CaseStatus, Relation, Stage
from dibao.domain.hashing import canonical_json, payload_sha256
from dibao.domain.household_change import RecordHousehold
from dibao.domain.recipient import RecipientState
from dibao.messages.case import Actor

SUCCESSOR_STEP = "successor-start"  # the step key of the new case's audit and ledger rows
SUCCESSOR_SEQ = 1  # the new case's first stage entry: the recipient phase


@dataclass(frozen=True)
class CaseLinks:
    continues: str | None  # the case this one continues (停旧建新), or None
    continued_by: str | None  # the case that continues this one, or None
    from_month: str | None  # from when the later case pays


async def write_successor(
    session: AsyncSession,
    *,
    old_case_id: str,
    new_case_id: str,
    application: Application,
    recipient: RecipientState,
    rule_pack_id: str,
    rule_pack_version: int,
    reason: str,
    actor: Actor,
    at: datetime,
) -> None:
    """The new case in the recipient phase (case, file, timeline entry, audit row, opening
    ledger entry from `recipient.ledger_month`) and its link to the old one; one transaction.
    Written again for the same new case, it changes nothing."""
    hukou = application.hukou
    payload = json.loads(canonical_json(application))
    rows: list[tuple[type, dict[str, object]]] = [
        (
            CaseRow,
            {
                "case_id": new_case_id,
                "head_id_number": application.head.id_number,
                "stage": Stage.RECIPIENT.value,
                "status": CaseStatus.RECEIVING.value,
                "stage_seq": SUCCESSOR_SEQ,
                "rule_pack_id": rule_pack_id,
                "rule_pack_version": rule_pack_version,
                "area_type": application.area_type.value,
                "province_code": hukou.province_code,
                "county_code": hukou.county_code,
                "township_code": hukou.township_code,
                "village_code": hukou.village_code,
                "stage_entered_at": at,
                "filed_at": at,
            },
        ),
        (
            ApplicationRow,
            {
                "case_id": new_case_id,
                "payload": payload,
                "request_sha256": payload_sha256(payload),
                "idempotency_key": f"successor:{old_case_id}",
                "filed_by": actor.id,
                "filed_role": actor.role.value,
            },
        ),
        (
            StageEventRow,
            {
                "case_id": new_case_id,
                "seq": SUCCESSOR_SEQ,
                "stage": Stage.RECIPIENT.value,
                "status": CaseStatus.RECEIVING.value,
                "entered_at": at,
                "due_at": None,
            },
        ),
        (
            AuditRow,
            {
                "case_id": new_case_id,
                "step_key": SUCCESSOR_STEP,
                "actor_id": actor.id,
                "actor_role": actor.role.value,
                "action": AuditAction.HOUSEHOLD_CHANGE.value,
                "payload_sha256": payload_sha256({"continues": old_case_id, "reason": reason}),
                "at": at,
            },
        ),
        (
            EntitlementRow,
            {
                "case_id": new_case_id,
                "step_key": SUCCESSOR_STEP,
                "certificate_no": recipient.certificate_no,
                "effective_month": recipient.ledger_month,
                "monthly_amount_fen": recipient.monthly_amount_fen,
                "category": recipient.category.value,
                "reason": reason,
                "recorded_at": at,
                "change_kind": "start",
                "paid_members": len(recipient.members) - len(recipient.portion_stopped),
            },
        ),
        (
            CaseLinkRow,
            {
                "old_case_id": old_case_id,
                "new_case_id": new_case_id,
                "reason": reason,
                "from_month": recipient.ledger_month,
                "linked_by": actor.id,
                "linked_at": at,
            },
        ),
    ]
    for model, values in rows:
        await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    await session.commit()


async def links_of(session: AsyncSession, case_id: str) -> CaseLinks:
    rows = (
        await session.execute(
            select(CaseLinkRow).where(
                or_(CaseLinkRow.old_case_id == case_id, CaseLinkRow.new_case_id == case_id)
            )
        )
    ).scalars()
    continues = continued_by = from_month = None
    for row in rows:
        if row.new_case_id == case_id:
            continues, from_month = row.old_case_id, row.from_month
        else:
            continued_by, from_month = row.new_case_id, row.from_month
    return CaseLinks(continues, continued_by, from_month)


async def record_household(session: AsyncSession, request: RecordHousehold) -> bool:
    """The household after a change, once per (case, step); the case's head follows it
    (`moves_head`), so one open case per household still holds for the new head (IntegrityError
    when the new head heads another open case). False: recorded before."""
    members = json.loads(canonical_json(request.members))
    written = await session.execute(
        insert(HouseholdChangeRow)
        .values(
            case_id=request.case_id,
            step_key=request.step_key,
            event=request.event.value,
            event_on=date.fromisoformat(request.on),
            members=members,
            recorded_at=request.recorded_at,
        )
        .on_conflict_do_nothing()
        .returning(HouseholdChangeRow.id)
    )
    new = written.scalar_one_or_none() is not None
    if request.moves_head:
        head = next(m for m in request.members if m.relation is Relation.HEAD)
        await session.execute(
            update(CaseRow)
            .where(CaseRow.case_id == request.case_id, CaseRow.closed_at.is_(None))
            .values(head_id_number=head.id_number)
        )
    await session.commit()
    return new


async def current_members(session: AsyncSession, case_id: str) -> list[dict[str, Any]] | None:
    """The household after its latest family change, as an application's members; None when
    it never changed."""
    return (
        await session.execute(
            select(HouseholdChangeRow.members)
            .where(HouseholdChangeRow.case_id == case_id)
            .order_by(HouseholdChangeRow.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
