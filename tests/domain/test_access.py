"""The pure authorisation rules: role table, jurisdictions, recusal, user checks."""

from __future__ import annotations

import pytest

from dibao.domain import access
from dibao.domain.access import ROLE_TABLE, Action, CasePlace, ListScope
from dibao.domain.enums import Role
from dibao.messages.case import Actor

V, T, C = Role.VILLAGE_CASEWORKER, Role.TOWNSHIP_CASEWORKER, Role.COUNTY_APPROVER
S, A, O = Role.SUPERVISOR, Role.AUDITOR, Role.OPS  # noqa: E741 - one letter per role

CASE = CasePlace("610423", "610423100", "610423100201", recused_staff=("zhao.min",))


def actor(role: Role, jurisdiction: str, user_id: str = "someone") -> Actor:
    return Actor(id=user_id, role=role, jurisdiction=jurisdiction)


def test_every_action_has_a_role_entry_and_a_label() -> None:
    assert set(ROLE_TABLE) == set(Action) == set(access.LABELS)


def test_the_system_role_is_given_nothing() -> None:
    assert all(Role.SYSTEM not in roles for roles in ROLE_TABLE.values())


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        (Action.FILE_APPLICATION, {V, T}),
        (Action.MATERIALS, {V, T}),
        (Action.SURVEY, {V, T, C}),
        (Action.EVALUATION, {V, T, C}),
        (Action.TOWNSHIP_REVIEW, {T, C}),
        (Action.TERMINATE, {T, C}),
        (Action.COUNTY_VISIT, {C}),
        (Action.COUNTY_DECISION, {C}),
        (Action.BUILD_PAYROLL, {T, C}),
        (Action.RELEASE_PAYROLL, {C}),
        (Action.CHANGE_STANDARD, {C}),
        (Action.ASSIGN_RULE_PACK, {C}),
        (Action.READ_CASE, {V, T, C, S, A, O}),
        (Action.READ_AUDIT, {C, S, A}),
        (Action.OPERATE, {O}),
    ],
)
def test_role_table(action: Action, allowed: set[Role]) -> None:
    for role in (V, T, C, S, A, O):
        refused = access.role_denial(action, role)
        assert (refused is None) is (role in allowed), (action, role)


def test_supervisors_and_auditors_only_read() -> None:
    reads = {a for a in Action if a.value.startswith("read_")} | {Action.SUPERVISE}
    for role in (S, A):
        writes = {a for a in Action if a not in reads and access.role_denial(a, role) is None}
        assert writes == {Action.REGISTER_RELATIVE}  # their own relatives, like everyone
        supervisor = actor(role, "610423", "wang.jian")
        assert access.relative_denial(supervisor, Action.REGISTER_RELATIVE, "zhang.wei")


def test_refusal_names_the_role_and_who_may() -> None:
    assert access.role_denial(Action.COUNTY_DECISION, V) == (
        "a village_caseworker may not decide on approval; allowed: county_approver"
    )
    assert access.role_denial(Action.RELEASE_PAYROLL, A) == (
        "an auditor may not release a payroll; allowed: county_approver"
    )


@pytest.mark.parametrize(
    ("jurisdiction", "inside"),
    [
        ("610423", True),  # the county
        ("610423100", True),  # the township
        ("610423100201", True),  # the village
        ("610423100202", False),  # another village of the township
        ("610423101", False),  # another township of the county
        ("610424", False),  # another county
        ("6104231", False),  # not a jurisdiction code
        ("", False),
    ],
)
def test_a_case_is_seen_from_its_own_village_township_and_county(
    jurisdiction: str, inside: bool
) -> None:
    refused = access.place_denial(jurisdiction, "610423", "610423100", "610423100201")
    assert (refused is None) is inside


def test_case_denial_checks_role_then_jurisdiction_then_recusal() -> None:
    assert access.case_denial(actor(C, "610423"), Action.COUNTY_DECISION, CASE) is None
    role = access.case_denial(actor(V, "610424100201"), Action.COUNTY_DECISION, CASE)
    assert role is not None and "may not decide" in role
    place = access.case_denial(actor(C, "610424"), Action.COUNTY_DECISION, CASE)
    assert place is not None and "outside your jurisdiction" in place
    recused = access.case_denial(actor(V, "610423100201", "zhao.min"), Action.READ_CASE, CASE)
    assert recused is not None and "near relative" in recused
    assert access.case_denial(actor(V, "610423100201", "zhang.wei"), Action.READ_CASE, CASE) is None


def test_recusal_is_by_exact_user_id() -> None:
    assert access.recusal_denial("zhao.mi", ("zhao.min",)) is None
    assert access.recusal_denial("zhao.min", ("li.na", "zhao.min")) is not None
    assert CasePlace.parse_recused(None) == ()
    assert CasePlace.parse_recused("li.na,zhao.min") == ("li.na", "zhao.min")


