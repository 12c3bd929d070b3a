"""StandardChangeWorkflow: a county's new standard from a month, applied to every recipient.

The new standard is first recorded as the county's dated data (county_standards), so every
assessment from that month on (new applications, re-reviews) uses it. Then each case
recomputes its own amount (差额 or 分档 on its last assessed income) and emits its payment
change with notice and posting; this workflow only reaches every case and counts.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain.case import (
        ApplyStandard,
        ApplyStandardToCase,
        ListReceiving,
        ReceivingCases,
        StandardApplied,
        StandardChangeInput,
        StandardChangeProgress,
    )
    from dibao.domain.standards import CountyStandardsRecorded, RecordCountyStandards
    from workflows import policies

# Cases updated at once: enough to finish a county of tens of thousands in hours, few enough
# not to swamp the workers that also serve caseworkers.
CONCURRENCY = 20


@workflow.defn
class StandardChangeWorkflow:
    @workflow.init
    def __init__(self, request: StandardChangeInput) -> None:
        self._request = request
        self._total = 0
        self._applied = 0
        self._skipped: list[str] = []
        self._finished = False

    @workflow.run
    async def run(self, request: StandardChangeInput) -> StandardChangeProgress:
        await workflow.execute_activity(
            "record_county_standards",
            RecordCountyStandards(
                batch_id=request.batch_id,
                county_code=request.county_code,
                urban_standard_fen_month=request.urban_standard_fen_month,
                rural_standard_fen_year=request.rural_standard_fen_year,
                effective_month=request.effective_month,
                recorded_by=request.requested_by.id,
            ),
            result_type=CountyStandardsRecorded,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )
        cases: ReceivingCases = await workflow.execute_activity(
            "list_receiving_cases",
            ListReceiving(county_code=request.county_code),
            result_type=ReceivingCases,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
            heartbeat_timeout=policies.HEARTBEAT_TIMEOUT,
        )
        self._total = len(cases.case_ids)
        for start in range(0, self._total, CONCURRENCY):
            chunk = cases.case_ids[start : start + CONCURRENCY]
            await asyncio.gather(*(self._apply(case_id) for case_id in chunk))
        self._finished = True
        return self.progress()

    async def _apply(self, case_id: str) -> None:
        request = self._request
        result: StandardApplied = await workflow.execute_activity(
            "apply_standard_to_case",
            ApplyStandardToCase(
                case_id=case_id,
                update=ApplyStandard(
                    request_id=request.batch_id,
                    actor=request.requested_by,
                    urban_standard_fen_month=request.urban_standard_fen_month,
                    rural_standard_fen_year=request.rural_standard_fen_year,
                    effective_month=request.effective_month,
                ),
            ),
            result_type=StandardApplied,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
            heartbeat_timeout=policies.HEARTBEAT_TIMEOUT,
        )
        if result.skipped:
            self._skipped.append(f"{case_id}: {result.skipped}")
        else:
            self._applied += 1

    @workflow.query
    def progress(self) -> StandardChangeProgress:
        return StandardChangeProgress(
            batch_id=self._request.batch_id,
            county_code=self._request.county_code,
            effective_month=self._request.effective_month,
            total=self._total,
            applied=self._applied,
            skipped=tuple(self._skipped),
            finished=self._finished,
        )
