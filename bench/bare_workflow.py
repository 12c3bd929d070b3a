"""The floor for bench/lifecycle.py: a bare Temporal workflow of a case's shape.

Twelve activities that do nothing, four updates and three short timers, with no codec,
database or rules: what Temporal alone costs for a workflow of this size on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

ACTIVITIES = 12
UPDATES = 4
TIMERS = 3


@dataclass(frozen=True)
class BareInput:
    case_id: str
    timer_seconds: float


@dataclass(frozen=True)
class BareStep:
    case_id: str
    step: int


@dataclass(frozen=True)
class BareAnswer:
    update: int


@activity.defn
async def bare_step(step: BareStep) -> BareStep:
    return step


@workflow.defn
class BareCaseWorkflow:
    def __init__(self) -> None:
        self._updates = 0

    @workflow.run
    async def run(self, case: BareInput) -> int:
        done = 0
        # Activities between the waits, as a case records stages and notices between actions.
        per_gap = ACTIVITIES // (UPDATES + TIMERS)
        extra = ACTIVITIES - per_gap * (UPDATES + TIMERS)
        for gap in range(UPDATES + TIMERS):
            for _ in range(per_gap + (1 if gap < extra else 0)):
                await workflow.execute_activity(
                    bare_step,
                    BareStep(case_id=case.case_id, step=done),
                    start_to_close_timeout=timedelta(seconds=30),
                )
                done += 1
            if gap < UPDATES:
                await workflow.wait_condition(lambda g=gap: self._updates > g)  # type: ignore[misc]
            else:
                await workflow.sleep(timedelta(seconds=case.timer_seconds))
        return done

    @workflow.update
    async def act(self, update: int) -> BareAnswer:
        self._updates += 1
        return BareAnswer(update=update)

    @act.validator
    def _check(self, update: int) -> None:
        if update != self._updates:
            raise ValueError("out of order")
