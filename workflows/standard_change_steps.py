"""The activities the standard-change workflow calls, as typed references (as
workflows/case_steps.py does for the case workflow); tests/workflows/test_case_steps.py checks
each against the registered activity of its name."""

from __future__ import annotations

from temporalio import activity

from dibao.domain.standards import CountyStandardsRecorded, RecordCountyStandards
from dibao.messages.case import (
    ApplyStandardToCase,
    ListReceiving,
    ReceivingCases,
    ReceivingCount,
    ReceivingPage,
    StandardApplied,
)
from workflows.case_steps import _stub


@activity.defn(name="record_county_standards")
async def record_county_standards(request: RecordCountyStandards) -> CountyStandardsRecorded:
    _stub()


@activity.defn(name="count_receiving_cases")
async def count_receiving_cases(request: ListReceiving) -> ReceivingCount:
    _stub()


@activity.defn(name="receiving_case_page")
async def receiving_case_page(request: ReceivingPage) -> ReceivingCases:
    _stub()


@activity.defn(name="apply_standard_to_case")
async def apply_standard_to_case(request: ApplyStandardToCase) -> StandardApplied:
    _stub()


STEPS = (
    record_county_standards,
    count_receiving_cases,
    receiving_case_page,
    apply_standard_to_case,
)
