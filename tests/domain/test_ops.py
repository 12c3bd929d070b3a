"""Who a case waits for, and what ops may correct when they retry a failed step."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dibao.domain.case import IssueNotice
from dibao.domain.enums import NoticeKind, Role, Stage
from dibao.domain.ops import (
    SKIPPABLE_ACTIVITIES,
    WAITING_FOR,
    WAITING_ROLE,
    CorrectionError,
    FailureStatus,
    apply_corrections,
    correctable_fields,
    parse_corrections,
)

NOTICE = IssueNotice(
    case_id="DB-1",
    step_key="termination",
    kind=NoticeKind.TERMINATION,
    issued_at=datetime(2026, 11, 22, tzinfo=UTC),
    reason="不配合",
)


def test_every_stage_says_what_it_waits_for_and_whose_move_it_is() -> None:
    assert set(WAITING_FOR) == set(Stage) == set(WAITING_ROLE)
    assert WAITING_ROLE[Stage.TOWNSHIP_REVIEW] is Role.TOWNSHIP_CASEWORKER
    assert WAITING_ROLE[Stage.COUNTY_APPROVAL] is Role.COUNTY_APPROVER
    # Postings wait for a timer, not for a person, so they are never "idle".
    assert WAITING_ROLE[Stage.POSTING_BEFORE_REVIEW] is None


def test_keys_and_enums_are_not_correctable() -> None:
    fields = correctable_fields(NOTICE)
    assert "reason" in fields and "certificate_no" in fields
    assert "case_id" not in fields and "step_key" not in fields and "kind" not in fields


def test_a_correction_replaces_the_field() -> None:
    corrected = apply_corrections(NOTICE, json.dumps({"reason": "拒不配合入户调查"}))
    assert corrected.reason == "拒不配合入户调查"
    assert corrected.step_key == NOTICE.step_key
    assert apply_corrections(NOTICE, "") is NOTICE


@pytest.mark.parametrize(
    ("corrections", "message"),
    [
        ("{", "corrections: not JSON"),
        ("[1]", "must be a JSON object"),
        ('{"step_key": "x"}', "corrections.step_key: not a correctable field"),
        ('{"nope": "x"}', "corrections.nope: not a correctable field"),
        ('{"reason": 5}', "corrections.reason: must be str, got int"),
        ('{"monthly_amount_fen": true}', "corrections.monthly_amount_fen: must be int, got bool"),
    ],
)
def test_a_bad_correction_names_the_field(corrections: str, message: str) -> None:
    with pytest.raises(CorrectionError, match=message):
        parse_corrections(NOTICE, corrections)


def test_only_steps_the_case_can_do_without_are_skippable() -> None:
    assert "issue_notice" in SKIPPABLE_ACTIVITIES
    assert not {"record_entitlement", "issue_certificate", "append_audit"} & SKIPPABLE_ACTIVITIES
    assert FailureStatus.INCIDENT.is_open and not FailureStatus.SKIPPED.is_open
