"""One key per action: an action on a case is its API path, its command, its workflow update,
its audit action and its role-table entry, all derived from the value of its `Action`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from temporalio import workflow

from api.routes import actions as action_routes
from api.routes import household as household_routes
from cli.main import case_app
from console import labels
from console.actions import CATALOGUE
from console.forms.specs import FORMS
from dibao.domain.access import ROLE_TABLE
from dibao.domain.actions import CASE_ACTIONS, OPS_CASE_ACTIONS, Action, case_path, command
from dibao.domain.enums import AuditAction
from dibao.domain.stages import stages_accepting
from workflows.case import CaseWorkflow

UPDATES = workflow._Definition.from_class(CaseWorkflow).updates  # type: ignore[union-attr]
# The updates that are no user's action on a case, each for its reason (dibao/domain/actions.py).
NOT_CASE_ACTIONS = {"apply_standard"}  # the county's standard change, sent by its batch


def update_name(update: Any) -> str:
    """The name a client sends when it calls the update by its method reference."""
    name: str = update._defn.name
    return name


def posted_paths() -> set[str]:
    routers = (action_routes.router, household_routes.router)
    return {
        route.path
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in (route.methods or set())
    }


@pytest.mark.parametrize("action", CASE_ACTIONS, ids=[a.value for a in CASE_ACTIONS])
def test_each_case_action_is_named_by_its_key_everywhere(action: Action) -> None:
    key = action.value
    # The API posts it at the key's path and sends the update registered under the key.
    assert case_path(key) == f"/cases/{{case_id}}/{key.replace('_', '-')}"
    assert case_path(key) in posted_paths()
    assert update_name(action_routes.SENDS[key]) == key
    assert key in UPDATES
    # The command line, the audit log and the role and stage tables name it the same.
    assert command(key) in {c.name for c in case_app.registered_commands}
    assert AuditAction(key).name == action.name
    assert action in ROLE_TABLE
    assert stages_accepting(action)
    assert key in labels.AUDIT


def test_every_action_posted_on_a_case_is_one_key() -> None:
    keys = {a.value for a in CASE_ACTIONS} | set(OPS_CASE_ACTIONS)
    assert posted_paths() == {case_path(k) for k in keys}
    assert set(action_routes.SENDS) == keys
    assert {update_name(u) for u in action_routes.SENDS.values()} == keys
    # and every update of the case workflow is one of them, or no user's action on a case.
    assert set(UPDATES) == keys | NOT_CASE_ACTIONS


def test_ops_actions_on_a_case_share_their_key() -> None:
    for key in OPS_CASE_ACTIONS:
        assert AuditAction(key).value == key
        assert key in labels.AUDIT


def test_the_console_offers_and_posts_each_action_under_its_key() -> None:
    assert [a for a, *_ in CATALOGUE] == [a for a in CASE_ACTIONS]
    assert set(FORMS) == {command(a) for a in CASE_ACTIONS}
    for key, form in FORMS.items():
        assert form.key == key == command(form.action)
        assert update_name(form.update) == form.action.value
