"""Saved histories of real runs must replay on the current workflow code.

A change to a workflow that would break running cases (a reordered activity, a removed step)
fails here; such a change needs `workflow.patched`, then `deprecate_patch`, then removal, each
on its condition (docs/versioning.md). Record new histories with
`pytest tests/workflows --record-histories` before changing the workflow, never after.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import REPLAY_CONVERTER
from worker import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_saved_histories_to_replay() -> None:
    assert HISTORIES, "no saved histories: run pytest tests/workflows --record-histories"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays_on_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    # With the tests' codec: histories recorded since encryption need its key, older ones are
    # clear JSON, which only a converter accepting plaintext reads.
    await Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=REPLAY_CONVERTER
    ).replay_workflow(history)


async def test_replay_catches_a_change_that_would_break_running_cases() -> None:
    from temporalio.workflow import NondeterminismError

    from tests.workflows.broken_case_workflow import CaseWorkflowWithSeparateFilingAudit

    path = next(p for p in HISTORIES if p.stem == "withdrawn_while_materials_incomplete")
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    with pytest.raises(NondeterminismError):
        await Replayer(
            workflows=[CaseWorkflowWithSeparateFilingAudit],
            workflow_runner=workflow_runner(),
            data_converter=REPLAY_CONVERTER,
        ).replay_workflow(history)
