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
from dibao.domain.stages import STAGE_TABLE


class StuckReason(StrEnum):
    OVERDUE = "overdue"  # the stage's working-day deadline has passed
    FAILING = "failing"  # a step keeps failing while Temporal retries it
    INCIDENT = "incident"  # a step gave up; the case waits for ops (retry, skip or close)
    IDLE = "idle"  # nothing happened for longer than the given number of days
    # a complaint about the case is past its working-day deadline unanswered (mca-2021 Art. 37)
    COMPLAINT_OVERDUE = "complaint_overdue"


class FailureStatus(StrEnum):
    RETRYING = "retrying"
    INCIDENT = "incident"
    RETRIED = "retried"  # ops retried it (maybe with corrected input)
    SKIPPED = "skipped"  # ops skipped it, with a recorded reason
    CLOSED = "closed"  # ops closed the case at it, with a notice to the household
    RECOVERED = "recovered"  # a later automatic attempt succeeded
    SUPERSEDED = "superseded"  # a workflow reset replaced the run it belonged to

    @property
    def is_open(self) -> bool:
        return self in (FailureStatus.RETRYING, FailureStatus.INCIDENT)


# Whom each stage waits for, in words and as the stuck list's assignee: the stage table's.
WAITING_FOR: dict[Stage, str] = {e.stage: e.waits_for for e in STAGE_TABLE}
WAITING_ROLE: dict[Stage, Role | None] = {e.stage: e.waiting_role for e in STAGE_TABLE}

# Steps a case can go on without: a notice (delivered another way, on paper), the projection
# (rewritten by the next stage), an overdue alert. Everything else carries a result the case
# needs (a certificate number, an entitlement row, the verification), so it can only be retried.
SKIPPABLE_ACTIVITIES = frozenset({"issue_notice", "record_stage", "record_overdue"})

# Fields that name the case, order its writes or say who acted: never "corrected" (a
# correction must not move a write to another case or rewrite who did what).
FIXED_FIELDS = frozenset(
    {"case_id", "seq", "posting_id", "run_id", "actor", "recorded_by", "payload_sha256"}
)

# Keys that carry a client's request ID (an Idempotency-Key): "withdraw/<key>". Stored input
# can make them unwritable (too long for the column), so ops may shorten one; the part up to
# the first "/" stays, so the row still says which kind of step it is. The failed write never
# committed, so the step has no row under the old key and the new key writes it once.
KEY_FIELDS = frozenset({"step_key", "request_id"})
KEY_MAX_LENGTH = 100  # the step_key columns are VARCHAR(100)


class IncidentOption(StrEnum):
    RETRY = "retry"
    RETRY_WITH_CORRECTION = "retry_with_correction"
    SKIP = "skip"
    CLOSE = "close"  # close the case with a notice, for a step that can neither run nor be skipped


def incident_options(activity_type: str, correctable: tuple[str, ...]) -> tuple[str, ...]:
    """What ops can do about an incident, as shown by the API and the CLI: every incident has
    at least retry and close, so no case is left without a way forward."""
    options: list[str] = [IncidentOption.RETRY.value]
    if correctable:
        options.append(f"{IncidentOption.RETRY_WITH_CORRECTION.value}({', '.join(correctable)})")
    if activity_type in SKIPPABLE_ACTIVITIES:
        options.append(IncidentOption.SKIP.value)
    options.append(IncidentOption.CLOSE.value)
    return tuple(options)


@dataclass(frozen=True)
class IncidentRef:
    """A step that gave up: the case waits at it until ops retry, skip or close it."""

    incident_id: str
    activity_type: str
    step: str
    error: str
    attempts: int
    opened_at: datetime
    skippable: bool
    correctable_fields: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # incident_options(): retry, retry_with_correction(...), ...


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
    correctable_fields: tuple[str, ...] = ()


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


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | bool) and not isinstance(value, StrEnum)


def _is_key(name: str, value: Any) -> bool:
    return name in KEY_FIELDS and isinstance(value, str) and "/" in value


def correctable_fields(arg: Any, prefix: str = "") -> tuple[str, ...]:
    """Fields of an activity input that ops may correct on retry: its scalar fields, those of
    the records it holds as dotted paths (`payee.bank`), and keys that carry a client's
    request ID (KEY_FIELDS)."""
    if not dataclasses.is_dataclass(arg) or isinstance(arg, type):
        return ()
    names: list[str] = []
    for f in dataclasses.fields(arg):
        value = getattr(arg, f.name)
        if f.name in FIXED_FIELDS or (f.name in KEY_FIELDS and not _is_key(f.name, value)):
            continue
        if _is_scalar(value):
            names.append(prefix + f.name)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            names.extend(correctable_fields(value, f"{prefix}{f.name}."))
    return tuple(names)


def _lookup(arg: Any, path: str) -> Any:
    for part in path.split("."):
        arg = getattr(arg, part)
    return arg


def _text_problem(value: str) -> str | None:
    """Why a corrected text would fail again where it is stored (PostgreSQL takes no NUL, and
    a lone surrogate is not UTF-8), or None."""
    for ch in value:
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or code == 0x7F:
            return f"contains the control character U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return f"contains a lone surrogate U+{code:04X}"
    return None


def parse_corrections(arg: Any, corrections_json: str) -> dict[str, Any]:
    """The corrections as field path → value, checked against the input they correct."""
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
        current = _lookup(arg, name)
        # bool is an int in Python: compare exact types so true never replaces a number.
        if type(value) is not type(current):
            raise CorrectionError(
                f"corrections.{name}: must be {type(current).__name__}, got {type(value).__name__}"
            )
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                raise CorrectionError(f"corrections.{name}: {problem}")
        leaf = name.rsplit(".", 1)[-1]
        if leaf in KEY_FIELDS:
            kind = current.split("/", 1)[0] + "/"
            if not value.startswith(kind) or len(value) <= len(kind):
                raise CorrectionError(
                    f"corrections.{name}: must start with '{kind}' and name the request after it"
                )
            if len(value) > KEY_MAX_LENGTH:
                raise CorrectionError(
                    f"corrections.{name}: at most {KEY_MAX_LENGTH} characters, got {len(value)}"
                )
    return values


def _replace_path(arg: Any, path: list[str], value: Any) -> Any:
    head, *rest = path
    new = _replace_path(getattr(arg, head), rest, value) if rest else value
    return dataclasses.replace(arg, **{head: new})


def apply_corrections(arg: Any, corrections_json: str) -> Any:
    for name, value in parse_corrections(arg, corrections_json).items():
        arg = _replace_path(arg, name.split("."), value)
    return arg
