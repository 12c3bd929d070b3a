"""The `verify_household` activity: ask every department, compare, store the outcome once.

Either every department answers or the activity fails and Temporal retries it: a verification
that silently skipped the bank or the vehicle registry would let an ineligible household through.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.verification.connectors import Connector, ConnectorUnavailable
from dibao.db import registry_repo
from dibao.domain.verification import (
    Department,
    RegistryRecord,
    VerificationOutcome,
    VerifyHousehold,
    find_discrepancies,
)

_DEPARTMENT_ORDER = {department: i for i, department in enumerate(Department)}


def household_id_numbers(request: VerifyHousehold) -> tuple[str, ...]:
    """The people to ask about: the household as the survey found it, else as declared."""
    members = request.survey.members if request.survey is not None else request.application.members
    return tuple(sorted({m.id_number.strip().upper() for m in members}))


def _record_key(record: RegistryRecord) -> tuple[int, str, str, int, str, str]:
    return (
        _DEPARTMENT_ORDER[record.department],
        record.id_number,
        record.kind.value,
        -1 if record.amount_fen is None else record.amount_fen,
        record.detail,
        record.as_of,
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectorUnavailable):
        return str(error) or "unavailable"
    return f"{type(error).__name__}: {error}"


class VerificationActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], connectors: list[Connector]
    ) -> None:
        self._sessions = sessions
        self._connectors = list(connectors)

    @activity.defn(name="verify_household")
    async def verify_household(self, request: VerifyHousehold) -> VerificationOutcome:
        async with self._sessions() as session:
            # A retry after the outcome was stored (the worker died before reporting) answers
            # with the stored outcome without asking the departments again.
            stored = await registry_repo.stored_run(session, request.case_id, request.step_key)
        if stored is not None:
            return stored

        id_numbers = household_id_numbers(request)
        wanted = set(id_numbers)
        async with heartbeating():  # a slow registry: minutes; a killed worker: seconds
            answers = await asyncio.gather(
                *(connector.fetch(id_numbers) for connector in self._connectors),
                return_exceptions=True,
            )
        failures: list[tuple[Department, BaseException]] = []
        records: list[RegistryRecord] = []
        for connector, answer in zip(self._connectors, answers, strict=True):
            if isinstance(answer, BaseException):
                failures.append((connector.department, answer))
            else:
                # A connector that answered about someone else must not put that person's
                # data into this household's file.
                records.extend(r for r in answer if r.id_number.strip().upper() in wanted)
        if failures:
            for _, error in failures:
                if not isinstance(error, Exception):
                    raise error  # cancellation and the like are not a department's fault
            departments = [d.value for d, _ in failures]
            reasons = "; ".join(f"{d.value}: {_describe(e)}" for d, e in failures)
            # Retryable: nothing was decided or written; the next attempt asks everyone again.
            raise ApplicationError(
                f"registry unavailable for {', '.join(departments)} ({reasons})",
                departments,
                type="ConnectorUnavailable",
                non_retryable=False,
            ) from failures[0][1]

        checked = tuple(dict.fromkeys(connector.department for connector in self._connectors))
        ordered = tuple(sorted(records, key=_record_key))
        outcome = VerificationOutcome(
            checked=checked,
            records=ordered,
            discrepancies=find_discrepancies(request.application, request.survey, ordered),
        )
        async with self._sessions() as session:
            return await registry_repo.store_run_once(
                session, request.case_id, request.step_key, outcome
            )

    def all(self) -> list[Any]:
        return [self.verify_household]
