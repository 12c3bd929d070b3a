"""Log lines are JSON objects that carry the case ID."""

from __future__ import annotations

import json
import logging
import sys

from dibao.logs import CASE_ID, JsonFormatter, RedactingFormatter


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


def test_exception_texts_lose_the_values_they_quote() -> None:
    try:
        raise ValueError(
            "(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "
            '"uq_cases_open_household"\nDETAIL:  Key (head_id_number)=(612522195803120027) '
            "already exists.\n[SQL: INSERT INTO payee_accounts ...]\n"
            "[parameters: ('DB-A', '王秀英', '6228480000000000017')]\n"
            "1 validation error: input_value='王秀英', input_type=str"
        )
    except ValueError:
        rec = logging.LogRecord("api", logging.ERROR, __file__, 1, "failed", (), None)
        rec.exc_info = sys.exc_info()
    for formatter in (JsonFormatter("api"), RedactingFormatter("%(message)s")):
        line = formatter.format(rec)
        assert "612522195803120027" not in line and "6228480000000000017" not in line
        assert "王秀英" not in line and "\\u738b" not in line
        assert "uq_cases_open_household" in line  # what failed stays readable


def test_messages_lose_id_and_account_numbers_but_keep_place_codes() -> None:
    rec = logging.LogRecord(
        "api",
        logging.INFO,
        __file__,
        1,
        "%s %s %s",
        ("612522195803120027", "6228480000000000017", "610423100201"),
        None,
    )
    message = json.loads(JsonFormatter("api").format(rec))["message"]
    assert message == "[ID number] [number] 610423100201"
