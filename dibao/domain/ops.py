"""Supervision and operations: who a case waits for, failing steps, incidents and their fixes.

Pure rules shared by the workflow (which opens and resolves incidents), the activities (which
record them) and the API (which lists stuck cases). Payload module: no postponed annotations,
Temporal's converter reads these types at run time.
"""

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dibao.domain.enums import Role, Stage


class StuckReason(StrEnum):
    OVERDUE = "overdue"  # the stage's working-day deadline has passed
    FAILING = "failing"  # a step keeps failing while Temporal retries it
    INCIDENT = "incident"  # a step gave up; the case waits for ops to retry or skip it
    IDLE = "idle"  # nothing happened for longer than the given number of days


class FailureStatus(StrEnum):
    RETRYING = "retrying"
    INCIDENT = "incident"
    RETRIED = "retried"  # ops retried it (maybe with corrected input)
    SKIPPED = "skipped"  # ops skipped it, with a recorded reason
    RECOVERED = "recovered"  # a later automatic attempt succeeded
    SUPERSEDED = "superseded"  # a workflow reset replaced the run it belonged to

    @property
    def is_open(self) -> bool:
        return self in (FailureStatus.RETRYING, FailureStatus.INCIDENT)


WAITING_FOR: dict[Stage, str] = {
    Stage.APPLICATION: "申请人补齐材料 (applicant: missing materials)",
    Stage.SURVEY: "入户调查报告 (village/township caseworkers: household survey)",
    Stage.VERIFICATION: "家庭经济状况核对 (system: cross-department verification)",
    Stage.EVALUATION: "民主评议结果 (village/township caseworkers: democratic evaluation)",
    Stage.POSTING_BEFORE_REVIEW: "公示期满 (posting period)",
    Stage.TOWNSHIP_REVIEW: "乡镇审核意见 (township caseworker: review opinion)",
    Stage.POSTING_BEFORE_APPROVAL: "公示期满 (posting period)",
    Stage.COUNTY_APPROVAL: "县级审批 (county approver: decision)",
    Stage.POSTING_AFTER_APPROVAL: "公示期满 (posting period)",
    Stage.RECIPIENT: "动态管理 (recipient)",
    Stage.CLOSED: "",
}

# The role whose move it is at each stage: the stuck list's "assignee". Postings wait for a
# timer and closed cases for no one; verification waits for the system (its registries).
WAITING_ROLE: dict[Stage, Role | None] = {
    Stage.APPLICATION: Role.VILLAGE_CASEWORKER,  # follows up with the applicant
    Stage.SURVEY: Role.VILLAGE_CASEWORKER,
    Stage.VERIFICATION: Role.SYSTEM,
    Stage.EVALUATION: Role.VILLAGE_CASEWORKER,
    Stage.POSTING_BEFORE_REVIEW: None,
    Stage.TOWNSHIP_REVIEW: Role.TOWNSHIP_CASEWORKER,
    Stage.POSTING_BEFORE_APPROVAL: None,
    Stage.COUNTY_APPROVAL: Role.COUNTY_APPROVER,
    Stage.POSTING_AFTER_APPROVAL: None,
    Stage.RECIPIENT: None,
    Stage.CLOSED: None,
}

# Steps a case can go on without: a notice (delivered another way, on paper), the projection
# (rewritten by the next stage), an overdue alert. Everything else carries a result the case
# needs (a certificate number, an entitlement row, the verification), so it can only be retried.
SKIPPABLE_ACTIVITIES = frozenset({"issue_notice", "record_stage", "record_overdue"})

# Fields that key an activity's write (idempotency) or name the case: never "corrected".
FIXED_FIELDS = frozenset({"case_id", "step_key", "seq", "request_id", "posting_id", "run_id"})


@dataclass(frozen=True)
class IncidentRef:
    """A step that gave up: the case waits at it until ops retry or skip it."""

    incident_id: str
    activity_type: str
    step: str
    error: str
    attempts: int
    opened_at: datetime
    skippable: bool
    correctable_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpenIncident:
    incident_id: str
    case_id: str
    workflow_id: str
    run_id: str
    activity_id: str
    activity_type: str
    step: str
    error: str
    opened_at: datetime


@dataclass(frozen=True)
class IncidentOpened:
    incident_id: str
    attempts: int  # as the worker counted them while the step was retried


@dataclass(frozen=True)
class CloseIncident:
    incident_id: str
    status: FailureStatus
    resolved_by: str
    resolution: str
    resolved_at: datetime


@dataclass(frozen=True)
class IncidentClosed:
    incident_id: str


@dataclass(frozen=True)
class RecordOverdue:
    """A stage's deadline passed with the case still in it (the workflow's deadline timer)."""

    case_id: str
    step_key: str
    stage: Stage
    due_at: datetime
    raised_at: datetime


@dataclass(frozen=True)
class OverdueRecorded:
    alert_id: int


class CorrectionError(ValueError):
    """A corrected input that cannot be applied; the message names the field."""


def correctable_fields(arg: Any) -> tuple[str, ...]:
    """Scalar fields of an activity input that ops may correct on retry."""
    if not dataclasses.is_dataclass(arg) or isinstance(arg, type):
        return ()
    return tuple(
        f.name
        for f in dataclasses.fields(arg)
        if f.name not in FIXED_FIELDS
        and isinstance(getattr(arg, f.name), str | int | bool)
        and not isinstance(getattr(arg, f.name), StrEnum)
    )


def parse_corrections(arg: Any, corrections_json: str) -> dict[str, Any]:
    """The corrections as field → value, checked against the input they correct."""
    if not corrections_json.strip():
        return {}
    try:
        values = json.loads(corrections_json)
    except json.JSONDecodeError as err:
        raise CorrectionError(f"corrections: not JSON ({err.msg})") from None
    if not isinstance(values, dict):
        raise CorrectionError("corrections: must be a JSON object of field → value")
    allowed = correctable_fields(arg)
    for name, value in values.items():
        if name not in allowed:
            fields = ", ".join(allowed) or "none"
            raise CorrectionError(
                f"corrections.{name}: not a correctable field of this step (correctable: {fields})"
            )
        current = getattr(arg, name)
        # bool is an int in Python: compare exact types so true never replaces a number.
        if type(value) is not type(current):
            raise CorrectionError(
                f"corrections.{name}: must be {type(current).__name__}, got {type(value).__name__}"
            )
    return values


def apply_corrections(arg: Any, corrections_json: str) -> Any:
    values = parse_corrections(arg, corrections_json)
    return dataclasses.replace(arg, **values) if values else arg
