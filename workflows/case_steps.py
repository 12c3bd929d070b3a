"""The activities the case workflow calls, as typed references.

Each is the signature of an activity the worker registers (activities/), under the same name:
the workflow calls these, so the argument and result types are checked by mypy and the name
is written once. Their bodies never run in a workflow; `tests/workflows/test_case_steps.py`
checks each against the registered activity of its name (parameter and result types), so the
two cannot drift apart.
"""

from __future__ import annotations

from typing import NoReturn

from temporalio import activity

from dibao.domain.measures import RecordReminder
from dibao.domain.ops import (
    CloseIncident,
    IncidentClosed,
    IncidentOpened,
    OpenIncident,
    OverdueRecorded,
    RecordOverdue,
)
from dibao.domain.standards import StandardInForce, StandardQuery
from dibao.domain.verification import VerificationOutcome, VerifyHousehold
from dibao.messages.case import (
    AuditEntry,
    AuditRecorded,
    CertificateIssued,
    ClosePosting,
    DrawSpotCheck,
    EntitlementRecorded,
    IssueCertificate,
    IssueNotice,
    NoticeIssued,
    OpenPosting,
    PayeeRecorded,
    PostingClosed,
    PostingRef,
    ProcedureDeadline,
    RecordEntitlement,
    RecordPayee,
    RecordProcedureDeadline,
    RecordProcedureOverdue,
    RecordStage,
    RecordTransition,
    SpotCheckResult,
    StageRecorded,
    TransitionRecorded,
)


def _stub() -> NoReturn:
    raise NotImplementedError("a reference to the worker's activity; it runs in activities/")


@activity.defn(name="record_stage")
async def record_stage(change: RecordStage) -> StageRecorded:
    _stub()


@activity.defn(name="record_transition")
async def record_transition(transition: RecordTransition) -> TransitionRecorded:
    _stub()


@activity.defn(name="append_audit")
async def append_audit(entry: AuditEntry) -> AuditRecorded:
    _stub()


@activity.defn(name="issue_notice")
async def issue_notice(request: IssueNotice) -> NoticeIssued:
    _stub()


@activity.defn(name="record_procedure_deadline")
async def record_procedure_deadline(request: RecordProcedureDeadline) -> ProcedureDeadline:
    _stub()


@activity.defn(name="open_posting")
async def open_posting(request: OpenPosting) -> PostingRef:
    _stub()


@activity.defn(name="close_posting")
async def close_posting(request: ClosePosting) -> PostingClosed:
    _stub()


@activity.defn(name="draw_spot_check")
async def draw_spot_check(request: DrawSpotCheck) -> SpotCheckResult:
    _stub()


@activity.defn(name="issue_certificate")
async def issue_certificate(request: IssueCertificate) -> CertificateIssued:
    _stub()


@activity.defn(name="record_entitlement")
async def record_entitlement(request: RecordEntitlement) -> EntitlementRecorded:
    _stub()


@activity.defn(name="record_payee")
async def record_payee(request: RecordPayee) -> PayeeRecorded:
    _stub()


@activity.defn(name="verify_household")
async def verify_household(request: VerifyHousehold) -> VerificationOutcome:
    _stub()


@activity.defn(name="standard_in_force")
async def standard_in_force(request: StandardQuery) -> StandardInForce:
    _stub()


@activity.defn(name="open_incident")
async def open_incident(request: OpenIncident) -> IncidentOpened:
    _stub()


@activity.defn(name="close_incident")
async def close_incident(request: CloseIncident) -> IncidentClosed:
    _stub()


@activity.defn(name="record_overdue")
async def record_overdue(request: RecordOverdue) -> OverdueRecorded:
    _stub()


@activity.defn(name="record_reminder")
async def record_reminder(request: RecordReminder) -> OverdueRecorded:
    _stub()


@activity.defn(name="record_procedure_overdue")
async def record_procedure_overdue(request: RecordProcedureOverdue) -> OverdueRecorded:
    _stub()


STEPS = (
    record_transition,
    record_stage,
    append_audit,
    issue_notice,
    record_procedure_deadline,
    open_posting,
    close_posting,
    draw_spot_check,
    issue_certificate,
    record_entitlement,
    record_payee,
    verify_household,
    standard_in_force,
    open_incident,
    close_incident,
    record_overdue,
    record_reminder,
    record_procedure_overdue,
)
