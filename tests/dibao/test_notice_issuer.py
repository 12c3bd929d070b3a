"""Notices name the office that issues them: the township's government, and for the county's
decisions (approval, refusal) the county's civil affairs bureau."""

from __future__ import annotations

from datetime import UTC, datetime

from dibao.db.regions_repo import county_office, township_office
from dibao.domain.enums import NoticeKind
from dibao.notices.render import render_notice
from dibao.settings import Settings

NAMES = {"610423": "示例县", "610423100": "示例镇"}


def context() -> dict[str, object]:
    return {
        "case_id": "DB-0000000000AB",
        "head_name": "王秀英",
        "household_size": 3,
        "issued_at": datetime(2026, 12, 1, tzinfo=UTC),
        "filed_at": datetime(2026, 11, 1, tzinfo=UTC),
        "complaint_phone": "12345",
        "certificate_no": "610423-2026-0001",
        "monthly_amount": "1,000.00",
        "from_month": "2026-12",
        "reasons": ["家庭人均收入高于当地低保标准"],
        "decided_at": None,
        "notice_working_days": 3,
        "township_label": township_office(NAMES, "610423100"),
        "county_label": county_office(NAMES, "610423"),
        "remedy": "",
        "income_notes": [],
        "single_person": "",
        "approval_delegated": False,
    }


def test_approval_and_refusal_are_issued_by_the_county_bureau() -> None:
    templates = Settings(_env_file=None).templates_dir
    for kind in (NoticeKind.APPROVAL, NoticeKind.REFUSAL):
        html = render_notice(templates, kind, context())
        assert '<p class="signature">示例县民政局<br>' in html, kind


def test_a_place_without_a_name_is_named_by_its_code() -> None:
    assert township_office({}, "610499100") == "乡镇人民政府（街道办事处）（区划代码 610499100）"
    assert township_office(NAMES, "610423100") == "示例镇人民政府"
