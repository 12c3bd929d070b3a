"""LedgerImportWorkflow: one uploaded ledger (台账), checked, written, its cases started.

Workflow ID `ledger-{county}-{import_id}`. The upload only stored the file under its import;
here the whole file is checked and, when clean, written in one transaction (activity
`check_and_write_ledger`: the import then shows `errors` with nothing written, or
`importing`); then the households' case workflows are started a page at a time at the
import's rate (`start_ledger_cases`, each start keyed by the case ID, so a page retried after
a worker restart starts no case twice), and the import is `done`.

Every step is idempotent on the import's rows: a workflow run again for the same import (the
same file uploaded again, or a run that continued as new) picks up where the rows say it is.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain.ledger import ImportStatus
    from dibao.messages.ledger import (
        CheckLedgerImport,
        FinishLedgerImport,
        LedgerCasesStarted,
        LedgerImportChecked,
        LedgerImportInput,
        StartLedgerCases,
    )
    from workflows import ledger_import_steps as steps
    from workflows import policies


def workflow_id_for(county_code: str, import_id: str) -> str:
    return f"ledger-{county_code}-{import_id}"


@workflow.defn
class LedgerImportWorkflow:
    @workflow.run
    async def run(self, request: LedgerImportInput) -> LedgerImportChecked:
        checked: LedgerImportChecked = await workflow.execute_activity(
            steps.check_and_write_ledger,
            CheckLedgerImport(import_id=request.import_id, actor=request.actor),
            start_to_close_timeout=policies.LEDGER_CHECK_TIMEOUT,
            heartbeat_timeout=policies.HEARTBEAT_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )
        if checked.status is not ImportStatus.IMPORTING:
            return checked
        # A page of starts at the import's rate takes page_size / rate seconds.
        page_timeout = timedelta(seconds=60 + 2 * request.page_size / max(request.rate, 0.1))
        for _ in range(request.pages_per_run):
            page: LedgerCasesStarted = await workflow.execute_activity(
                steps.start_ledger_cases,
                StartLedgerCases(
                    import_id=request.import_id,
                    actor=request.actor,
                    limit=request.page_size,
                    rate=request.rate,
                    concurrency=request.concurrency,
                ),
                start_to_close_timeout=page_timeout,
                heartbeat_timeout=policies.HEARTBEAT_TIMEOUT,
                retry_policy=policies.DB_RETRY,
            )
            if page.remaining == 0:
                break
        else:
            # Its history stays small however large the county: pages_per_run pages a run.
            workflow.continue_as_new(request)
        await workflow.execute_activity(
            steps.finish_ledger_import,
            FinishLedgerImport(import_id=request.import_id),
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )
        return LedgerImportChecked(
            import_id=checked.import_id,
            status=ImportStatus.DONE,
            households=checked.households,
            persons=checked.persons,
            errors=0,
        )
