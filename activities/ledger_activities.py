"""Activities of a ledger import (workflows/ledger_import.py): check the stored file and write
it, start its cases' workflows a page at a time, mark it done. The work is dibao/ledger_import.py's
(shared with the API's upload); here it heartbeats, so a worker lost mid-import is noticed
within the heartbeat timeout and the step runs again elsewhere, idempotent on the import's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from dibao import ledger_import
from dibao.messages.ledger import (
    CheckLedgerImport,
    FinishLedgerImport,
    LedgerCasesStarted,
    LedgerImportChecked,
    LedgerImportFinished,
    StartLedgerCases,
)
from dibao.settings import Settings


class LedgerImportActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, client: Client
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._client = client

    @activity.defn(name="check_and_write_ledger")
    async def check_and_write_ledger(self, request: CheckLedgerImport) -> LedgerImportChecked:
        try:
            async with heartbeating():
                return await ledger_import.check_and_write(
                    self._sessions, self._settings, request.import_id, request.actor
                )
        except LookupError as err:
            # No import of that ID (or no file): no retry brings it.
            raise ApplicationError(str(err), type="NonRetryable", non_retryable=True) from None

    @activity.defn(name="start_ledger_cases")
    async def start_ledger_cases(self, request: StartLedgerCases) -> LedgerCasesStarted:
        async with heartbeating():
            return await ledger_import.start_page(
                self._sessions,
                self._client,
                self._settings,
                request.import_id,
                request.actor,
                limit=request.limit,
                rate=request.rate,
                concurrency=request.concurrency,
            )

    @activity.defn(name="finish_ledger_import")
    async def finish_ledger_import(self, request: FinishLedgerImport) -> LedgerImportFinished:
        return await ledger_import.finish(self._sessions, request.import_id)

    def all(self) -> list[Any]:
        return [self.check_and_write_ledger, self.start_ledger_cases, self.finish_ledger_import]
