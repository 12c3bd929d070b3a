"""The activities the ledger import's workflow calls, as typed references (as
workflows/case_steps.py does for the case workflow); tests/workflows/test_case_steps.py checks
each against the registered activity."""

from __future__ import annotations

from temporalio import activity

from dibao.messages.ledger import (
    CheckLedgerImport,
    FinishLedgerImport,
    LedgerCasesStarted,
    LedgerImportChecked,
    LedgerImportFinished,
    StartLedgerCases,
)
from workflows.case_steps import _stub


@activity.defn(name="check_and_write_ledger")
async def check_and_write_ledger(request: CheckLedgerImport) -> LedgerImportChecked:
    _stub()


@activity.defn(name="start_ledger_cases")
async def start_ledger_cases(request: StartLedgerCases) -> LedgerCasesStarted:
    _stub()


@activity.defn(name="finish_ledger_import")
async def finish_ledger_import(request: FinishLedgerImport) -> LedgerImportFinished:
    _stub()


STEPS = (check_and_write_ledger, start_ledger_cases, finish_ledger_import)
