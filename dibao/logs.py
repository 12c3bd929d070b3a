"""Structured logs: one JSON object per line, carrying the case ID wherever there is one.

Temporal's workflow and activity loggers attach `temporal_workflow` / `temporal_activity`
dicts to their records; a case workflow's ID is the case ID. API requests on /cases/{id}/…
set it through `CASE_ID`.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CASE_ID: ContextVar[str | None] = ContextVar("dibao_case_id", default=None)
CASE_WORKFLOW = "CaseWorkflow"

# No log line may hold a name, ID number or account number (the developers' guide), yet the
# texts of database errors quote the row that failed: PostgreSQL's DETAIL ("Key (head_id_number)
# =(6125…) already exists"), SQLAlchemy's "[parameters: (…)]", pydantic's "input_value=…".
# Every line is scrubbed of those before it is written; exception texts also lose Chinese text,
# where names are, since an exception may quote any value it met.
_SCRUB = [
    (re.compile(r"\[parameters: .*"), "[parameters: (redacted)]"),
    (re.compile(r"DETAIL: .*"), "DETAIL: (redacted)"),
    (re.compile(r"(Key \([^)]*\))=\(.*?\)( already exists| is not present|$)", re.M), r"\1=(…)\2"),
    (re.compile(r"input_value=.*?(, input_type=|$)", re.M), r"input_value=(redacted)\1"),
    # An 18-character resident ID number; then account numbers and other long digit runs
    # (13 digits and more: a 12-digit village code is not personal).
    (re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])"), "[ID number]"),
    (re.compile(r"(?<![0-9])[0-9]{13,30}(?![0-9])"), "[number]"),
]
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f·]+")


def redact(text: str) -> str:
    """A log text without the personal data database and validation errors quote."""
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def redact_exception(text: str) -> str:
    return _CJK.sub("…", redact(text))


class RedactingFormatter(logging.Formatter):
    """The text format, scrubbed like the JSON one."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = redact(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info:
            line += "\n" + redact_exception(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        temporal = getattr(record, "temporal_activity", None) or getattr(
            record, "temporal_workflow", None
        )
        if isinstance(temporal, dict):
            entry["workflow_id"] = temporal.get("workflow_id")
            entry["run_id"] = temporal.get("run_id") or temporal.get("workflow_run_id")
            if "activity_type" in temporal:
                entry["activity_type"] = temporal["activity_type"]
                entry["attempt"] = temporal.get("attempt")
            if temporal.get("workflow_type") == CASE_WORKFLOW:
                entry["case_id"] = temporal.get("workflow_id")
        case_id = CASE_ID.get()
        if case_id and "case_id" not in entry:
            entry["case_id"] = case_id
        if record.exc_info:
            entry["error"] = redact_exception(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(service: str, log_format: str, level: int = logging.INFO) -> None:
    """Send every log record, uvicorn's included, through one handler on the root logger."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(
            RedactingFormatter(f"%(asctime)s {service} %(levelname)s %(name)s %(message)s")
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
