"""Request and response bodies of supervision and operations."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.fields import Line, Text
from api.outage import OutageOut
from dibao.domain.enums import Role, Stage
from dibao.domain.ops import StuckReason
from dibao.messages.case import Actor, CloseCase, RetryStep, SkipStep


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A corrected value goes into the step's input as it is: bounded and printable like the field it
# corrects.
CorrectionField = Annotated[Line, Field(min_length=1, max_length=64)]
CorrectionValue = (
    Annotated[Text, Field(max_length=4000)]
    | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
    | bool
)


class RetryStepIn(Strict):
    incident_id: Line = Field(min_length=1, max_length=100)
    reason: Text = Field(min_length=1, max_length=1000, examples=["数据库已恢复，重试"])
    corrections: dict[CorrectionField, CorrectionValue] | None = Field(
        default=None,
        max_length=20,
        description="corrected input fields of the failed step (see the incident's "
        "correctable_fields; `payee.bank` for a field of a record the step writes). The case "
        "and who acted cannot be changed; a step key carrying an Idempotency-Key may be "
        "shortened, keeping its prefix up to '/'",
        examples=[{"reason": "申请人拒不配合入户调查"}],
    )

    def to_message(self, request_id: str, actor: Actor) -> RetryStep:
        return RetryStep(
            request_id=request_id,
            actor=actor,
            incident_id=self.incident_id,
            reason=self.reason,
            corrections_json=json.dumps(self.corrections, ensure_ascii=False)
            if self.corrections
            else "",
        )


class SkipStepIn(Strict):
    incident_id: Line = Field(min_length=1, max_length=100)
    reason: Text = Field(min_length=1, max_length=1000, examples=["通知书已纸质送达"])

    def to_message(self, request_id: str, actor: Actor) -> SkipStep:
        return SkipStep(
            request_id=request_id, actor=actor, incident_id=self.incident_id, reason=self.reason
        )


class CloseCaseIn(Strict):
    incident_id: Line = Field(min_length=1, max_length=100)
    reason: Text = Field(
        min_length=1,
        max_length=1000,
        description="told to the household in the termination notice, and audited",
        examples=["申请材料中的账户信息无法登记，经核实后请重新申请"],
    )

    def to_message(self, request_id: str, actor: Actor) -> CloseCase:
        return CloseCase(
            request_id=request_id, actor=actor, incident_id=self.incident_id, reason=self.reason
        )


class FailingStepOut(BaseModel):
    activity_type: str
    status: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    last_error: str
    incident_id: str | None
    step: str | None


class StuckCaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: str
    county_code: str
    township_code: str
    village_code: str
    stage: Stage
    status: str
    reasons: list[StuckReason]
    waiting_for: str = Field(description="which role and step, or which failing activity")
    waiting_role: Role | None
    since: datetime = Field(description="since when it waits for that")
    due_at: datetime | None
    overdue_since: datetime | None
    failing_step: FailingStepOut | None = Field(default=None, validation_alias="failing")


class TownshipCountOut(BaseModel):
    township_code: str
    cases: int


class StuckListOut(BaseModel):
    total: int
    items: list[StuckCaseOut]
    next: str | None = Field(
        default=None, description="pass as `after=` for the next page; null on the last"
    )
    by_township: list[TownshipCountOut]
    as_of: datetime
    idle_days: int
    database_outage: OutageOut | None = Field(
        default=None,
        description="the last database outage a worker saw: steps that failed during it may "
        "be missing from this list",
    )


class AlertOut(BaseModel):
    case_id: str
    kind: str
    county_code: str
    township_code: str
    stage: str
    due_at: datetime | None
    message: str
    raised_at: datetime


class IncidentOut(BaseModel):
    case_id: str | None
    workflow_id: str
    run_id: str
    incident_id: str | None
    status: str
    activity_type: str
    step: str | None
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    last_error: str
    county_code: str | None
    township_code: str | None
    stage: str | None
    correctable_fields: list[str] = Field(
        default_factory=list, description="input fields a retry may correct"
    )
    options: list[str] = Field(
        default_factory=list,
        description="what ops can do about an open incident: retry, "
        "retry_with_correction(fields...), skip (only where the case can do without the "
        "step), close (the case, with a notice)",
    )


class IncidentListOut(BaseModel):
    total: int = Field(description="matching steps, counted up to 1,000 (see total_capped)")
    total_capped: bool = Field(default=False, description="more steps match than `total`")
    items: list[IncidentOut]
    next: str | None = Field(
        default=None, description="pass as `after=` for the next page; null on the last"
    )


class PendingActivityOut(BaseModel):
    activity_id: str
    activity_type: str
    state: str
    attempt: int
    maximum_attempts: int = Field(description="0: no limit")
    scheduled_at: datetime | None
    last_started_at: datetime | None
    next_attempt_at: datetime | None
    last_failure: str | None
    last_worker: str | None


class DescribeOut(BaseModel):
    case_id: str
    workflow_status: str
    run_id: str
    history_length: int
    pending_activities: list[PendingActivityOut]
    incidents: list[IncidentOut]
