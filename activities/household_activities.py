"""Family changes (动态管理): the household after each change, in the case's file."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dibao.db import case_links_repo
from dibao.domain.household_change import HouseholdRecorded, RecordHousehold


class HouseholdActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_household")
    async def record_household(self, request: RecordHousehold) -> HouseholdRecorded:
        async with self._sessions() as session:
            try:
                recorded = await case_links_repo.record_household(session, request)
            except IntegrityError:
                # Retrying cannot help: ops see it as an incident and decide.
                raise ApplicationError(
                    "the new head of household already heads another open case",
                    type="NewHeadHasOpenCase",
                    non_retryable=True,
                ) from None
        return HouseholdRecorded(recorded=recorded)

    def all(self) -> list[Any]:
        return [self.record_household]
