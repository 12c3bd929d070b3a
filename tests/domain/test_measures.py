"""Issue 17, the rules beside the money: remedies, where one may apply, 渐退, a failed check
answered and delegated approval. Each test names the article or seed line it enforces."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from dibao.db.rulepacks_repo import InvalidRulePack, validate_params
from dibao.domain.application import Application, Proxy
from dibao.domain.enums import Material, NoticeKind, ProxyKind, Relation, Role
from dibao.domain.materials import required_materials
from dibao.domain.measures import (
    approving_role,
    evidence_period,
    gradual_exit_reminder_on,
    gradual_exit_reminder_text,
    notice_issuer,
    place_of_application_problems,
    proxy_label,
    remedy_text,
    states_remedy,
)
from dibao.domain.rulepacks import MCA_2021, SEED_DEFAULT
from tests.domain.factories import GRANDSON_ID, SON_ID, application, member

# --- Arts. 21, 38: remedies -------------------------------------------------------------------


def test_art38_refusals_terminations_reductions_stops_and_suspensions_state_remedies() -> None:
    assert states_remedy(NoticeKind.REFUSAL)
    assert states_remedy(NoticeKind.TERMINATION)
    for change in ("decrease", "stop", "suspend"):
        assert states_remedy(NoticeKind.PAYMENT_CHANGE, change)
    for change in ("increase", "resume", "unchanged"):
        assert not states_remedy(NoticeKind.PAYMENT_CHANGE, change)
    assert not states_remedy(NoticeKind.APPROVAL)


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
def test_art38_the_remedy_names_body_court_and_periods_from_the_pack(pack: Any) -> None:
    text = remedy_text(pack)
    assert "60日内向县（市、区）人民政府申请行政复议" in text
    assert "6个月内向有管辖权的人民法院提起行政诉讼" in text
    assert "第三十八条" in text
    local = replace(pack, review_days=90)
    assert "90日内向示例县人民政府申请行政复议" in remedy_text(local, "示例县")
    named = replace(pack, review_body="示例市民政局")
    assert "向示例市民政局申请行政复议" in remedy_text(named, "示例县")


def _publish(pack: Any, **changes: Any) -> list[str]:
    try:
        validate_params({**pack.to_params(), **changes})
    except InvalidRulePack as err:
        return err.errors
    return []


def test_law_review_and_suit_periods_may_not_be_shorter_than_the_laws() -> None:
    # 行政复议法 第二十条 (60 days), 行政诉讼法 第四十六条 (6 months).
    assert any("review_days" in e for e in _publish(MCA_2021, review_days=30))
    assert any("litigation_months" in e for e in _publish(MCA_2021, litigation_months=3))
    assert _publish(MCA_2021, review_days=90) == []


# --- 004 line 42, Art. 33: gradual exit ---------------------------------------------------------


@pytest.mark.parametrize("pack", [SEED_DEFAULT, MCA_2021], ids=lambda p: p.id)
def test_004_line42_gradual_exit_months_are_1_to_12_checked_at_publish(pack: Any) -> None:
    assert pack.gradual_exit_months == 3
    assert _publish(pack, gradual_exit_months=12) == []
    assert _publish(pack, gradual_exit_months=1) == []
    for months in (0, 13):
        assert any("gradual_exit_months" in e for e in _publish(pack, gradual_exit_months=months))


def test_art33_the_caseworker_is_reminded_30_days_before_the_gradual_exit_ends() -> None:
    assert gradual_exit_reminder_on("2027-04", SEED_DEFAULT) == date(2027, 3, 2)
    assert gradual_exit_reminder_on(
        "2027-04", replace(SEED_DEFAULT, gradual_exit_reminder_days=7)
    ) == (date(2027, 3, 25))
    text = gradual_exit_reminder_text("2027-04", SEED_DEFAULT)
    assert "渐退期（3个月）将于 2027-04 结束" in text


def test_art13_employment_cost_is_an_amount_or_a_share_not_both() -> None:
    errors = _publish(MCA_2021, employment_cost_fen_month=30_000)
    assert any("not both" in e for e in errors)
    assert _publish(SEED_DEFAULT, employment_cost_fen_month=30_000) == []
    assert any(
        "employment_cost_share" in e for e in _publish(SEED_DEFAULT, employment_cost_share=1.5)
    )


def test_art8_single_person_multiplier_is_at_least_1() -> None:
    assert any(
        "single_person_multiplier" in e for e in _publish(MCA_2021, single_person_multiplier=0.9)
    )


# --- Arts. 5, 6: where one may apply ---------------------------------------------------------


def test_art6_a_proxy_application_is_recorded_with_its_mandate_and_reason() -> None:
    proxy = Proxy(ProxyKind.VILLAGE_COMMITTEE, "示例村民委员会", "户主卧病在床")
    app = application(proxy=proxy)
    assert Material.PROXY_MANDATE in required_materials(app)
    assert place_of_application_problems(app, SEED_DEFAULT) == []
    assert "委托村（居）民委员会（示例村民委员会）代为申请" in proxy_label(app)
    unexplained = application(proxy=replace(proxy, reason=" "))
    (error,) = place_of_application_problems(unexplained, MCA_2021)
    assert error.path == ("proxy", "reason")
    assert proxy_label(application()) == ""


def _split_household(here_lives_at_hukou: bool, away_lives_at_hukou: bool) -> Application:
    return application(
        members=(
            member(lives_at_hukou=here_lives_at_hukou),
            member(
                "王建军",
                SON_ID,
                Relation.CHILD,
                hukou_county_code="110105",
                lives_at_hukou=away_lives_at_hukou,
            ),
            member("王小明", GRANDSON_ID, Relation.GRANDCHILD, lives_at_hukou=here_lives_at_hukou),
        )
    )


def test_art5_split_hukou_apply_where_a_members_hukou_and_residence_coincide() -> None:
    # Here a member's hukou and residence coincide: accepted here.
    assert place_of_application_problems(_split_household(True, True), MCA_2021) == []
    # Only the member registered elsewhere lives at his hukou: apply there.
    (error,) = place_of_application_problems(_split_household(False, True), MCA_2021)
    assert error.path == ("members", 1, "hukou_county_code")
    assert "110105" in error.message and "Art. 5" in error.message
    # Nobody's coincide: any member's hukou place will do.
    assert place_of_application_problems(_split_household(False, False), MCA_2021) == []


def test_art5_an_application_filed_where_no_member_is_registered_is_refused() -> None:
    app = application(
        members=tuple(replace(m, hukou_county_code="110105") for m in application().members)
    )
    (error,) = place_of_application_problems(app, SEED_DEFAULT)
    assert error.path == ("members",)


def test_art5_residence_permit_holders_apply_where_they_live_only_if_the_pack_allows() -> None:
    app = application(
        members=tuple(replace(m, hukou_county_code="110105") for m in application().members),
        residence_permit=True,
    )
    assert Material.RESIDENCE_PERMIT in required_materials(app)
    for pack in (SEED_DEFAULT, MCA_2021):
        (error,) = place_of_application_problems(app, pack)
        assert error.path == ("residence_permit",)
    allowed = replace(MCA_2021, residence_permit_applications=True)
    assert place_of_application_problems(app, allowed) == []


# --- Art. 18 (domain only): a failed check answered ------------------------------------------


def test_art18_the_family_is_told_what_was_found_and_the_last_day_for_evidence() -> None:
    told = date(2027, 3, 1)  # a Monday
    working = [
        told + timedelta(days=d) for d in range(1, 15) if (told + timedelta(days=d)).weekday() < 5
    ]
    period = evidence_period(told, working, ("银行存款 25,000.00 元",), MCA_2021)
    assert period.closes_on == date(2027, 3, 8)  # 5 working days
    assert "银行存款 25,000.00 元" in period.notice_text
    assert "2027年3月8日前（5个工作日内）" in period.notice_text
    assert "第十八条" in period.notice_text
    longer = evidence_period(told, working, (), replace(MCA_2021, evidence_working_days=10))
    assert longer.closes_on == date(2027, 3, 15)
    with pytest.raises(ValueError):
        evidence_period(told, working[:2], (), MCA_2021)


# --- Art. 2 (domain only): approval delegated to townships -----------------------------------


def test_art2_delegated_approval_moves_the_role_and_the_issuer_to_the_township() -> None:
    for pack in (SEED_DEFAULT, MCA_2021):
        assert approving_role(pack) is Role.COUNTY_APPROVER
        assert notice_issuer(pack, "示例县", "示例镇") == "示例县民政局"
    delegated = replace(MCA_2021, approval_delegated=True)
    assert approving_role(delegated) is Role.TOWNSHIP_CASEWORKER
    assert notice_issuer(delegated, "示例县", "示例镇") == "示例镇人民政府（街道办事处）"


def test_art13_a_rigid_cost_must_be_a_members_at_filing() -> None:
    from dibao.domain.application import RigidExpense, validate_application
    from dibao.domain.enums import RigidExpenseKind

    stranger = RigidExpense("110105194912310029", RigidExpenseKind.ILLNESS, 10_000)
    (error,) = validate_application(application(rigid_expenses=(stranger,)))
    assert error.path == ("rigid_expenses", 0, "member_id_number")
    own = replace(stranger, member_id_number=SON_ID)
    assert validate_application(application(rigid_expenses=(own,))) == []
