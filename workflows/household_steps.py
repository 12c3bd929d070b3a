"""The activities of family changes (workflows/case_household.py), as typed references (see
workflows/case_steps.py; tests/workflows/test_case_steps.py checks them)."""

from __future__ import annotations

from typing import NoReturn

from temporalio import activity

from dibao.domain.household_change import HouseholdRecorded, RecordHousehold


def _stub() -> NoReturn:
    raise NotImplementedError("a reference to the worker's activity; it runs in activities/")


@activity.defn(name="record_household")
async def record_household(request: RecordHousehold) -> HouseholdRecorded:
    _stub()


STEPS = (record_household,)