@pytest.mark.parametrize(
    ("jurisdiction", "county", "allowed"),
    [
        ("610423", "610423", True),
        ("610423100", "610423", True),  # a township works inside its county
        ("610423100201", "610423", True),
        ("610424", "610423", False),
        ("", "610423", False),
    ],
)
def test_county_business_belongs_to_users_inside_the_county(
    jurisdiction: str, county: str, allowed: bool
) -> None:
    assert (access.county_denial(jurisdiction, county) is None) is allowed


def test_county_action_needs_role_and_county() -> None:
    assert access.county_action_denial(actor(C, "610423"), Action.RELEASE_PAYROLL, "610423") is None
    assert access.county_action_denial(actor(T, "610423100"), Action.RELEASE_PAYROLL, "610423")
    assert access.county_action_denial(actor(C, "610424"), Action.RELEASE_PAYROLL, "610423")


def test_listing_is_narrowed_to_the_jurisdiction() -> None:
    assert access.list_scope("610423100", None, None, None) == ListScope(None, "610423100", None)
    # A broader filter is narrowed; a narrower one inside is kept.
    assert access.list_scope("610423100", "610423", None, None) == ListScope(
        "610423", "610423100", None
    )
    assert access.list_scope("610423", None, None, "610423100201") == ListScope(
        "610423", None, "610423100201"
    )
    assert access.list_scope("610423100201", None, "610423100", None) == ListScope(
        None, "610423100", "610423100201"
    )


@pytest.mark.parametrize(
    ("county", "township", "village"),
    [("610424", None, None), (None, "610423101", None), (None, None, "610423100202")],
)
def test_listing_another_place_is_refused(
    county: str | None, township: str | None, village: str | None
) -> None:
    refused = access.list_scope("610423100201", county, township, village)
    assert isinstance(refused, str) and "outside your jurisdiction" in refused


def test_relatives_own_or_by_the_keepers() -> None:
    own = actor(V, "610423100201", "zhang.wei")
    assert access.relative_denial(own, Action.REGISTER_RELATIVE, "zhang.wei") is None
    assert access.relative_denial(own, Action.REGISTER_RELATIVE, "zhao.min") is not None
    assert access.relative_denial(own, Action.READ_RELATIVES, "zhao.min") is not None
    township = actor(T, "610423100", "li.na")
    assert access.relative_denial(township, Action.REGISTER_RELATIVE, "zhang.wei") is None
    auditor = actor(A, "610423", "liu.yang")
    assert access.relative_denial(auditor, Action.READ_RELATIVES, "zhang.wei") is None
    assert access.relative_denial(auditor, Action.REGISTER_RELATIVE, "zhang.wei") is not None


def test_relatives_of_staff_working_elsewhere_are_not_kept_nor_read() -> None:
    township = actor(T, "610423100", "li.na")
    county_b = actor(C, "610424", "he.jun")
    # The staff member's own place decides, as the users table has it.
    assert access.relative_denial(township, Action.READ_RELATIVES, "x", "610423100201") is None
    refused = access.relative_denial(township, Action.READ_RELATIVES, "x", "610424100201")
    assert refused and "outside your jurisdiction (610423100)" in refused
    assert access.relative_denial(county_b, Action.REGISTER_RELATIVE, "chen.gang", "610423")
    # A township does not keep the registry of the county above it.
    assert access.relative_denial(township, Action.REGISTER_RELATIVE, "chen.gang", "610423")
    # Staff without an account: the registrant's county keeps their rows, and only it sees them.
    registry = access.registry_jurisdiction(township, "cadre.wang", None)
    assert registry == "610423"
    assert access.sees_registration(actor(C, "610423", "chen.gang"), "cadre.wang", registry)
    assert not access.sees_registration(county_b, "cadre.wang", registry)
    assert access.registry_jurisdiction(county_b, "chen.gang", "610423") == "610423"


@pytest.mark.parametrize(
    ("user_id", "role", "jurisdiction", "fields"),
    [
        ("zhang.wei", "village_caseworker", "610423100201", []),
        ("li.na", "township_caseworker", "610423100", []),
        ("chen.gang", "county_approver", "610423", []),
        ("wang.jian", "supervisor", "610423100", []),
        ("liu.yang", "auditor", "610423", []),
        ("ma.chao", "ops", "610423", []),
        ("Zhang Wei", "village_caseworker", "610423100201", ["user_id"]),
        ("x", "village_caseworker", "610423100201", ["user_id"]),
        ("zhang.wei", "system", "610423100201", ["role"]),
        ("zhang.wei", "mayor", "610423100201", ["role"]),
        ("zhang.wei", "village_caseworker", "61042310020", ["jurisdiction"]),
        ("zhang.wei", "village_caseworker", "610423100", ["jurisdiction"]),  # wrong level
        ("chen.gang", "county_approver", "610423100", ["jurisdiction"]),
        ("ma.chao", "ops", "610423100201", ["jurisdiction"]),
    ],
)
def test_user_problems(user_id: str, role: str, jurisdiction: str, fields: list[str]) -> None:
    assert [f for f, _ in access.user_problems(user_id, role, jurisdiction)] == fields


def test_password_rules() -> None:
    assert access.password_problem("correct horse") is None
    assert access.password_problem("short") is not None
    assert access.password_problem(" padded password ") is not None
