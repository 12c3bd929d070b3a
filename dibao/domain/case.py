"""Messages of the case workflow: its input, its queryable state, updates and activity payloads.

One frozen dataclass in and one out for every workflow, activity, update and query.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dibao.domain.application import Application
from dibao.domain.enums import AuditAction, CaseStatus, Material, NoticeKind, Role, Stage


class Rejection(StrEnum):
    """Why an update was refused; the API maps these to HTTP statuses (409 / 422)."""

    WRONG_STAGE = "WrongStage"
    INVALID = "InvalidAction"


@dataclass(frozen=True)
class Actor:
    id: str
    role: Role


@dataclass(frozen=True)
class CaseInput:
    case_id: str
    application: Application
    rule_pack_id: str
    rule_pack_version: int
    filed_at: datetime
    filed_by: Actor
    request_id: str


@dataclass(frozen=True)
class NoticeRef:
    notice_id: str
    kind: NoticeKind
    content_sha256: str


@dataclass(frozen=True)
class CaseView:
    """The whole state of a case, as the `state` query returns it."""

    case_id: str
    stage: Stage
    status: CaseStatus
    rule_pack_id: str
    rule_pack_version: int
    application: Application
    filed_at: datetime
    stage_entered_at: datetime
    due_at: datetime | None
    due_warning: str | None
    provided_materials: tuple[Material, ...]
    missing_materials: tuple[Material, ...]
    notices: tuple[NoticeRef, ...]
    withdrawal_reason: str | None = None


@dataclass(frozen=True)
class SupplementMaterials:
    request_id: str
    actor: Actor
    materials: tuple[Material, ...] = ()
    declaration_signed: bool = False
    verification_authorised: bool = False


@dataclass(frozen=True)
class Withdraw:
    request_id: str
    actor: Actor
    reason: str


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    status: CaseStatus


# --- activity payloads ---------------------------------------------------------------------


@dataclass(frozen=True)
class RecordStage:
    case_id: str
    seq: int  # increases with every change, so a late retry never overwrites a newer stage
    stage: Stage
    status: CaseStatus
    entered_at: datetime
    rule_pack_id: str


@dataclass(frozen=True)
class StageRecorded:
    due_at: datetime | None
    due_warning: str | None


@dataclass(frozen=True)
class AuditEntry:
    case_id: str
    step_key: str  # unique per case: a retried or replayed step never writes a second row
    actor: Actor
    action: AuditAction
    payload_sha256: str
    at: datetime


@dataclass(frozen=True)
class AuditRecorded:
    audit_id: int


@dataclass(frozen=True)
class IssueNotice:
    case_id: str
    step_key: str
    kind: NoticeKind
    issued_at: datetime
    missing_materials: tuple[Material, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class NoticeIssued:
    notice: NoticeRef
