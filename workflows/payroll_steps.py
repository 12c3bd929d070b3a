"""The activities the payroll workflow calls, as typed references (as workflows/case_steps.py
does for the case workflow): the name is written once and mypy checks the argument and result
types; tests/workflows/test_case_steps.py checks each against the registered activity."""

from __future__ import annotations

from temporalio import activity

from dibao.domain.payroll import (
    BuildPayroll,
    DiscardPayroll,
    PayrollDiscarded,
    PayrollRunRef,
    ReleasePayroll,
)
from workflows.case_steps import _stub


@activity.defn(name="build_payroll")
async def build_payroll(request: BuildPayroll) -> PayrollRunRef:
    _stub()


@activity.defn(name="release_payroll")
async def release_payroll(request: ReleasePayroll) -> PayrollRunRef:
    _stub()


@activity.defn(name="discard_payroll")
async def discard_payroll(request: DiscardPayroll) -> PayrollDiscarded:
    _stub()


STEPS = (build_payroll, release_payroll, discard_payroll)
