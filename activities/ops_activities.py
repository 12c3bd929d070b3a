"""Activities of supervision and operations: incidents and overdue alerts.

Keyed like every other write (the activity call for incidents, case + step for alerts), so a
retry, a replay or a reset of the workflow finds the first write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dibao.db import ops_repo
from dibao.domain.measures import RecordReminder
from dibao.domain.ops import (
    CloseIncident,
    IncidentClosed,
    IncidentOpened,
    OpenIncident,
    OverdueRecorded,
    RecordOverdue,
)
from dibao.messages.case import RecordProcedureOverdue


class OpsActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="open_incident")
    async def open_incident(self, request: OpenIncident) -> IncidentOpened:
        async with self._sessions() as session:
            incident_id, attempts = await ops_repo.open_incident(session, request)
        activity.logger.warning(
            "incident %s: step %s (%s) gave up after %d attempts: %s",
            incident_id,
            request.step,
            request.activity_type,
            attempts,
            request.error,
        )
        return IncidentOpened(incident_id=incident_id, attempts=attempts)

    @activity.defn(name="close_incident")
    async def close_incident(self, request: CloseIncident) -> IncidentClosed:
        async with self._sessions() as session:
            await ops_repo.close_incident(session, request)
        return IncidentClosed(incident_id=request.incident_id)

    @activity.defn(name="record_overdue")
    async def record_overdue(self, request: RecordOverdue) -> OverdueRecorded:
        async with self._sessions() as session:
            try:
                alert_id = await ops_repo.record_overdue(session, request)
            except LookupError as err:
                raise ApplicationError(str(err), non_retryable=True) from None
        activity.logger.warning(
            "case %s overdue at stage %s (due %s)",
            request.case_id,
            request.stage.value,
            request.due_at.isoformat(),
        )
        return OverdueRecorded(alert_id=alert_id)

    @activity.defn(name="record_procedure_overdue")
    async def record_procedure_overdue(self, request: RecordProcedureOverdue) -> OverdueRecorded:
        async with self._sessions() as session:
            try:
                alert_id = await ops_repo.record_procedure_overdue(session, request)
            except LookupError as err:
                raise ApplicationError(str(err), non_retryable=True) from None
        activity.logger.warning(
            "case %s past its whole-procedure limit (due %s)",
            request.case_id,
            request.due_at.isoformat(),
        )
        return OverdueRecorded(alert_id=alert_id)

    @activity.defn(name="record_reminder")
    async def record_reminder(self, request: RecordReminder) -> OverdueRecorded:
        async with self._sessions() as session:
            try:
                alert_id = await ops_repo.record_reminder(session, request)
            except LookupError as err:
                raise ApplicationError(str(err), non_retryable=True) from None
        return OverdueRecorded(alert_id=alert_id)

    def all(self) -> list[Any]:
        return [
            self.open_incident,
            self.close_incident,
            self.record_overdue,
            self.record_procedure_overdue,
            self.record_reminder,
        ]
