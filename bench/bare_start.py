"""The floor for bench/import.py's starts: a workflow of one task, no activity, tiny payload."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class BareStartWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        return n
