"""Request and answer bodies of complaints and reports (mca-2021 Arts. 36–37)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.fields import Line, Text
from api.schemas import Strict
from dibao.domain.complaints import (
    Channel,
    ComplaintKind,
    ComplaintStatus,
    Finding,
    FollowUp,
    Level,
    Source,
    Step,
)

CaseRef = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
County = Annotated[str, Field(pattern=r"^\d{6}$")]
Township = Annotated[str, Field(pattern=r"^\d{9}$")]
Village = Annotated[str, Field(pattern=r"^\d{12}$")]


class ComplaintIn(Strict):
    """A complaint or report as taken on the hotline, by letter or in person. For a case or a
    recipient, the place is the case's; a general complaint gives its county (and, if known,
    township or village)."""

    kind: ComplaintKind
    case_id: CaseRef | None = None
    county_code: County | None = None
    township_code: Township | None = None
    village_code: Village | None = None
    channel: Channel
    source: Source = Source.HOTLINE
    summary: Text = Field(
        min_length=1, max_length=4000, examples=["反映该户家中有小轿车一辆，经营门面房出租"]
    )
    complainant_name: Line | None = Field(
        default=None, max_length=50, description="real-name reports only; kept private"
    )
    complainant_contact: Line | None = Field(
        default=None, max_length=100, description="real-name reports only; kept private"
    )


class AssignIn(Strict):
    level: Level
    township_code: Township | None = None


class InvestigationIn(Strict):
    finding: Finding
    summary: Text = Field(
        min_length=1, max_length=4000, examples=["经入户核查，该户确有小轿车一辆（2019年购置）"]
    )
    follow_up: FollowUp = FollowUp.NONE


class AnswerIn(Strict):
    text: Text = Field(
        min_length=1,
        max_length=4000,
        description="the written answer's body: what was checked and what was found",
        examples=["经核查，你反映的情况属实，已对该户启动复核。"],
    )


class CloseIn(Strict):
    note: Text = Field(default="", max_length=1000)


class ComplaintEventOut(BaseModel):
    step: Step
    actor_id: str
    actor_role: str
    at: datetime
    detail: dict[str, str]


class ComplaintOut(BaseModel):
    complaint_id: str
    kind: ComplaintKind
    channel: Channel
    source: Source
    case_id: str | None
    county_code: str
    township_code: str | None
    village_code: str | None
    summary: str
    status: ComplaintStatus
    status_zh: str
    assigned_level: Level | None
    finding: Finding | None
    investigation: str | None
    follow_up: FollowUp | None
    received_at: datetime
    received_by: str
    due_at: datetime
    due_warning: str | None
    overdue: bool
    answered_at: datetime | None
    answer_sha256: str | None
    answer_url: str | None
    closed_at: datetime | None
    rule_pack: str
    # Only for the staff who answer the reporter (Art. 37); null for everyone else.
    complainant_name: str | None = None
    complainant_contact: str | None = None
    complainant_hidden: bool = Field(
        description="true where the complainant is withheld from this user"
    )
    events: list[ComplaintEventOut] = []
    follow_up_result: str | None = Field(
        default=None, description="what the founded complaint started on the case"
    )


class ComplaintPageOut(BaseModel):
    items: list[ComplaintOut]
    next: str | None = Field(description="pass as `after` for the next page; null: last page")
