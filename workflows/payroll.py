"""PayrollWorkflow: one county's payroll for one period (花名册 and bank file), maker and checker.

Workflow ID `payroll-{county}-{period}`. It builds the run (activity `build_payroll`, which
returns the stored run if there is one), then waits for a `release` update from a checker
(审核人) who is not the maker (制表人), and releases it (activity `release_payroll`).

Started by the county's Temporal Schedule (cli.payroll_schedule) the input has no period:
a schedule's action is fixed when the schedule is written, so the workflow works the period
out from the time the schedule fired, in China time, and starts `payroll-{county}-{period}`
as an abandoned child to do the work. A run started by hand (API) for the same period and
this one are then the same workflow, and the scheduled one ends.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from dibao.domain.calendar import china_date
    from dibao.domain.payroll import (
        CHECKER_ROLES,
        BuildPayroll,
        Cadence,
        DiscardPayroll,
        DiscardRun,
        PayrollInput,
        PayrollResult,
        PayrollRunRef,
        PayrollView,
        ReleasePayroll,
        ReleaseRun,
        RunStatus,
        period_for,
        validate_county,
        validate_period,
        workflow_id_for,
    )
    from dibao.messages.case import Actor, Rejection
    from workflows import payroll_policies as policies
    from workflows import payroll_steps

# Set by the server on workflows a schedule starts: the time the action was due, which a
# catch-up after an outage may start later (even in the next month).
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def _reject(kind: Rejection, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


@workflow.defn
class PayrollWorkflow:
    @workflow.init
    def __init__(self, request: PayrollInput) -> None:
        self._input = request
        self._period = request.period
        self._run: PayrollRunRef | None = None
        self._release: ReleaseRun | None = None
        self._discard: DiscardRun | None = None
        self._discarded = False
        self._delegated_to = ""

    @workflow.run
    async def run(self, request: PayrollInput) -> PayrollResult:
        problem = validate_county(request.county_code)
        if problem is None and request.period:
            problem = validate_period(request.period)
        if problem is not None:
            raise _reject(Rejection.INVALID, problem)
        if not request.period:
            return await self._delegate(request)
        run: PayrollRunRef = await workflow.execute_activity(
            payroll_steps.build_payroll,
            BuildPayroll(
                county_code=request.county_code,
                period=request.period,
                maker=request.requested_by.id,
                built_at=workflow.now(),
            ),
            start_to_close_timeout=policies.BUILD_TIMEOUT,
            retry_policy=policies.BUILD_RETRY,
            heartbeat_timeout=policies.BUILD_HEARTBEAT_TIMEOUT,
        )
        self._run = run
        if run.status is RunStatus.DRAFT:
            # Review of the roster takes days (5 working days, DOMAIN.md step 8); the workflow
            # waits as long as it takes, visible as this run's `waiting_for`.
            await workflow.wait_condition(
                lambda: self._release is not None or self._discard is not None
            )
            if self._discard is not None:
                return await self._discard_run(run)
            assert self._release is not None
            self._run = await workflow.execute_activity(
                payroll_steps.release_payroll,
                ReleasePayroll(
                    run_id=run.run_id,
                    checker=self._release.checker.id,
                    released_at=workflow.now(),
                ),
                start_to_close_timeout=policies.RELEASE_TIMEOUT,
                retry_policy=policies.RELEASE_RETRY,
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PayrollResult(
            run_id=self._run.run_id, period=self._run.period, status=self._run.status.value
        )

    async def _discard_run(self, run: PayrollRunRef) -> PayrollResult:
        assert self._discard is not None
        await workflow.execute_activity(
            payroll_steps.discard_payroll,
            DiscardPayroll(
                run_id=run.run_id,
                discarded_by=self._discard.actor.id,
                reason=self._discard.reason,
                discarded_at=workflow.now(),
            ),
            start_to_close_timeout=policies.RELEASE_TIMEOUT,
            retry_policy=policies.RELEASE_RETRY,
        )
        self._discarded = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PayrollResult(run_id=run.run_id, period=run.period, status="discarded")

    async def _delegate(self, request: PayrollInput) -> PayrollResult:
        fired_at: datetime = (
            workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        )
        self._period = period_for(china_date(fired_at), Cadence(request.cadence))
        child_id = workflow_id_for(request.county_code, self._period)
        # Started by hand already: that workflow does the period's work.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                PayrollWorkflow.run,
                replace(request, period=self._period),
                id=child_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        self._delegated_to = child_id
        return PayrollResult(run_id="", period=self._period, status="delegated")

    @workflow.query
    def state(self) -> PayrollView:
        if self._delegated_to:
            status = "delegated"
        elif self._discarded:
            status = "discarded"
        elif self._run is None:
            status = "building"
        else:
            status = self._run.status.value
        waiting = {
            "building": "生成花名册 (system: building the roster)",
            RunStatus.DRAFT.value: "审核发放 (county approver: check and release the roster)",
        }.get(status, "")
        if status == RunStatus.DRAFT.value and self._release is not None:
            waiting = "发放中 (system: releasing)"
        if status == RunStatus.DRAFT.value and self._discard is not None:
            waiting = "作废中 (system: discarding the draft)"
        return PayrollView(
            county_code=self._input.county_code,
            period=self._period,
            status=status,
            run=self._run,
            delegated_to=self._delegated_to,
            waiting_for=waiting,
        )

    @workflow.update
    async def release(self, request: ReleaseRun) -> PayrollView:
        if self._release is None:
            self._release = request
        # Answer once the run is released, so the caller sees the released run.
        await workflow.wait_condition(
            lambda: self._run is not None and self._run.status is RunStatus.RELEASED
        )
        return self.state()

    @release.validator
    def _validate_release(self, request: ReleaseRun) -> None:
        if self._release is not None and self._release.request_id == request.request_id:
            return  # the same request again: answered without a second effect
        run = self._built_run()
        if self._discard is not None:
            raise _reject(Rejection.WRONG_STAGE, f"payroll run {run.run_id} is being discarded")
        if run.status is RunStatus.RELEASED or self._release is not None:
            checker = run.checker or (self._release.checker.id if self._release else "")
            raise _reject(
                Rejection.WRONG_STAGE, f"payroll run {run.run_id} is already released by {checker}"
            )
        if not request.checker.id.strip():
            raise _reject(Rejection.INVALID, "checker: name who checked the roster")
        if request.checker.id == run.maker:
            raise _reject(
                Rejection.RECUSED,
                f"{run.maker} prepared this roster (制表人) and may not also check it (审核人)",
            )
        _require_checker_role(request.checker, "release")

    @workflow.update
    async def discard(self, request: DiscardRun) -> PayrollView:
        if self._discard is None:
            self._discard = request
        await workflow.wait_condition(lambda: self._discarded)
        return self.state()

    @discard.validator
    def _validate_discard(self, request: DiscardRun) -> None:
        if self._discard is not None and self._discard.request_id == request.request_id:
            return  # the same request again: answered without a second effect
        run = self._built_run()
        if run.status is RunStatus.RELEASED or self._release is not None:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"payroll run {run.run_id} is released (or being released): it was paid; "
                "a correction is a payment change, paid or recovered in the next period",
            )
        if self._discard is not None:
            raise _reject(Rejection.WRONG_STAGE, f"payroll run {run.run_id} is being discarded")
        _require_checker_role(request.actor, "discard")
        if not request.reason.strip():
            raise _reject(Rejection.INVALID, "reason: say why the draft is discarded")

    def _built_run(self) -> PayrollRunRef:
        """The run a release or discard acts on; refused while there is none."""
        if self._delegated_to:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"this scheduled start handed the period to workflow {self._delegated_to}",
            )
        if self._run is None:
            raise _reject(Rejection.WRONG_STAGE, "the roster is still being built")
        return self._run


def _require_checker_role(actor: Actor, what: str) -> None:
    if actor.role not in CHECKER_ROLES:
        allowed = ", ".join(sorted(r.value for r in CHECKER_ROLES))
        raise _reject(
            Rejection.RECUSED, f"a {actor.role.value} may not {what} a payroll; allowed: {allowed}"
        )
