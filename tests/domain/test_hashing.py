"""Canonical payload hashes: the audit log proves what was submitted by its SHA-256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from dibao.domain.application import Member
from dibao.domain.enums import Material, Relation, Role
from dibao.domain.hashing import canonical_json, payload_sha256
from dibao.messages.case import Actor, Withdraw
from tests.domain.factories import HEAD_ID, SON_ID, application


def test_hash_is_sha256_hex_of_the_canonical_json() -> None:
    payload = {"b": 1, "a": "低保"}
    digest = payload_sha256(payload)
    assert len(digest) == 64
    assert digest == hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def test_canonical_json_sorts_keys_compacts_and_keeps_chinese_readable() -> None:
    assert canonical_json({"b": 1, "a": "王秀英"}) == '{"a":"王秀英","b":1}'


def test_same_payload_in_a_different_key_order_hashes_the_same() -> None:
    first = {
        "members": [{"name": "王秀英", "id_number": HEAD_ID, "relation": "head"}],
        "hukou": {"province_code": "61", "county_code": "610423"},
        "area_type": "rural",
    }
    second = {
        "area_type": "rural",
        "hukou": {"county_code": "610423", "province_code": "61"},
        "members": [{"relation": "head", "id_number": HEAD_ID, "name": "王秀英"}],
    }
    assert payload_sha256(first) == payload_sha256(second)


def test_changed_value_changes_the_hash() -> None:
    payload = {"deposits": "3000.00", "homes": 1}
    changed = {"deposits": "3000.01", "homes": 1}
    assert payload_sha256(payload) != payload_sha256(changed)


def test_changed_nested_value_changes_the_hash() -> None:
    app = application()
    son = app.members[1]
    other = replace(
        app, members=(app.members[0], replace(son, disability_grade=2), *app.members[2:])
    )
    assert payload_sha256(app) != payload_sha256(other)


def test_list_order_is_significant() -> None:
    assert payload_sha256({"m": [1, 2]}) != payload_sha256({"m": [2, 1]})


def test_dataclass_is_hashed_by_its_field_values() -> None:
    member = Member(name="王秀英", id_number=HEAD_ID, relation=Relation.HEAD)
    as_dict = {
        "name": "王秀英",
        "id_number": HEAD_ID,
        "relation": "head",
        "disability_grade": None,
        "major_illness": False,
        "chronic_illness": False,
        "able_to_work": False,
        "disability_kind": None,
        "hukou_county_code": "",
        "lives_at_hukou": True,
    }
    assert payload_sha256(member) == payload_sha256(as_dict)


def test_equal_dataclasses_built_separately_hash_the_same() -> None:
    assert payload_sha256(application()) == payload_sha256(application())


def test_enum_is_hashed_by_its_value() -> None:
    assert canonical_json(Relation.HEAD) == '"head"'
    assert payload_sha256({"relation": Relation.HEAD}) == payload_sha256({"relation": "head"})
    assert payload_sha256(Relation.HEAD) != payload_sha256(Relation.SPOUSE)


def test_tuple_and_list_hash_the_same() -> None:
    assert payload_sha256((1, "a")) == payload_sha256([1, "a"])


def test_set_is_hashed_independently_of_iteration_order() -> None:
    one = frozenset({Material.ID_CARDS, Material.APPLICATION_FORM, Material.MEDICAL_RECORDS})
    other = frozenset({Material.MEDICAL_RECORDS, Material.APPLICATION_FORM, Material.ID_CARDS})
    assert payload_sha256(one) == payload_sha256(other)
    assert json.loads(canonical_json(one)) == ["application_form", "id_cards", "medical_records"]


def test_nested_application_canonical_json_is_plain_values() -> None:
    decoded = json.loads(canonical_json(application()))
    assert decoded["area_type"] == "rural"
    assert decoded["members"][1]["id_number"] == SON_ID
    assert decoded["members"][1]["relation"] == "child"
    assert decoded["incomes"][0] == {"category": "wages", "monthly_fen": 80_000}
    assert decoded["hukou"]["village_code"] == "610423100201"


def test_withdrawal_request_hash_depends_on_the_reason() -> None:
    actor = Actor(id="u1", role=Role.VILLAGE_CASEWORKER)
    a = Withdraw(request_id="r1", actor=actor, reason="家庭收入已超标")
    b = Withdraw(request_id="r1", actor=actor, reason="申请人自愿撤回")
    assert payload_sha256(a) != payload_sha256(b)
    assert payload_sha256(a) == payload_sha256(replace(b, reason="家庭收入已超标"))
