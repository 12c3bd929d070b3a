"""Complaints and reports (举报、投诉、信访): the rules, without I/O.

Sources:
- mca-2021 Art. 36: the county's civil-affairs bureau and the township run a public hotline that
  takes questions, reports and complaints (受理咨询、举报和投诉).
- mca-2021 Art. 37: every real-name report is checked one by one (逐一核查) and its result fed
  back to the reporter promptly (及时向举报人反馈核查处理结果).
- 000 篇3 (line 50): a report hotline (开通举报电话，畅通举报渠道，接受举报投诉); 000 篇3 (line 54):
  one person receives 信访举报, one person checks and handles them (专人负责接受…专人负责核实处理).
- 003 lines 399–400: the 信访记录本 is read, the families complained of are checked at home, and
  the complainant is told the policy and why (给投诉人…解释相关政策，告知…原因).
- 000 篇5 (line 69): a household found better off after a report leaves the roll (凡是有群众举报和
  通过调查…超过最低生活保障线的，及时将其退出) — a founded complaint about a recipient can
  start a re-review or a stop.

A complaint moves received → assigned → investigating → answered → closed. The complainant's
name and contact are kept like an objector's: only the staff who handle complaints see them
(they answer the reporter, Art. 37); supervisors and auditors read the complaint without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dibao.domain.actor import Actor
from dibao.domain.calendar import Deadline, add_working_days, official_is_working_day
from dibao.domain.enums import Role


class ComplaintKind(StrEnum):
    CASE = "case"  # about an application being handled (a case)
    RECIPIENT = "recipient"  # about a household receiving 低保 (人情保, 关系保, hidden income)
    GENERAL = "general"  # about the work itself (a cadre, a village's practice), no one case


class Channel(StrEnum):
    REAL_NAME = "real_name"  # 实名: Art. 37, the result is fed back to the reporter
    ANONYMOUS = "anonymous"  # 匿名: checked all the same, no one to answer


class Source(StrEnum):
    """How it came in (000 篇3: 举报电话, 信访; 003 line 399: 信访记录本)."""

    HOTLINE = "hotline"  # 服务热线、举报电话 (Art. 36)
    LETTER = "letter"  # 来信
    VISIT = "visit"  # 来访
    ONLINE = "online"  # 网上信访


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    INVESTIGATING = "investigating"
    ANSWERED = "answered"
    CLOSED = "closed"


class Finding(StrEnum):
    FOUNDED = "founded"  # 属实 (or partly so)
    UNFOUNDED = "unfounded"  # 不属实


class FollowUp(StrEnum):
    """What a founded complaint about a recipient starts on the case (000 篇5 line 69)."""

    NONE = "none"
    REVIEW = "review"  # about a recipient: a re-review is due (the circumstance report)
    STOP = "stop"  # about an application being handled: it is terminated (终止办理)


class Level(StrEnum):
    TOWNSHIP = "township"  # 乡镇人民政府（街道办事处）
    COUNTY = "county"  # 县级人民政府民政部门


class Step(StrEnum):
    RECEIVE = "receive"
    ASSIGN = "assign"
    INVESTIGATE = "investigate"
    ANSWER = "answer"
    CLOSE = "close"


OPEN = frozenset(
    {ComplaintStatus.RECEIVED, ComplaintStatus.ASSIGNED, ComplaintStatus.INVESTIGATING}
)

# The status flow: a step may be taken from these statuses and leads to that one.
FLOW: dict[Step, tuple[frozenset[ComplaintStatus], ComplaintStatus]] = {
    # Re-assigning (the township hands it up to the county, or the county down) is allowed
    # until the investigation is recorded.
    Step.ASSIGN: (
        frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.ASSIGNED}),
        ComplaintStatus.ASSIGNED,
    ),
    Step.INVESTIGATE: (frozenset({ComplaintStatus.ASSIGNED}), ComplaintStatus.INVESTIGATING),
    Step.ANSWER: (frozenset({ComplaintStatus.INVESTIGATING}), ComplaintStatus.ANSWERED),
    # An anonymous report has no one to answer: it closes once investigated.
    Step.CLOSE: (
        frozenset({ComplaintStatus.INVESTIGATING, ComplaintStatus.ANSWERED}),
        ComplaintStatus.CLOSED,
    ),
}

T = Role.TOWNSHIP_CASEWORKER
C = Role.COUNTY_APPROVER
S = Role.SUPERVISOR
A = Role.AUDITOR

# Art. 36: the township and the county take complaints; they investigate and answer. A village
# caseworker neither handles nor reads them: the village committee is often whom they are about.
HANDLERS = frozenset({T, C})
READERS = frozenset({T, C, S, A})
# Who sees the complainant's name and contact: those who must answer the reporter (Art. 37).
SEES_COMPLAINANT = HANDLERS

STATUS_ZH: dict[ComplaintStatus, str] = {
    ComplaintStatus.RECEIVED: "已登记",
    ComplaintStatus.ASSIGNED: "已交办",
    ComplaintStatus.INVESTIGATING: "已核查",
    ComplaintStatus.ANSWERED: "已书面答复",
    ComplaintStatus.CLOSED: "已办结",
}
KIND_ZH: dict[ComplaintKind, str] = {
    ComplaintKind.CASE: "反映申请办理",
    ComplaintKind.RECIPIENT: "反映低保对象",
    ComplaintKind.GENERAL: "反映低保工作",
}
CHANNEL_ZH: dict[Channel, str] = {Channel.REAL_NAME: "实名", Channel.ANONYMOUS: "匿名"}
SOURCE_ZH: dict[Source, str] = {
    Source.HOTLINE: "热线电话",
    Source.LETTER: "来信",
    Source.VISIT: "来访",
    Source.ONLINE: "网上信访",
}
FINDING_ZH: dict[Finding, str] = {
    Finding.FOUNDED: "反映问题属实",
    Finding.UNFOUNDED: "反映问题不属实",
}
FOLLOW_UP_ZH: dict[FollowUp, str] = {
    FollowUp.NONE: "无需对低保待遇采取措施",
    FollowUp.REVIEW: "对该户启动复核，重新核定低保待遇",
    FollowUp.STOP: "终止办理该户最低生活保障申请",
}
LEVEL_ZH: dict[Level, str] = {Level.TOWNSHIP: "乡镇（街道）", Level.COUNTY: "县级民政部门"}


@dataclass(frozen=True)
class ComplaintState:
    """What the rules need of a stored complaint."""

    status: ComplaintStatus
    channel: Channel
    kind: ComplaintKind
    county_code: str
    township_code: str | None
    village_code: str | None
    assigned_level: Level | None
    finding: Finding | None

    @property
    def place(self) -> str:
        """The most precise code known: who, by jurisdiction, may read and handle it."""
        return self.village_code or self.township_code or self.county_code


def due(
    received_on: date,
    working_days: int,
    is_working_day: Callable[[date], bool | None] = official_is_working_day,
) -> Deadline:
    """The day the answer (or, anonymous, the closing) is due: `working_days` working days
    after the day received (the pack's complaint_working_days), on the office's calendar."""
    return add_working_days(received_on, working_days, is_working_day)


def inside(code: str, jurisdiction: str) -> bool:
    return code.startswith(jurisdiction)


def read_denial(actor: Actor, complaint: ComplaintState) -> str | None:
    if actor.role not in READERS:
        return (
            f"a {actor.role.value} may not read complaints: the township and the county handle "
            "them (mca-2021 Art. 36)"
        )
    if not inside(complaint.place, actor.jurisdiction):
        return f"the complaint lies outside the jurisdiction {actor.jurisdiction}"
    return None


def record_denial(actor: Actor, place: str) -> str | None:
    if actor.role not in HANDLERS:
        return (
            f"a {actor.role.value} may not record complaints: the township's and the county's "
            "hotline takes them (mca-2021 Art. 36)"
        )
    if not inside(place, actor.jurisdiction):
        return f"{place} lies outside the jurisdiction {actor.jurisdiction}"
    return None


def step_denial(actor: Actor, step: Step, complaint: ComplaintState) -> str | None:
    """Who may take a step: a handler in whose jurisdiction the complaint lies; once assigned
    to the county, the county's (a township may hand a complaint up, not take it back)."""
    if actor.role not in HANDLERS:
        return (
            f"a {actor.role.value} may not handle complaints: the township and the county do "
            "(mca-2021 Art. 36)"
        )
    if not inside(complaint.place, actor.jurisdiction):
        return f"the complaint lies outside the jurisdiction {actor.jurisdiction}"
    if step is not Step.ASSIGN and complaint.assigned_level is Level.COUNTY and actor.role is not C:
        return "the complaint is assigned to the county: the county's staff handle it"
    if step is Step.ASSIGN and complaint.assigned_level is Level.COUNTY and actor.role is not C:
        return "the complaint is with the county: only the county re-assigns it"
    return None


def transition_problem(step: Step, complaint: ComplaintState) -> str | None:
    """Why the step cannot be taken now (a 409), or None."""
    allowed, _ = FLOW[step]
    if complaint.status not in allowed:
        wanted = ", ".join(sorted(s.value for s in allowed))
        return f"the complaint is {complaint.status.value}; {step.value} needs it {wanted}"
    if (
        step is Step.CLOSE
        and complaint.channel is Channel.REAL_NAME
        and (complaint.status is not ComplaintStatus.ANSWERED)
    ):
        return (
            "a real-name report is closed only after its written answer (mca-2021 Art. 37: "
            "及时向举报人反馈核查处理结果)"
        )
    return None


def next_status(step: Step) -> ComplaintStatus:
    return FLOW[step][1]


def follow_up_problem(
    kind: ComplaintKind, finding: Finding, follow_up: FollowUp, case_id: str | None
) -> str | None:
    """What a founded complaint may start on its case (000 篇5 line 69): about a recipient, a
    re-review (whose outcome reduces or stops the payment); about an application still being
    handled, its termination (终止办理)."""
    if follow_up is FollowUp.NONE:
        return None
    if finding is not Finding.FOUNDED:
        return "follow_up: only a founded complaint starts a re-review or a stop"
    if case_id is None:
        return "follow_up: a general complaint names no case to act on"
    if follow_up is FollowUp.REVIEW and kind is not ComplaintKind.RECIPIENT:
        return "follow_up: a re-review is for a complaint about a recipient household"
    if follow_up is FollowUp.STOP and kind is not ComplaintKind.CASE:
        return (
            "follow_up: a stop ends an application being handled; a recipient's payment is "
            "stopped by the re-review's outcome (choose review)"
        )
    return None


def complainant_problems(
    channel: Channel, name: str | None, contact: str | None
) -> list[tuple[str, str]]:
    """A real-name report names the reporter and a way to answer; an anonymous one neither."""
    problems: list[tuple[str, str]] = []
    if channel is Channel.REAL_NAME:
        if not (name or "").strip():
            problems.append(("complainant_name", "a real-name report names the reporter"))
        if not (contact or "").strip():
            problems.append(
                (
                    "complainant_contact",
                    "a real-name report gives a way to answer the reporter (Art. 37)",
                )
            )
    else:
        for field, value in (("complainant_name", name), ("complainant_contact", contact)):
            if (value or "").strip():
                problems.append((field, "an anonymous report records no name or contact"))
    return problems


def kind_problems(kind: ComplaintKind, case_id: str | None) -> list[tuple[str, str]]:
    if kind in (ComplaintKind.CASE, ComplaintKind.RECIPIENT) and not case_id:
        return [("case_id", f"a complaint about a {kind.value} names its case")]
    if kind is ComplaintKind.GENERAL and case_id:
        return [("case_id", "a general complaint names no case; choose kind case or recipient")]
    return []


def assign_problems(
    level: Level, township_code: str | None, county_code: str
) -> list[tuple[str, str]]:
    if level is Level.TOWNSHIP:
        if not township_code:
            return [("township_code", "assigning to a township names the township")]
        if not township_code.startswith(county_code):
            return [("township_code", f"the township must lie in the county {county_code}")]
    return []


def overdue(status: ComplaintStatus, due_on: date, today: date) -> bool:
    return status in OPEN and today > due_on
