"""Activities of a county's change of standard: record the dated standard, find the recipients,
tell each case; and the standard in force for a month, which every assessment asks for."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.heartbeat import heartbeating
from dibao.codec import county_in_workflow_id, payloads_of_county
from dibao.db import cases_repo, standards_repo
from dibao.domain.enums import AreaType
from dibao.domain.standards import (
    CountyStandardsRecorded,
    RecordCountyStandards,
    Standard,
    StandardInForce,
    StandardQuery,
)
from dibao.messages.case import (
    ApplyStandardToCase,
    ListReceiving,
    ReceivingCases,
    ReceivingCount,
    ReceivingPage,
    SkipReason,
    StandardApplied,
)


class StandardChangeActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self._sessions = sessions
        self._client = client

    @activity.defn(name="record_county_standards")
    async def record_county_standards(
        self, request: RecordCountyStandards
    ) -> CountyStandardsRecorded:
        # Keyed by the batch ID: a retry or the batch run again finds the rows written first.
        async with self._sessions() as session:
            urban = await standards_repo.record_standard(
                session,
                request.county_code,
                Standard(
                    AreaType.URBAN,
                    request.urban_standard_fen_month,
                    request.effective_month,
                    request.batch_id,
                ),
                request.recorded_by,
            )
            rural = await standards_repo.record_standard(
                session,
                request.county_code,
                Standard(
                    AreaType.RURAL,
                    request.rural_standard_fen_year,
                    request.effective_month,
                    request.batch_id,
                ),
                request.recorded_by,
            )
        return CountyStandardsRecorded(urban=urban, rural=rural)

    @activity.defn(name="standard_in_force")
    async def standard_in_force(self, request: StandardQuery) -> StandardInForce:
        async with self._sessions() as session:
            standard = await standards_repo.standard_in_force(
                session, request.county_code, request.area_type, request.month
            )
        return StandardInForce(standard=standard, month=request.month)

    @activity.defn(name="list_receiving_cases")
    async def list_receiving_cases(self, request: ListReceiving) -> ReceivingCases:
        async with heartbeating(), self._sessions() as session:
            ids = await cases_repo.receiving_case_ids(session, request.county_code)
        return ReceivingCases(case_ids=tuple(ids))

    @activity.defn(name="receiving_case_page")
    async def receiving_case_page(self, request: ReceivingPage) -> ReceivingCases:
        async with self._sessions() as session:
            ids = await cases_repo.receiving_case_page(
                session, request.county_code, request.after, request.limit
            )
        return ReceivingCases(case_ids=tuple(ids))

    @activity.defn(name="count_receiving_cases")
    async def count_receiving_cases(self, request: ListReceiving) -> ReceivingCount:
        async with self._sessions() as session:
            total = await cases_repo.count_receiving(session, request.county_code)
        return ReceivingCount(county_code=request.county_code, total=total)

    @activity.defn(name="apply_standard_to_case")
    async def apply_standard_to_case(self, request: ApplyStandardToCase) -> StandardApplied:
        # The update ID is the batch's request ID: a retried activity, or the batch run again,
        # reaches the case's handler once (the case also de-duplicates the request ID).
        # The batch is one county's (its workflow ID says which): so is every case it updates.
        county = county_in_workflow_id(activity.info().workflow_id)
        try:
            # The case's worker may be slow to take the update: beat meanwhile.
            async with heartbeating():
                with payloads_of_county(county) if county else nullcontext():
                    await self._client.get_workflow_handle(request.case_id).execute_update(
                        "apply_standard",
                        request.update,
                        id=f"standard-{request.update.request_id}",
                    )
        except WorkflowUpdateFailedError as err:
            # The case refused it (closed meanwhile, or approved before the recipient phase
            # existed): retrying cannot change that, so it is reported, not retried.
            return StandardApplied(
                case_id=request.case_id, skipped=str(err.cause), reason=_reason(err.cause)
            )
        except RPCError as err:
            # A receiving row whose workflow is gone (or never started): no retry brings it
            # back, and one such row must not hold up a county's batch.
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return StandardApplied(
                case_id=request.case_id,
                skipped="no running workflow for this case",
                reason=SkipReason.NO_WORKFLOW,
            )
        return StandardApplied(case_id=request.case_id)

    def all(self) -> list[Any]:
        return [
            self.record_county_standards,
            self.standard_in_force,
            self.list_receiving_cases,
            self.receiving_case_page,
            self.count_receiving_cases,
            self.apply_standard_to_case,
        ]


def _reason(cause: BaseException | None) -> SkipReason:
    kind = cause.type if isinstance(cause, ApplicationError) else None
    try:
        return SkipReason(kind) if kind else SkipReason.OTHER
    except ValueError:
        return SkipReason.OTHER
