"""A workflow whose activity and result fail with a household's ID number in the message.

Real failures do quote the data they failed on; the encrypted-history test checks such a
message never reaches Temporal in clear text. Its own module: the workflow sandbox re-imports
the module a workflow is defined in, and a test module pulls in pytest and the fixtures.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ActivityError, ApplicationError


@activity.defn
async def refuse_duplicate(id_number: str) -> None:
    raise ApplicationError(
        f"身份证号 {id_number} 已有在办案件", type="DuplicateHousehold", non_retryable=True
    )


@workflow.defn
class DuplicateCheckWorkflow:
    @workflow.run
    async def run(self, id_number: str) -> None:
        try:
            await workflow.execute_activity(
                refuse_duplicate, id_number, start_to_close_timeout=timedelta(seconds=10)
            )
        except ActivityError as err:
            raise ApplicationError(
                f"申请人 {id_number} 不能重复申请", type="DuplicateHousehold"
            ) from err
