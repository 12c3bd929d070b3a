"""Worker-side bookkeeping around every activity attempt: failed attempts are recorded (so
the stuck list and `dibao ops incidents` show a step that keeps failing while Temporal still
retries it), attempt durations are measured, and failure drills are applied.

Recording never changes the outcome: if the database is unreachable the attempt's own result
or error stands and the miss is logged, counted (dibao_unrecorded_step_failures_total) and,
once the database answers again, written to db_outages: /health and the stuck list then say
when the worker could not reach it and how many failures went unrecorded.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from dibao.db import ops_repo, outage_repo
from dibao.db.ops_models import OpsDrillRow
from dibao.metrics import ACTIVITY_FAILURES, ACTIVITY_SECONDS, UNRECORDED_FAILURES

log = logging.getLogger(__name__)

CASE_WORKFLOW = "CaseWorkflow"


@dataclass
class _Unreachable:
    """The database as this worker has failed to reach it since it last could."""

    first_seen_at: datetime
    last_seen_at: datetime
    unrecorded: int = 0
    activity_types: set[str] = field(default_factory=set)


class StepFailureInterceptor(Interceptor):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], drill_poll_seconds: float = 2.0
    ) -> None:
        # Drills are read at most this often: a drill started by `dibao ops drill` takes
        # effect within seconds without a query per activity.
        self._drill_poll_seconds = drill_poll_seconds
        self._sessions = sessions
        self._drills: list[OpsDrillRow] = []
        self._drills_read_at = float("-inf")
        self._unreachable: _Unreachable | None = None
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"

    def _missed(self, activity_type: str | None) -> None:
        """The database did not answer; `activity_type`: a failure (or recovery) of it went
        unrecorded."""
        now = datetime.now(UTC)
        if self._unreachable is None:
            self._unreachable = _Unreachable(first_seen_at=now, last_seen_at=now)
        self._unreachable.last_seen_at = now
        if activity_type is not None:
            UNRECORDED_FAILURES.labels(activity_type).inc()
            self._unreachable.unrecorded += 1
            self._unreachable.activity_types.add(activity_type)

    async def _reached(self, session: AsyncSession) -> None:
        """The database answered: write down the outage seen before, if any."""
        seen = self._unreachable
        if seen is None:
            return
        try:
            await outage_repo.record_outage(
                session,
                outage_repo.Outage(
                    worker=self.worker_name,
                    first_seen_at=seen.first_seen_at,
                    last_seen_at=seen.last_seen_at,
                    unrecorded_failures=seen.unrecorded,
                    activity_types=tuple(sorted(seen.activity_types)),
                ),
                datetime.now(UTC),
            )
        except Exception:  # gone again: kept for the next time it answers
            log.exception("could not record the database outage")
            return
        if self._unreachable is seen:
            self._unreachable = None

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next, self)

    async def drill_for(self, info: activity.Info) -> OpsDrillRow | None:
        now = time.monotonic()
        if now - self._drills_read_at >= self._drill_poll_seconds:
            try:
                async with self._sessions() as session:
                    self._drills = await ops_repo.list_drills(session)
                    await self._reached(session)
            except Exception:  # the activity itself will meet the database problem
                log.exception("could not read failure drills")
                self._missed(None)
            self._drills_read_at = now
        for drill in self._drills:
            if drill.activity_type == info.activity_type and drill.case_id in (
                None,
                info.workflow_id,
            ):
                return drill
        return None

    async def record_failure(self, info: activity.Info, err: BaseException) -> None:
        try:
            async with self._sessions() as session:
                await ops_repo.record_failed_attempt(
                    session,
                    ops_repo.FailedAttempt(
                        workflow_id=info.workflow_id or "",
                        run_id=info.workflow_run_id or "",
                        activity_id=info.activity_id,
                        case_id=info.workflow_id if info.workflow_type == CASE_WORKFLOW else None,
                        activity_type=info.activity_type,
                        attempt=info.attempt,
                        error=f"{type(err).__name__}: {err}",
                        at=datetime.now(UTC),
                    ),
                )
                await self._reached(session)
        except Exception:
            log.exception("could not record the failure of %s", info.activity_type)
            self._missed(info.activity_type)

    async def record_recovered(self, info: activity.Info) -> None:
        try:
            async with self._sessions() as session:
                await ops_repo.record_recovered(
                    session, info.workflow_id or "", info.workflow_run_id or "", info.activity_id
                )
                await self._reached(session)
        except Exception:
            log.exception("could not record the recovery of %s", info.activity_type)
            self._missed(info.activity_type)


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, root: StepFailureInterceptor) -> None:
        super().__init__(next)
        self._root = root

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        started = time.monotonic()
        try:
            drill = await self._root.drill_for(info)
            if drill is not None:
                raise ApplicationError(
                    f"failure drill: {drill.message}",
                    type="FailureDrill",
                    non_retryable=not drill.retryable,
                )
            result = await self.next.execute_activity(input)
        except Exception as err:  # cancellation (BaseException) is not a failure of the step
            ACTIVITY_SECONDS.labels(info.activity_type, "failed").observe(
                time.monotonic() - started
            )
            ACTIVITY_FAILURES.labels(info.activity_type).inc()
            if _will_retry(info, err):
                await self._root.record_failure(info, err)
            raise
        ACTIVITY_SECONDS.labels(info.activity_type, "ok").observe(time.monotonic() - started)
        if info.attempt > 1:
            await self._root.record_recovered(info)
        return result


def _will_retry(info: activity.Info, err: Exception) -> bool:
    """Whether to list the step as failing. A final failure of a case's step becomes an
    incident (the case workflow records it); other workflows (payroll, standard changes)
    handle their refusals themselves, so a final failure there is not left listed as failing
    for ever."""
    final = isinstance(err, ApplicationError) and err.non_retryable
    return info.workflow_type == CASE_WORKFLOW or not final
