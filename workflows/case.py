"""CaseWorkflow: one 低保 case, from filing to approval or a reasoned refusal, and then the
household's years as a recipient.

The workflow composes its parts around one state object and holds Temporal's handlers, each a
short delegation: `CaseState` (workflows/case_state.py) is everything the case holds, carried
whole through continue-as-new; `SharedSteps` (workflows/case_shared.py) are the steps every
phase uses (stage changes, deadlines, notices, audit, the update helper, incidents); the phases
are `Procedure` (workflows/case_procedure.py: application and procedure), `RecipientPhase`
(workflows/case_recipient.py) and `HouseholdChange` (workflows/case_household.py).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.actions import Action
    from dibao.domain.household_change import ReportHouseholdChange
    from dibao.domain.measures import SubmitEvidence
    from dibao.messages.case import (
        ApplyStandard,
        CaseInput,
        CaseResult,
        CaseView,
        ChangePayee,
        CloseCase,
        ExtendDeadline,
        RaiseObjection,
        RecuseStaff,
        ReportCircumstance,
        ReportLabourAbsence,
        ReportReemployment,
        ReportSignIn,
        ReportWorkRefusal,
        RetryStep,
        SkipStep,
        SubmitCountyDecision,
        SubmitCountyVisit,
        SubmitEvaluation,
        SubmitSurvey,
        SubmitTownshipReview,
        SupplementMaterials,
        Terminate,
        Withdraw,
    )
    from workflows.action_updates import action_update
    from workflows.case_household import HouseholdChange
    from workflows.case_procedure import Procedure
    from workflows.case_recipient import RecipientPhase
    from workflows.case_shared import CaseClosing, SharedSteps
    from workflows.case_state import CaseState


@workflow.defn
class CaseWorkflow:
    """The case's main line, and Temporal's handlers (which must be on the class): each hands
    its message to the part it belongs to, with the same name, validator and signature."""

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self._state = CaseState(case)
        self._steps = SharedSteps(self._state)
        self._procedure = Procedure(self._state, self._steps)
        self._recipient = RecipientPhase(self._state, self._steps)
        self._household = HouseholdChange(self._state, self._steps)

    # --- main line -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        if case.carried is not None:
            # A new review cycle: the state was restored from the input when the run began.
            assert self._state.recipient is not None
            await self._recipient.run(self._state.recipient)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return CaseResult(case_id=case.case_id, status=self._state.status)
        if case.recipient is not None:
            try:
                await self._recipient.resume(case.recipient)
            except CaseClosing:  # ops closed the case at a step that could not go on
                await self._steps.close_on_request()
            await workflow.wait_condition(workflow.all_handlers_finished)
            return CaseResult(case_id=case.case_id, status=self._state.status)
        try:
            await self._procedure.file()
            if await self._procedure.run():
                await self._recipient.run(self._recipient.first_state())
        except CaseClosing:
            await self._steps.close_on_request()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(case_id=case.case_id, status=self._state.status)

    # --- the state query and recusal (SharedSteps) ---------------------------------------------

    @workflow.query
    def state(self) -> CaseView:
        return self._steps.view()

    @workflow.signal
    def recuse(self, notice: RecuseStaff) -> None:
        self._steps.recuse(notice)

    # --- the whole procedure's limit, and incidents (SharedSteps) ------------------------------

    @action_update(Action.EXTEND_DEADLINE)
    async def extend_deadline(self, request: ExtendDeadline) -> CaseView:
        return await self._steps.extend_deadline(request)

    @extend_deadline.validator
    def _validate_extend_deadline(self, request: ExtendDeadline) -> None:
        self._steps.validate_extend_deadline(request)

    @workflow.update
    async def retry_step(self, request: RetryStep) -> CaseView:
        return await self._steps.retry_step(request)

    @retry_step.validator
    def _validate_retry_step(self, request: RetryStep) -> None:
        self._steps.validate_retry_step(request)

    @workflow.update
    async def skip_step(self, request: SkipStep) -> CaseView:
        return await self._steps.skip_step(request)

    @skip_step.validator
    def _validate_skip_step(self, request: SkipStep) -> None:
        self._steps.validate_skip_step(request)

    @workflow.update
    async def close_case(self, request: CloseCase) -> CaseView:
        return await self._steps.close_case(request)

    @close_case.validator
    def _validate_close_case(self, request: CloseCase) -> None:
        self._steps.validate_close_case(request)

    # --- application and procedure (Procedure) ------------------------------------------------

    @action_update(Action.PAYEE)
    async def change_payee(self, request: ChangePayee) -> CaseView:
        return await self._procedure.change_payee(request)

    @change_payee.validator
    def _validate_change_payee(self, request: ChangePayee) -> None:
        self._procedure.validate_change_payee(request)

    @action_update(Action.MATERIALS)
    async def supplement_materials(self, request: SupplementMaterials) -> CaseView:
        return await self._procedure.supplement_materials(request)

    @supplement_materials.validator
    def _validate_supplement(self, request: SupplementMaterials) -> None:
        self._procedure.validate_supplement(request)

    @action_update(Action.WITHDRAW)
    async def withdraw(self, request: Withdraw) -> CaseView:
        return await self._procedure.withdraw(request)

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        self._procedure.validate_withdraw(request)

    @action_update(Action.TERMINATE)
    async def terminate(self, request: Terminate) -> CaseView:
        return await self._procedure.terminate(request)

    @terminate.validator
    def _validate_terminate(self, request: Terminate) -> None:
        self._procedure.validate_terminate(request)

    @action_update(Action.SURVEY)
    async def submit_survey(self, request: SubmitSurvey) -> CaseView:
        return await self._procedure.submit_survey(request)

    @submit_survey.validator
    def _validate_survey(self, request: SubmitSurvey) -> None:
        self._procedure.validate_survey(request)

    @action_update(Action.EVALUATION)
    async def submit_evaluation(self, request: SubmitEvaluation) -> CaseView:
        return await self._procedure.submit_evaluation(request)

    @submit_evaluation.validator
    def _validate_evaluation(self, request: SubmitEvaluation) -> None:
        self._procedure.validate_evaluation(request)

    @action_update(Action.EVIDENCE)
    async def submit_evidence(self, request: SubmitEvidence) -> CaseView:
        return await self._procedure.submit_evidence(request)

    @submit_evidence.validator
    def _validate_evidence(self, request: SubmitEvidence) -> None:
        self._procedure.validate_evidence(request)

    @action_update(Action.OBJECTION)
    async def raise_objection(self, request: RaiseObjection) -> CaseView:
        return await self._procedure.raise_objection(request)

    @raise_objection.validator
    def _validate_objection(self, request: RaiseObjection) -> None:
        self._procedure.validate_objection(request)

    @action_update(Action.TOWNSHIP_REVIEW)
    async def submit_township_review(self, request: SubmitTownshipReview) -> CaseView:
        return await self._procedure.submit_township_review(request)

    @submit_township_review.validator
    def _validate_township(self, request: SubmitTownshipReview) -> None:
        self._procedure.validate_township(request)

    @action_update(Action.COUNTY_VISIT)
    async def submit_county_visit(self, request: SubmitCountyVisit) -> CaseView:
        return await self._procedure.submit_county_visit(request)

    @submit_county_visit.validator
    def _validate_county_visit(self, request: SubmitCountyVisit) -> None:
        self._procedure.validate_county_visit(request)

    @action_update(Action.COUNTY_DECISION)
    async def submit_county_decision(self, request: SubmitCountyDecision) -> CaseView:
        return await self._procedure.submit_county_decision(request)

    @submit_county_decision.validator
    def _validate_county_decision(self, request: SubmitCountyDecision) -> None:
        self._procedure.validate_county_decision(request)

    # --- recipient phase (RecipientPhase) -----------------------------------------------------

    @action_update(Action.SIGN_IN)
    async def report_sign_in(self, request: ReportSignIn) -> CaseView:
        return await self._recipient.report_sign_in(request)

    @report_sign_in.validator
    def _validate_sign_in(self, request: ReportSignIn) -> None:
        self._recipient.validate_sign_in(request)

    @action_update(Action.LABOUR_ABSENCE)
    async def report_labour_absence(self, request: ReportLabourAbsence) -> CaseView:
        return await self._recipient.report_labour_absence(request)

    @report_labour_absence.validator
    def _validate_absence(self, request: ReportLabourAbsence) -> None:
        self._recipient.validate_absence(request)

    @action_update(Action.CIRCUMSTANCE)
    async def report_circumstance(self, request: ReportCircumstance) -> CaseView:
        return await self._recipient.report_circumstance(request)

    @report_circumstance.validator
    def _validate_circumstance(self, request: ReportCircumstance) -> None:
        self._recipient.validate_circumstance(request)

    @workflow.update
    async def apply_standard(self, request: ApplyStandard) -> CaseView:
        return await self._recipient.apply_standard(request)

    @apply_standard.validator
    def _validate_standard(self, request: ApplyStandard) -> None:
        self._recipient.validate_standard(request)

    @action_update(Action.REEMPLOYMENT)
    async def report_reemployment(self, request: ReportReemployment) -> CaseView:
        return await self._recipient.report_reemployment(request)

    @report_reemployment.validator
    def _validate_reemployment(self, request: ReportReemployment) -> None:
        self._recipient.validate_reemployment(request)

    @action_update(Action.WORK_REFUSAL)
    async def report_work_refusal(self, request: ReportWorkRefusal) -> CaseView:
        return await self._recipient.report_work_refusal(request)

    @report_work_refusal.validator
    def _validate_work_refusal(self, request: ReportWorkRefusal) -> None:
        self._recipient.validate_work_refusal(request)

    @action_update(Action.REVIEW)
    async def submit_review(self, request: SubmitSurvey) -> CaseView:
        return await self._recipient.submit_review(request)

    @submit_review.validator
    def _validate_review(self, request: SubmitSurvey) -> None:
        self._recipient.validate_review(request)

    # --- family changes (HouseholdChange) -----------------------------------------------------

    @action_update(Action.HOUSEHOLD_CHANGE)
    async def report_household_change(self, request: ReportHouseholdChange) -> CaseView:
        return await self._household.report_household_change(request)

    @report_household_change.validator
    def _validate_household_change(self, request: ReportHouseholdChange) -> None:
        self._household.validate_household_change(request)
