"""Structured logs: one JSON object per line, carrying the case ID wherever there is one.

Temporal's workflow and activity loggers attach `temporal_workflow` / `temporal_activity`
dicts to their records; a case workflow's ID is the case ID. API requests on /cases/{id}/…
set it through `CASE_ID`.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CASE_ID: ContextVar[str | None] = ContextVar("dibao_case_id", default=None)
CASE_WORKFLOW = "CaseWorkflow"


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
            "message": record.getMessage(),
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
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(service: str, log_format: str, level: int = logging.INFO) -> None:
    """Send every log record, uvicorn's included, through one handler on the root logger."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s %(message)s")
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
