"""`@action_update(Action.X)`: a case workflow update registered under its action's key.

One key per action (dibao/domain/actions.py): the update a case action sends is named by the
action's key, whatever its method is called. temporalio's `workflow.update(name=...)` types an
async handler's result as the coroutine itself, so a client calling it by its method reference
would be typed as receiving a coroutine; this decorator keeps the result type `@workflow.update`
gives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from temporalio import workflow

from dibao.domain.actions import Action

P = ParamSpec("P")
R = TypeVar("R")


def action_update(
    action: Action,
) -> Callable[[Callable[P, Awaitable[R]]], workflow.UpdateMethodMultiParam[P, R]]:
    decorator: Any = workflow.update(name=action.value)
    return decorator  # type: ignore[no-any-return]
