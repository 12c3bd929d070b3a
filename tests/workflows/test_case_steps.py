"""The case workflow's typed activity references match the activities the worker registers:
same name, same argument type, same result type. A drifted signature fails here, not in a
running case."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from temporalio import activity

from activities.case_activities import CaseActivities
from activities.household_activities import HouseholdActivities
from activities.ledger_activities import LedgerImportActivities
from activities.ops_activities import OpsActivities
from activities.payroll_activities import PayrollActivities
from activities.procedure_activities import ProcedureActivities
from activities.standard_change_activities import StandardChangeActivities
from activities.verification.activity import VerificationActivities
from workflows import (
    case_steps,
    household_steps,
    ledger_import_steps,
    payroll_steps,
    standard_change_steps,
)

CLASSES = (
    CaseActivities,
    HouseholdActivities,
    LedgerImportActivities,
    OpsActivities,
    PayrollActivities,
    ProcedureActivities,
    StandardChangeActivities,
    VerificationActivities,
)


def definition(fn: Any) -> activity._Definition:
    found = activity._Definition.from_callable(fn)
    assert found is not None
    return found


def registered() -> dict[str, Any]:
    by_name: dict[str, Any] = {}
    for cls in CLASSES:
        for value in vars(cls).values():
            if callable(value) and activity._Definition.from_callable(value):
                by_name[str(definition(value).name)] = value
    return by_name


def signature(fn: Any) -> tuple[Any, Any]:
    hints = typing.get_type_hints(fn)
    result = hints.pop("return")
    (argument,) = (v for k, v in hints.items() if k != "self")
    return argument, result


STEPS = (
    *case_steps.STEPS,
    *household_steps.STEPS,
    *ledger_import_steps.STEPS,
    *payroll_steps.STEPS,
    *standard_change_steps.STEPS,
)


@pytest.mark.parametrize("step", STEPS, ids=[s.__name__ for s in STEPS])
def test_each_step_is_the_registered_activity_of_its_name(step: Any) -> None:
    name = str(definition(step).name)
    assert name == step.__name__
    real = registered()[name]
    assert signature(step) == signature(real)
