"""Log lines are JSON objects that carry the case ID."""

from __future__ import annotations

import json
import logging

from dibao.logs import CASE_ID, JsonFormatter


def record(**extra: object) -> logging.LogRecord:
    rec = logging.LogRecord(
        "temporalio.activity", logging.WARNING, __file__, 1, "hi %s", ("x",), None
    )
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_activity_log_lines_carry_the_case_id() -> None:
    line = JsonFormatter("worker").format(
        record(
            temporal_activity={
                "activity_type": "issue_notice",
                "attempt": 2,
                "workflow_id": "DB-ABC",
                "workflow_run_id": "r1",
                "workflow_type": "CaseWorkflow",
            }
        )
    )
    entry = json.loads(line)
    assert entry["case_id"] == "DB-ABC"
    assert entry["activity_type"] == "issue_notice" and entry["attempt"] == 2
    assert entry["message"] == "hi x" and entry["level"] == "warning"
    assert entry["service"] == "worker"


def test_payroll_workflow_lines_have_no_case_id() -> None:
    entry = json.loads(
        JsonFormatter("worker").format(
            record(
                temporal_workflow={
                    "workflow_id": "payroll-610423-2026-11",
                    "workflow_type": "PayrollWorkflow",
                }
            )
        )
    )
    assert "case_id" not in entry and entry["workflow_id"] == "payroll-610423-2026-11"


def test_api_request_lines_carry_the_case_of_the_path() -> None:
    token = CASE_ID.set("DB-XYZ")
    try:
        entry = json.loads(JsonFormatter("api").format(record()))
    finally:
        CASE_ID.reset(token)
    assert entry["case_id"] == "DB-XYZ"
