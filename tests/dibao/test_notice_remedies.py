"""The notices' new texts (issue 17): remedies on reductions, stops and terminations (Arts. 21,
38), with the pinned pack's body and periods; none on an increase."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dibao.domain.enums import NoticeKind
from dibao.domain.measures import remedy_text, states_remedy
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT
from dibao.notices.render import render_notice

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2027, 3, 1, 2, tzinfo=UTC)


def context(kind: NoticeKind, reason: str, pack: Any) -> dict[str, Any]:
    return {
        "case_id": "DB-TEST",
        "head_name": "王秀英",
        "household_size": 3,
        "issued_at": NOW,
        "filed_at": NOW,
        "decided_at": None,
        "missing": [],
        "reason": reason,
        "reasons": ["家庭人均收入超过低保标准"],
        "complaint_phone": "12345",
        "monthly_amount": "0.00",
        "from_month": "2027-04",
        "township_label": "示例镇人民政府",
        "remedy": remedy_text(pack) if states_remedy(kind, reason) else "",
        "income_notes": [],
        "single_person": "",
        "proxy": None,
    }


def test_art38_a_stop_and_a_reduction_state_review_and_suit_an_increase_does_not() -> None:
    for change in ("stop", "decrease", "suspend"):
        text = render_notice(
            TEMPLATES,
            NoticeKind.PAYMENT_CHANGE,
            context(NoticeKind.PAYMENT_CHANGE, change, MCA_2021),
        )
        assert "60日内向县（市、区）人民政府申请行政复议" in text
        assert "6个月内向有管辖权的人民法院提起行政诉讼" in text
    text = render_notice(
        TEMPLATES,
        NoticeKind.PAYMENT_CHANGE,
        context(NoticeKind.PAYMENT_CHANGE, "increase", MCA_2021),
    )
    assert "行政复议" not in text


def test_art38_a_termination_states_the_packs_own_body_and_period() -> None:
    pack = replace(SEED_DEFAULT, review_body="示例市人民政府", review_days=90)
    text = render_notice(
        TEMPLATES, NoticeKind.TERMINATION, context(NoticeKind.TERMINATION, "拒不配合调查", pack)
    )
    assert "90日内向示例市人民政府申请行政复议" in text
