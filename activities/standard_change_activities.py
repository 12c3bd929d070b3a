"""Activities of a county's change of standard: find the recipients, tell each case."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError

from dibao.codec import county_in_workflow_id, payloads_of_county
from dibao.db import cases_repo
from dibao.domain.case import ApplyStandardToCase, ListReceiving, ReceivingCases, StandardApplied


class StandardChangeActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self._sessions = sessions
        self._client = client

    @activity.defn(name="list_receiving_cases")
    async def list_receiving_cases(self, request: ListReceiving) -> ReceivingCases:
        async with self._sessions() as session:
            ids = await cases_repo.receiving_case_ids(session, request.county_code)
        return ReceivingCases(case_ids=tuple(ids))

    @activity.defn(name="apply_standard_to_case")
    async def apply_standard_to_case(self, request: ApplyStandardToCase) -> StandardApplied:
        # The update ID is the batch's request ID: a retried activity, or the batch run again,
        # reaches the case's handler once (the case also de-duplicates the request ID).
        # The batch is one county's (its workflow ID says which): so is every case it updates.
        county = county_in_workflow_id(activity.info().workflow_id)
        try:
            with payloads_of_county(county) if county else nullcontext():
                await self._client.get_workflow_handle(request.case_id).execute_update(
                    "apply_standard", request.update, id=f"standard-{request.update.request_id}"
                )
        except WorkflowUpdateFailedError as err:
            # The case refused it (closed meanwhile, or approved before the recipient phase
            # existed): retrying cannot change that, so it is reported, not retried.
            return StandardApplied(case_id=request.case_id, skipped=str(err.cause))
        return StandardApplied(case_id=request.case_id)

    def all(self) -> list[Any]:
        return [self.list_receiving_cases, self.apply_standard_to_case]
