"""The county user administrator's rules: which roles it gives, where, and whose accounts it
manages."""

from __future__ import annotations

import pytest

from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.enums import Role
from dibao.messages.case import Actor

ADMIN = Actor(id="gao.lei", role=Role.USER_ADMIN, jurisdiction="610423")


@pytest.mark.parametrize(
    ("role", "place"),
    [
        ("village_caseworker", "610423100201"),
        ("township_caseworker", "610423100"),
        ("county_approver", "610423"),
        ("supervisor", "610423101"),
        ("auditor", "610423"),
    ],
)
def test_an_admin_gives_the_county_s_case_work_supervision_and_audit(role: str, place: str) -> None:
    assert access.user_admin_denial(ADMIN, role, place) is None


@pytest.mark.parametrize("role", ["ops", "user_admin", "system", ""])
def test_an_admin_gives_no_role_above_those(role: str) -> None:
    refused = access.user_admin_denial(ADMIN, role, "610423")
    assert refused and "is not one a user administrator gives" in refused


def test_an_admin_works_in_its_own_county_only() -> None:
    refused = access.user_admin_denial(ADMIN, "village_caseworker", "610424100201")
    assert refused == "610424100201 is outside your county (610423)"


def test_only_the_admin_role_manages_users_and_never_its_own_account() -> None:
    approver = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")
    assert access.user_admin_denial(approver, "village_caseworker", "610423100201")
    assert access.role_denial(Action.MANAGE_USERS, Role.OPS)
    own = access.managed_user_denial(ADMIN, "gao.lei", "user_admin", "610423")
    assert own and "your own account" in own


def test_a_user_admin_account_works_in_a_county() -> None:
    assert access.user_problems("gao.lei", "user_admin", "610423") == []
    assert access.user_problems("gao.lei", "user_admin", "610423100")[0][0] == "jurisdiction"
    # A user administrator does no case work: it reads no household.
    assert access.role_denial(Action.READ_CASE, Role.USER_ADMIN)
