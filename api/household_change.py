"""Family changes (动态管理) at the API: the request body, and 停旧建新 — the linked new case
the API starts in the recipient phase after the old case stopped (as a ledger import does)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api import errors
from api.fields import IdNumber, IsoDate, Text
from api.schemas import CaseLinksOut, CaseOut, IncomeIn, MemberIn, Strict
from dibao.codec import payloads_of_county
from dibao.db import case_links_repo, rulepacks_repo
from dibao.domain.application import payee_holder_problems
from dibao.domain.enums import CaseStatus, Stage
from dibao.domain.household_change import (
    HouseholdChange,
    HouseholdEvent,
    ReportHouseholdChange,
    Successor,
)
from dibao.messages.case import Actor, CaseInput, CaseView
from dibao.settings import Settings
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow


class HouseholdChangeIn(Strict):
    event: HouseholdEvent = Field(
        description="birth, marriage_in, move_in (a member joins); death, marriage_out, "
        "move_out (a member leaves); head_change (the head changes, nobody leaves)"
    )
    on: IsoDate = Field(description="the date of the event")
    member_id_number: IdNumber | None = Field(default=None, description="who leaves")
    joining: MemberIn | None = Field(default=None, description="who joins")
    new_head_id_number: IdNumber | None = Field(
        default=None, description="the new head, when the head leaves or changes"
    )
    successor: Successor = Field(
        default=Successor.SAME_CASE,
        description="when the head leaves: same_case (the new head on this case) or new_case "
        "(停旧建新: this case stops, a linked new one continues the payment)",
    )
    incomes: list[IncomeIn] | None = Field(
        default=None,
        max_length=100,
        description="the household's incomes after the change, when it changes them; "
        "omitted: as last assessed",
    )
    details: Text = Field(default="", max_length=2000)

    def to_message(self, request_id: str, actor: Actor) -> ReportHouseholdChange:
        return ReportHouseholdChange(
            request_id=request_id,
            actor=actor,
            change=HouseholdChange(
                event=self.event,
                on=self.on.isoformat(),
                member_id_number=(self.member_id_number or "").upper(),
                joining=self.joining.to_domain() if self.joining else None,
                new_head_id_number=(self.new_head_id_number or "").upper(),
                successor=self.successor,
                incomes=(
                    tuple(i.to_domain() for i in self.incomes) if self.incomes is not None else None
                ),
                details=self.details,
            ),
        )


async def start_successor(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    case_id: str,
    county_code: str,
    actor: Actor,
) -> str | None:
    """停旧建新: the case that continues `case_id`'s household, written and started (again
    for a repeated request: nothing is written twice). None when the case has no successor."""
    handle = client.get_workflow_handle(case_id)
    try:
        with payloads_of_county(county_code):
            view: CaseView = await handle.query(CaseWorkflow.state)
    except RPCError as err:
        raise errors.unavailable(
            "the old case stopped, but its successor could not be read; repeat the request "
            "with the same Idempotency-Key to open it",
            case_id=case_id,
        ) from err
    old = view.recipient
    if old is None or not old.successor_case_id:
        return None
    new_id = old.successor_case_id
    survey = view.procedure.survey
    application = dataclasses.replace(
        view.application,
        members=old.members,
        incomes=survey.incomes if survey else view.application.incomes,
        assets=survey.assets if survey else view.application.assets,
        payee=None,
        proxy=None,
    )
    # The account stays the household's only while its holder is still a member.
    payee = old.payee or view.payee
    if payee is not None and not payee_holder_problems(payee, old.members):
        application = dataclasses.replace(application, payee=payee)
    recipient = dataclasses.replace(
        old,
        monthly_amount_fen=old.successor_amount_fen,
        cycle=1,
        seq=case_links_repo.SUCCESSOR_SEQ,
        handled_requests=(),
        notice_ids=(),
        ledger_month=old.successor_from_month,
        paid_from=old.successor_from_month,
        sign_ins=(),
        missed_sign_ins=0,
        payee=application.payee,
        successor_case_id="",
        successor_from_month="",
        successor_amount_fen=0,
    )
    reason = f"停旧建新：接续案件 {case_id}，自 {old.successor_from_month} 起发放"
    now = datetime.now(UTC)
    async with sessions() as session:
        pack = await rulepacks_repo.get_pack(session, view.rule_pack_id, view.rule_pack_version)
        await case_links_repo.write_successor(
            session,
            old_case_id=case_id,
            new_case_id=new_id,
            application=application,
            recipient=recipient,
            rule_pack_id=view.rule_pack_id,
            rule_pack_version=view.rule_pack_version,
            reason=reason,
            actor=actor,
            at=now,
        )
    case = CaseInput(
        case_id=new_id,
        application=application,
        rule_pack_id=view.rule_pack_id,
        rule_pack_version=view.rule_pack_version,
        filed_at=now,
        filed_by=actor,
        request_id=f"successor:{case_id}",
        rule_pack=pack,
        recipient=recipient,
    )
    hukou = application.hukou
    try:
        with payloads_of_county(hukou.county_code):
            await client.start_workflow(
                CaseWorkflow.run,
                case,
                id=new_id,
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.STAGE, Stage.RECIPIENT.value),
                        SearchAttributePair(sa.STATUS, CaseStatus.RECEIVING.value),
                        SearchAttributePair(sa.COUNTY, hukou.county_code),
                        SearchAttributePair(sa.TOWNSHIP, hukou.township_code),
                    ]
                ),
            )
    except WorkflowAlreadyStartedError:
        pass  # closed since: nothing to restart
    except RPCError as err:
        raise errors.unavailable(
            "the new case was saved but its workflow could not be started; repeat the request "
            "with the same Idempotency-Key to start it",
            case_id=new_id,
        ) from err
    return new_id


async def with_links(sessions: async_sessionmaker[AsyncSession], case: CaseOut) -> CaseOut:
    """The case with its 停旧建新 links, both ways."""
    async with sessions() as session:
        links = await case_links_repo.links_of(session, case.case_id)
    return case.model_copy(
        update={
            "links": CaseLinksOut(
                continues=links.continues,
                continued_by=links.continued_by,
                from_month=links.from_month,
            )
        }
    )
