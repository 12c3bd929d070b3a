"""StandardChangeWorkflow: a county's new standard from a month, applied to every recipient.

The new standard is first recorded as the county's dated data (county_standards), so every
assessment from that month on (new applications, re-reviews) uses it. Then each case
recomputes its own amount (差额 or 分档 on its last assessed income) and emits its payment
change with notice and posting; this workflow only reaches every case and counts.

A county has tens of thousands of recipients and a province millions: the batch reads its
cases a page at a time by key (case_id after the last one reached), keeps `concurrency` cases
in flight (a rolling window, so one slow case holds up one slot, not a whole batch), and
continues as new every `cases_per_run` cases carrying its progress, so neither its history nor
any payload grows with the county.
"""

from __future__ import annotations

import asyncio
import dataclasses

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain.standards import RecordCountyStandards
    from dibao.messages.case import (
        ApplyStandard,
        ApplyStandardToCase,
        BatchProgress,
        ListReceiving,
        ReceivingCases,
        ReceivingCount,
        ReceivingPage,
        SkippedCount,
        SkipReason,
        StandardApplied,
        StandardChangeInput,
        StandardChangeProgress,
    )
    from workflows import policies, standard_change_steps

# Skipped cases named one by one in the progress; beyond these only counted by reason.
SKIPPED_SHOWN = 100


@workflow.defn
class StandardChangeWorkflow:
    @workflow.init
    def __init__(self, request: StandardChangeInput) -> None:
        self._request = request
        carried = request.carried
        self._after = carried.after_case_id if carried else ""
        self._total = carried.total if carried else 0
        self._applied = carried.applied if carried else 0
        self._skipped: list[str] = list(carried.skipped) if carried else []
        self._skipped_count = carried.skipped_count if carried else 0
        self._by_reason: dict[SkipReason, int] = (
            {s.reason: s.count for s in carried.skipped_by_reason} if carried else {}
        )
        self._runs = carried.runs + 1 if carried else 1
        self._in_flight = 0
        self._finished = False

    @workflow.run
    async def run(self, request: StandardChangeInput) -> StandardChangeProgress:
        if request.carried is None:
            await self._record_standards(request)
            count: ReceivingCount = await workflow.execute_activity(
                standard_change_steps.count_receiving_cases,
                ListReceiving(county_code=request.county_code),
                start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
                retry_policy=policies.DB_RETRY,
            )
            self._total = count.total
        window = asyncio.Semaphore(max(1, request.concurrency))
        in_flight: set[asyncio.Task[None]] = set()
        reached = 0
        exhausted = False
        while reached < request.cases_per_run:
            limit = min(max(1, request.page_size), request.cases_per_run - reached)
            page: ReceivingCases = await workflow.execute_activity(
                standard_change_steps.receiving_case_page,
                ReceivingPage(county_code=request.county_code, after=self._after, limit=limit),
                start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
                retry_policy=policies.DB_RETRY,
            )
            for case_id in page.case_ids:
                # A slot frees as soon as any case in flight is done.
                await window.acquire()
                task = asyncio.create_task(self._apply_in_window(window, case_id))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            reached += len(page.case_ids)
            if page.case_ids:
                self._after = page.case_ids[-1]
            if len(page.case_ids) < limit:
                exhausted = True
                break
        # Every case up to `after` is done before the next run starts after it: none is
        # reached twice, none skipped over.
        await asyncio.gather(*in_flight)
        if not exhausted:
            workflow.continue_as_new(dataclasses.replace(request, carried=self._carry()))
        self._finished = True
        return self.progress()

    async def _record_standards(self, request: StandardChangeInput) -> None:
        await workflow.execute_activity(
            standard_change_steps.record_county_standards,
            RecordCountyStandards(
                batch_id=request.batch_id,
                county_code=request.county_code,
                urban_standard_fen_month=request.urban_standard_fen_month,
                rural_standard_fen_year=request.rural_standard_fen_year,
                effective_month=request.effective_month,
                recorded_by=request.requested_by.id,
            ),
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )

    async def _apply_in_window(self, window: asyncio.Semaphore, case_id: str) -> None:
        self._in_flight += 1
        try:
            await self._apply(case_id)
        finally:
            self._in_flight -= 1
            window.release()

    async def _apply(self, case_id: str) -> None:
        request = self._request
        result: StandardApplied = await workflow.execute_activity(
            standard_change_steps.apply_standard_to_case,
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
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
            heartbeat_timeout=policies.HEARTBEAT_TIMEOUT,
        )
        if result.skipped:
            self._skipped_count += 1
            reason = result.reason or SkipReason.OTHER
            self._by_reason[reason] = self._by_reason.get(reason, 0) + 1
            if len(self._skipped) < SKIPPED_SHOWN:
                self._skipped.append(f"{case_id}: {result.skipped}")
        else:
            self._applied += 1

    def _carry(self) -> BatchProgress:
        return BatchProgress(
            after_case_id=self._after,
            total=self._total,
            applied=self._applied,
            skipped_count=self._skipped_count,
            skipped_by_reason=self._reasons(),
            skipped=tuple(self._skipped),
            runs=self._runs,
        )

    def _reasons(self) -> tuple[SkippedCount, ...]:
        return tuple(
            SkippedCount(reason=reason, count=count)
            for reason, count in sorted(self._by_reason.items())
        )

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
            skipped_count=self._skipped_count,
            skipped_by_reason=self._reasons(),
            runs=self._runs,
            in_flight=self._in_flight,
        )
