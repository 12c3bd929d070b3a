"""Who a case waits for, and what ops may correct when they retry a failed step."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dibao.domain.application import Payee
from dibao.domain.enums import AuditAction, NoticeKind, Role, Stage
from dibao.domain.ops import (
    SKIPPABLE_ACTIVITIES,
    WAITING_FOR,
    WAITING_ROLE,
    CorrectionError,
    FailureStatus,
    apply_corrections,
    correctable_fields,
    incident_options,
    parse_corrections,
)
from dibao.messages.case import Actor, AuditEntry, IssueNotice, RecordPayee

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


AT = datetime(2026, 11, 22, tzinfo=UTC)
# What a 150-character Idempotency-Key made of an audit write: a key too long for its column.
LONG_KEY_AUDIT = AuditEntry(
    case_id="DB-1",
    step_key="withdraw/" + "k" * 150,
    actor=Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER, jurisdiction="610102001001"),
    action=AuditAction.WITHDRAW,
    payload_sha256="0" * 64,
    at=AT,
)
NUL_PAYEE = RecordPayee(
    case_id="DB-1",
    step_key="payee/p1",
    payee=Payee(
        account_holder="张三", bank="中国农业银行\x00某支行", account_no="6228480012345678"
    ),
    recorded_by="zhang.wei",
    recorded_at=AT,
)


def test_a_key_carrying_an_idempotency_key_can_be_shortened_but_not_who_acted() -> None:
    fields = correctable_fields(LONG_KEY_AUDIT)
    assert "step_key" in fields
    assert not {"actor.id", "actor.jurisdiction", "payload_sha256", "case_id"} & set(fields)
    fixed = apply_corrections(LONG_KEY_AUDIT, json.dumps({"step_key": "withdraw/k-shortened"}))
    assert fixed.step_key == "withdraw/k-shortened"
    assert fixed.actor == LONG_KEY_AUDIT.actor and fixed.at == LONG_KEY_AUDIT.at


@pytest.mark.parametrize(
    ("corrections", "message"),
    [
        ('{"step_key": "terminate/x"}', "must start with 'withdraw/'"),
        ('{"step_key": "withdraw/"}', "must start with 'withdraw/'"),
        (json.dumps({"step_key": "withdraw/" + "k" * 92}), "at most 100 characters, got 101"),
        ('{"step_key": "withdraw/a\\u0000"}', "control character U.0000"),
        ('{"actor.id": "mallory"}', "corrections.actor.id: not a correctable field"),
    ],
)
def test_a_shortened_key_keeps_its_kind_and_fits(corrections: str, message: str) -> None:
    with pytest.raises(CorrectionError, match=message):
        parse_corrections(LONG_KEY_AUDIT, corrections)


def test_a_field_of_the_record_a_step_writes_is_correctable_by_its_path() -> None:
    fields = correctable_fields(NUL_PAYEE)
    assert {"payee.bank", "payee.account_holder", "payee.account_no", "step_key"} <= set(fields)
    assert "recorded_by" not in fields
    with pytest.raises(CorrectionError, match=r"corrections\.payee\.bank: contains the control"):
        parse_corrections(NUL_PAYEE, json.dumps({"payee.bank": "农行\x07"}))
    fixed = apply_corrections(NUL_PAYEE, json.dumps({"payee.bank": "中国农业银行某支行"}))
    assert fixed.payee == Payee("张三", "中国农业银行某支行", "6228480012345678")
    assert fixed.step_key == NUL_PAYEE.step_key


def test_every_incident_offers_a_way_forward() -> None:
    assert incident_options("append_audit", ("step_key",)) == (
        "retry",
        "retry_with_correction(step_key)",
        "close",
    )
    assert incident_options("issue_notice", ()) == ("retry", "skip", "close")
    assert incident_options("verify_household", ())[-1] == "close"
