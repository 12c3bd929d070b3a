"""LedgerImportWorkflow: a clean file ends `done` with each household's case started once; a
file with errors ends `errors` with nothing written; an import whose worker was lost after
starting some cases but before recording them resumes from its rows and starts none twice.
The runs' histories are saved for the replay test (--record-histories)."""

from __future__ import annotations

from typing import Any

import psycopg

from dibao import ledger_import
from dibao.domain.enums import Role
from dibao.domain.ledger import ImportStatus
from dibao.ledger_files import ledger_csv
from dibao.messages.case import Actor
from tests.conftest import Stack
from tests.golive import ledger_rows
from workflows.ledger_import import LedgerImportWorkflow, workflow_id_for

COUNTY = "610423"
ACTOR = Actor("chen.gang", Role.COUNTY_APPROVER, COUNTY)
HOUSEHOLDS = 7


def execute(stack: Stack, statement: str) -> None:
    with psycopg.connect(stack.settings.database_url or "") as conn:
        conn.execute(statement)


async def run_import(
    stack: Stack, content: bytes, page_size: int = 3
) -> tuple[ledger_import.Submitted, Any]:
    settings = stack.settings.model_copy(
        update={"ledger_import_rate": 200.0, "ledger_import_page_size": page_size}
    )
    submitted = await ledger_import.submit(
        stack.sessions, stack.client, settings, content, "ledger.csv", COUNTY, ACTOR
    )
    handle = stack.client.get_workflow_handle_for(
        LedgerImportWorkflow.run, workflow_id_for(COUNTY, submitted.import_id)
    )
    return submitted, handle


async def test_a_clean_file_is_done_and_a_resumed_import_starts_no_case_twice(
    dev_stack: Stack, staff: object, record_history: Any
) -> None:
    content = ledger_csv(ledger_rows(HOUSEHOLDS))
    submitted, handle = await run_import(dev_stack, content)
    assert (submitted.status, submitted.created) == (ImportStatus.CHECKING, True)
    result = await handle.result()
    cases = [r[0] for r in dev_stack.sql("SELECT case_id FROM cases ORDER BY case_id")]
    dev_stack.started += cases
    assert (result.status, result.households, result.persons) == (
        ImportStatus.DONE,
        HOUSEHOLDS,
        2 * HOUSEHOLDS,
    )
    await record_history(handle, "ledger_import_done")
    assert len(cases) == HOUSEHOLDS
    runs = {c: (await dev_stack.client.get_workflow_handle(c).describe()).run_id for c in cases}

    # The worker lost mid-import: some cases started but not recorded as started, the import
    # not done. The same file uploaded again resumes it; each case keeps its one workflow run.
    execute(
        dev_stack,
        "UPDATE ledger_import_households SET started = false WHERE first_row > 6",
    )
    execute(dev_stack, "UPDATE ledger_imports SET status = 'importing', finished_at = NULL")
    again, handle = await run_import(dev_stack, content)
    assert (again.import_id, again.status, again.created) == (
        submitted.import_id,
        ImportStatus.IMPORTING,
        False,
    )
    assert (await handle.result()).status is ImportStatus.DONE
    assert dev_stack.sql("SELECT status, finished_at IS NOT NULL FROM ledger_imports") == [
        ("done", True)
    ]
    assert dev_stack.sql("SELECT bool_and(started), count(*) FROM ledger_import_households") == [
        (True, HOUSEHOLDS)
    ]
    assert {
        c: (await dev_stack.client.get_workflow_handle(c).describe()).run_id for c in cases
    } == runs
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(HOUSEHOLDS,)]


async def test_a_file_with_errors_ends_with_its_errors_and_nothing_written(
    dev_stack: Stack, staff: object, record_history: Any
) -> None:
    rows = ledger_rows(3)
    rows[2]["category"] = "D类"  # row 4
    submitted, handle = await run_import(dev_stack, ledger_csv(rows))
    result = await handle.result()
    assert (result.status, result.errors) == (ImportStatus.ERRORS, 1)
    await record_history(handle, "ledger_import_errors")
    errors = await ledger_import.errors_of(dev_stack.sessions, submitted.import_id)
    assert [(e.row, e.column) for e in errors] == [(4, "保障类别")]
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]
    assert dev_stack.sql("SELECT count(*) FROM ledger_import_households") == [(0,)]
