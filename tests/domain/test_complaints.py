"""Complaints and reports as the rules say: mca-2021 Arts. 36–37, 000 篇3 (lines 50, 54),
000 篇5 (line 69), 003 (lines 399–400)."""

from __future__ import annotations

from datetime import date

from dibao.domain import complaints as rules
from dibao.domain.complaints import (
    Channel,
    ComplaintKind,
    ComplaintState,
    ComplaintStatus,
    Finding,
    FollowUp,
    Level,
    Step,
)
from dibao.domain.enums import Role
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT, policy_problems
from dibao.messages.case import Actor

TOWNSHIP = Actor(id="li.na", role=Role.TOWNSHIP_CASEWORKER, jurisdiction="610423100")
COUNTY = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")
VILLAGE = Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100201")
SUPERVISOR = Actor(id="wang.jian", role=Role.SUPERVISOR, jurisdiction="610423")
AUDITOR = Actor(id="liu.yang", role=Role.AUDITOR, jurisdiction="610423")
OTHER_TOWNSHIP = Actor(id="wu.fang", role=Role.TOWNSHIP_CASEWORKER, jurisdiction="610423101")


def state(
    status: ComplaintStatus = ComplaintStatus.RECEIVED,
    channel: Channel = Channel.REAL_NAME,
    level: Level | None = None,
) -> ComplaintState:
    return ComplaintState(
        status=status,
        channel=channel,
        kind=ComplaintKind.RECIPIENT,
        county_code="610423",
        township_code="610423100",
        village_code="610423100201",
        assigned_level=level,
        finding=None,
    )


def test_status_flow_received_assigned_investigating_answered_closed() -> None:
    # 000 篇3 line 54: 专人负责接受…专人负责核实处理 — received, handed to whom checks, checked.
    walk = [Step.ASSIGN, Step.INVESTIGATE, Step.ANSWER, Step.CLOSE]
    status = ComplaintStatus.RECEIVED
    seen = []
    for step in walk:
        assert rules.transition_problem(step, state(status)) is None
        status = rules.next_status(step)
        seen.append(status)
    assert seen == [
        ComplaintStatus.ASSIGNED,
        ComplaintStatus.INVESTIGATING,
        ComplaintStatus.ANSWERED,
        ComplaintStatus.CLOSED,
    ]
    # Out of order: no answer before the investigation, nothing after closing.
    assert rules.transition_problem(Step.ANSWER, state(ComplaintStatus.ASSIGNED))
    assert rules.transition_problem(Step.INVESTIGATE, state(ComplaintStatus.RECEIVED))
    for step in Step:
        if step is not Step.RECEIVE:
            assert rules.transition_problem(step, state(ComplaintStatus.CLOSED))


def test_art37_a_real_name_report_closes_only_once_answered_an_anonymous_one_without() -> None:
    investigated = ComplaintStatus.INVESTIGATING
    problem = rules.transition_problem(Step.CLOSE, state(investigated, Channel.REAL_NAME))
    assert problem is not None and "Art. 37" in problem
    assert rules.transition_problem(Step.CLOSE, state(investigated, Channel.ANONYMOUS)) is None


def test_art37_a_real_name_report_names_a_way_to_answer_an_anonymous_one_no_one() -> None:
    assert rules.complainant_problems(Channel.REAL_NAME, "王五", "13800000000") == []
    missing = rules.complainant_problems(Channel.REAL_NAME, "王五", "")
    assert [field for field, _ in missing] == ["complainant_contact"]
    assert rules.complainant_problems(Channel.ANONYMOUS, None, None) == []
    assert rules.complainant_problems(Channel.ANONYMOUS, "王五", None)


def test_art36_township_and_county_handle_supervisors_and_auditors_read_village_neither() -> None:
    s = state(ComplaintStatus.ASSIGNED, level=Level.TOWNSHIP)
    assert rules.step_denial(TOWNSHIP, Step.INVESTIGATE, s) is None
    assert rules.step_denial(COUNTY, Step.INVESTIGATE, s) is None
    for reader in (SUPERVISOR, AUDITOR):
        assert rules.read_denial(reader, s) is None
        assert rules.step_denial(reader, Step.INVESTIGATE, s) is not None
    refused = rules.read_denial(VILLAGE, s)
    assert refused is not None and "Art. 36" in refused
    assert rules.record_denial(VILLAGE, "610423100201") is not None
    assert rules.read_denial(OTHER_TOWNSHIP, s) is not None  # outside its jurisdiction
    # Assigned to the county: the township no longer acts on it.
    county = state(ComplaintStatus.ASSIGNED, level=Level.COUNTY)
    assert rules.step_denial(TOWNSHIP, Step.INVESTIGATE, county) is not None
    assert rules.step_denial(COUNTY, Step.INVESTIGATE, county) is None


def test_privacy_only_handlers_see_the_complainant_like_an_objector() -> None:
    assert {Role.TOWNSHIP_CASEWORKER, Role.COUNTY_APPROVER} == rules.SEES_COMPLAINANT
    for role in (Role.VILLAGE_CASEWORKER, Role.SUPERVISOR, Role.AUDITOR, Role.OPS):
        assert role not in rules.SEES_COMPLAINANT


def test_000_5_line_69_a_founded_complaint_about_a_recipient_starts_a_re_review() -> None:
    case = "DB-0123456789AB"
    assert (
        rules.follow_up_problem(ComplaintKind.RECIPIENT, Finding.FOUNDED, FollowUp.REVIEW, case)
        is None
    )
    assert rules.follow_up_problem(ComplaintKind.CASE, Finding.FOUNDED, FollowUp.STOP, case) is None
    assert rules.follow_up_problem(
        ComplaintKind.RECIPIENT, Finding.UNFOUNDED, FollowUp.REVIEW, case
    )
    assert rules.follow_up_problem(ComplaintKind.GENERAL, Finding.FOUNDED, FollowUp.REVIEW, None)
    assert rules.follow_up_problem(ComplaintKind.RECIPIENT, Finding.FOUNDED, FollowUp.STOP, case)


def test_deadline_in_working_days_from_the_pack_skips_the_national_day_holiday() -> None:
    # Both packs: 20 working days (Art. 37 says 及时; 001 陕西 第十条(一) gives the township 20).
    assert SEED_DEFAULT.complaint_working_days == MCA_2021.complaint_working_days == 20
    # Received Monday 2025-09-29: 10-01..10-08 are the National Day holiday, 09-28 and 10-11
    # make-up working days (State Council 2025).
    deadline = rules.due(date(2025, 9, 29), 20)
    assert deadline.due_date == date(2025, 11, 3)
    assert deadline.warning is None
    assert rules.overdue(ComplaintStatus.INVESTIGATING, deadline.due_date, date(2025, 11, 4))
    assert not rules.overdue(ComplaintStatus.ANSWERED, deadline.due_date, date(2025, 11, 4))
    assert not rules.overdue(ComplaintStatus.RECEIVED, deadline.due_date, date(2025, 11, 3))


def test_the_pack_refuses_a_complaint_period_beyond_the_xinfang_regulation() -> None:
    import dataclasses

    too_long = dataclasses.replace(SEED_DEFAULT, complaint_working_days=41)
    assert any(p.startswith("complaint_working_days") for p in policy_problems(too_long))


def test_a_complaint_about_a_case_names_it_a_general_one_does_not() -> None:
    assert rules.kind_problems(ComplaintKind.RECIPIENT, None)
    assert rules.kind_problems(ComplaintKind.GENERAL, "DB-0123456789AB")
    assert rules.kind_problems(ComplaintKind.CASE, "DB-0123456789AB") == []
