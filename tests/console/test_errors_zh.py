"""The console's Chinese wording of the API's errors, and form fields to request bodies."""

from __future__ import annotations

from pydantic import ValidationError

from api.schemas import ApplicationIn
from console.errors_zh import message_zh, pydantic_zh
from console.formdata import parse


def test_domain_and_workflow_messages_read_in_chinese() -> None:
    assert message_zh("check digit, birth date or region code is wrong (GB 11643)").startswith(
        "身份证号校验位"
    )
    assert message_zh("same ID number as members[0]") == "与第1位成员的身份证号相同"
    assert (
        message_zh("this action belongs to stage 'survey'; the case is at stage 'evaluation'")
        == "该操作属于“入户调查”环节，案件目前在“民主评议”环节"
    )
    assert message_zh("a village_caseworker may not decide on approval; allowed: x") == (
        "您的角色（村（社区）经办人）不能办理此项"
    )
    assert (
        message_zh(
            "required because the assessment found the household ineligible and the amount "
            "differs from the computed 727.50 元"
        )
        == "测算结果为不符合条件、金额与测算的 727.50 元不同，须写明调整理由"
    )
    assert message_zh("an ops may not decide on approval; allowed: county_approver") == (
        "您的角色（运维人员）不能办理此项"
    )
    assert (
        message_zh("the household is registered outside your jurisdiction (610423100202)")
        == "该户不在您的辖区内"
    )
    # What no pattern knows is shown, not hidden.
    assert message_zh("something new") == "未被接受：something new"


def test_pydantic_errors_read_in_chinese() -> None:
    try:
        ApplicationIn.model_validate({"members": [], "hukou": {}, "area_type": "moon"})
    except ValidationError as err:
        messages = {".".join(map(str, e["loc"])): pydantic_zh(e) for e in err.errors()}
    assert messages["members"] == "至少 1 项"
    assert messages["area_type"] == "请从列表中选择"
    assert messages["hukou.county_code"] == "必填"


def test_blank_rows_are_dropped_and_errors_find_the_row_on_the_page() -> None:
    parsed = parse(
        [
            ("members.0.name", "甲"),
            ("members.1.name", ""),
            ("members.2.name", "乙"),
            ("materials", "id_cards"),
            ("materials", "household_register"),
            ("csrf", "x"),
        ],
        multi=frozenset({"materials"}),
    )
    assert parsed.body == {
        "members": [{"name": "甲"}, {"name": "乙"}],
        "materials": ["id_cards", "household_register"],
    }
    assert parsed.page_name(("members", 1, "id_number")) == "members.2.id_number"
