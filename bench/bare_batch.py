"""The floor for bench/standard_change.py: a bare batch reaching bare recipient workflows.

Each recipient waits for one update; the batch keeps `concurrency` activities in flight, each
sending one update, and continues as new every `per_run` recipients as the standard change does
(its window drained first). No codec, database or rules: what Temporal alone costs per case
reached.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client


@dataclass(frozen=True)
class BareBatch:
    """Recipients `prefix` + n (seven digits) for n in [start, total)."""

    prefix: str
    start: int
    total: int
    concurrency: int
    per_run: int


def bare_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:07d}"


@activity.defn
async def bare_reach(workflow_id: str) -> None:
    client: Client = activity.client()
    await client.get_workflow_handle(workflow_id).execute_update("apply", 1)


@workflow.defn
class BareRecipientWorkflow:
    def __init__(self) -> None:
        self._applied = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._applied > 0)
        return self._applied

    @workflow.update
    async def apply(self, n: int) -> int:
        self._applied += n
        return self._applied


@workflow.defn
class BareBatchWorkflow:
    @workflow.run
    async def run(self, batch: BareBatch) -> int:
        window = asyncio.Semaphore(batch.concurrency)

        async def one(workflow_id: str) -> None:
            try:
                await workflow.execute_activity(
                    bare_reach, workflow_id, start_to_close_timeout=timedelta(seconds=60)
                )
            finally:
                window.release()

        # One run's share, then the rest in a new run: one history would pass Temporal's
        # event limit near 15,000 recipients.
        end = min(batch.start + batch.per_run, batch.total)
        tasks = []
        for n in range(batch.start, end):
            await window.acquire()
            tasks.append(asyncio.create_task(one(bare_id(batch.prefix, n))))
        await asyncio.gather(*tasks)
        if end < batch.total:
            workflow.continue_as_new(dataclasses.replace(batch, start=end))
        return batch.total
