"""CaseWorkflow: one 低保 application, from filing to approval or a reasoned refusal.

The workflow holds the case state and decides nothing itself: rules come from `dibao.domain`
(stage order, eligibility, amounts, spot checks), side effects from activities. Caseworker
actions are updates whose validators reject a wrong-stage, invalid or recused action before it
reaches history.

This module is the application and the procedure up to approval or refusal; the recipient
phase is `workflows/case_recipient.py`, the state, its query and the steps every phase uses
(notices, audit, stage changes, deadline timers, incidents) are `workflows/case_state.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.actions import Action
    from dibao.domain.application import payee_holder_problems, validate_payee
    from dibao.domain.calendar import china_date
    from dibao.domain.eligibility import assess, household_facts
    from dibao.domain.enums import (
        AuditAction,
        CaseStatus,
        NoticeKind,
        Opinion,
        PostingOutcome,
        Stage,
    )
    from dibao.domain.hashing import payload_sha256
    from dibao.domain.materials import provided_materials
    from dibao.domain.measures import (
        EvidenceEffect,
        SubmitEvidence,
        after_verification,
        evidence_problems,
        findings,
    )
    from dibao.domain.money import format_yuan
    from dibao.domain.procedure import (
        POSTING_STAGES,
        first_stage,
        next_stage,
        payment_start_month,
    )
    from dibao.domain.stages import STAGES
    from dibao.domain.survey import validate_survey
    from dibao.messages.case import (
        AuditEntry,
        CaseInput,
        CaseResult,
        CaseView,
        ChangePayee,
        ClosePosting,
        Entitlement,
        IssueNotice,
        ObjectionRef,
        PayeeRecorded,
        RaiseObjection,
        RecordApproval,
        RecordEntitlement,
        RecordPayee,
        Rejection,
        SubmitCountyDecision,
        SubmitCountyVisit,
        SubmitEvaluation,
        SubmitSurvey,
        SubmitTownshipReview,
        SupplementMaterials,
        Terminate,
        Withdraw,
    )
    from workflows import case_steps
    from workflows.action_updates import action_update
    from workflows.case_recipient import RecipientPhase
    from workflows.case_state import (
        CaseClosing,
        invalid_input,
        reject,
    )


@workflow.defn
class CaseWorkflow(RecipientPhase):
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)

    # --- main line -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        if case.carried is not None:
            # A new review cycle: the state was restored from the input when the run began.
            assert self._recipient is not None
            await self._recipient_phase(self._recipient)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return CaseResult(case_id=case.case_id, status=self._status)
        if case.recipient is not None:
            try:
                await self._resume_recipient(case.recipient)
            except CaseClosing:  # ops closed the case at a step that could not go on
                await self._close_on_request()
            await workflow.wait_condition(workflow.all_handlers_finished)
            return CaseResult(case_id=case.case_id, status=self._status)
        # The filing is audited with the case's first stage change, whichever it is.
        self._pending_audits.append(
            AuditEntry(
                case_id=case.case_id,
                step_key="filed",
                actor=case.filed_by,
                action=AuditAction.FILE_APPLICATION,
                payload_sha256=payload_sha256(case.application),
                at=case.filed_at,
            )
        )
        try:
            # Inside: ops may close the case at this step if the filing cannot be recorded.
            if self._missing():
                notice = self._notice_of(
                    NoticeKind.MATERIALS_INCOMPLETE, "materials-incomplete", missing=self._missing()
                )
                await self._enter(
                    Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE, notices=(notice,)
                )
                await self._until(lambda: not self._missing())
            self._check_open()
            await self._enter(
                Stage.SURVEY,
                CaseStatus.IN_PROGRESS,
                notices=(self._notice_of(NoticeKind.ACCEPTANCE, "acceptance"),),
                accept=True,
            )
            await self._procedure()
        except CaseClosing:
            await self._close_on_request()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(case_id=case.case_id, status=self._status)

    async def _procedure(self) -> None:
        stage = first_stage(self._pack)
        while stage not in (Stage.RECIPIENT, Stage.CLOSED):
            if stage is not self._stage:
                await self._enter(stage, CaseStatus.IN_PROGRESS, notices=self._on_entering(stage))
            stage = await self._run_stage(stage)
        if stage is Stage.RECIPIENT:
            await self._enter(Stage.RECIPIENT, CaseStatus.RECEIVING)
            await self._recipient_phase(self._first_recipient_state())

    async def _run_stage(self, stage: Stage) -> Stage:
        """Run one stage; return the next one."""
        if stage is Stage.SURVEY:
            await self._until(lambda: self._survey is not None)
        elif stage is Stage.VERIFICATION:
            after = next_stage(
                self._pack, stage, approved=self._approved, after_objection=self._after_objection
            )
            # The standard to assess on is read with the next stage change, unless that stage
            # (a posting) states the amount already.
            await self._verify(fold=after not in POSTING_STAGES)
            return after_verification(self._verification, self._evidence_heard, after)
        elif stage is Stage.EVIDENCE:
            return await self._hear_evidence()
        elif stage is Stage.EVALUATION:
            await self._until(lambda: self._evaluation is not None)
            assert self._evaluation is not None
            self._approved[Stage.EVALUATION] = self._evaluation.approved
        elif stage in POSTING_STAGES:
            if await self._post(stage):
                return self._pack.objection_stage
        elif stage is Stage.TOWNSHIP_REVIEW:
            await self._until(lambda: self._township is not None)
            assert self._township is not None
            self._approved[Stage.TOWNSHIP_REVIEW] = self._township.opinion is Opinion.APPROVE
        elif stage is Stage.COUNTY_APPROVAL:
            return await self._county_approval()
        return next_stage(
            self._pack, stage, approved=self._approved, after_objection=self._after_objection
        )

    def _on_entering(self, stage: Stage) -> tuple[IssueNotice, ...]:
        """The notices a stage change of the main line issues with it: the findings of a
        failed check (Art. 18), told to the family as the evidence period opens."""
        if stage is not Stage.EVIDENCE:
            return ()
        notice = self._notice_of(
            NoticeKind.VERIFICATION_FINDINGS,
            f"verification-findings-{self._seq + 1}",
            reasons=findings(self._verification),
        )
        return (notice,)

    async def _hear_evidence(self) -> Stage:
        """Art. 18: wait for the family's evidence until the period ends (the stage's due
        date). Evidence on the registries' data sends the case back to verification, which
        runs once more; otherwise, or when the period passes without evidence, the case goes on
        with the verified figures (the notice said so)."""
        self._evidence_heard = True
        # No due date (the stage's recording was skipped by ops): the caseworker records it.
        remaining = self._due_at - workflow.now() if self._due_at is not None else None
        if remaining is None or remaining > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._evidence is not None or self._closing(), timeout=remaining
                )
        self._check_open()
        if self._evidence is not None and self._evidence.effect is EvidenceEffect.RECHECK:
            return Stage.VERIFICATION
        return next_stage(
            self._pack,
            Stage.VERIFICATION,
            approved=self._approved,
            after_objection=self._after_objection,
        )

    async def _post(self, stage: Stage) -> bool:
        """Run a public posting (opened with the stage change; closed with the next one);
        True when an objection interrupted it."""
        ref = self._postings[-1]
        closes = self._stage_entered_at + self._pack.posting_duration
        self._pending_objection = None
        interrupted_by_close = False
        try:
            await workflow.wait_condition(
                lambda: self._pending_objection is not None or self._closing(),
                timeout=self._pack.posting_duration,
            )
            interrupted_by_close = self._closing()
        except TimeoutError:
            pass
        objection = self._pending_objection is not None and not interrupted_by_close
        # After approval an objection does not undo the decision: it is recorded for the
        # recipient phase's re-review, and the posting runs its term.
        if objection and stage is Stage.POSTING_AFTER_APPROVAL:
            self._pending_objection = None
            remaining = closes - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(self._closing, timeout=remaining)
                    interrupted_by_close = True
                except TimeoutError:
                    pass
            objection = False
        outcome = (
            PostingOutcome.CANCELLED
            if interrupted_by_close
            else PostingOutcome.INTERRUPTED
            if objection
            else PostingOutcome.COMPLETED
        )
        # Written with the next stage change; shown at once.
        self._leaving_posting = ClosePosting(
            case_id=self._case.case_id,
            posting_id=ref.posting_id,
            outcome=outcome,
            closed_at=workflow.now(),
        )
        self._postings[-1] = dataclasses.replace(ref, outcome=outcome)
        self._check_open()
        if objection:
            # The steps from the objection's stage on are done again, on fresh answers.
            self._after_objection = True
            self._pending_objection = None
            if self._pack.objection_stage is Stage.SURVEY:
                self._survey = None
            self._evaluation = None
            self._township = None
        return objection

    async def _county_approval(self) -> Stage:
        # The spot check was drawn with the stage change (the visit reasons are set with it).
        self._decision = None
        await self._until(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        self._approved[Stage.COUNTY_APPROVAL] = decision.opinion is Opinion.APPROVE
        if decision.opinion is Opinion.REJECT:
            # Issued in the moment of the decision, so always within the pack's working days
            # for a written refusal (mca-2021 Art. 21); the notice states both.
            refusal = self._notice_of(
                NoticeKind.REFUSAL,
                f"refusal-{self._seq}",
                reasons=decision.reasons,
                decided_at=workflow.now(),
            )
            await self._enter(Stage.CLOSED, CaseStatus.REFUSED, notices=(refusal,))
            self._closed = True
            return Stage.CLOSED
        await self._approve(decision)
        return next_stage(
            self._pack,
            Stage.COUNTY_APPROVAL,
            approved=self._approved,
            after_objection=self._after_objection,
        )

    async def _approve(self, decision: SubmitCountyDecision) -> None:
        now = workflow.now()
        await self._reassess_for(payment_start_month(self._pack, china_date(now)))
        assessment = self._assessment
        category = decision.category or (assessment.category if assessment else None)
        amount = decision.monthly_amount_fen
        if amount is None:
            amount = assessment.monthly_amount_fen if assessment else 0
        assert category is not None
        from_month = payment_start_month(self._pack, china_date(now))
        # Numbered, recorded and notified with the stage change the approval causes.
        self._pending_approval = (
            RecordApproval(
                issued_at=now,
                entitlement=RecordEntitlement(
                    case_id=self._case.case_id,
                    step_key="approval",
                    certificate_no="",
                    from_month=from_month,
                    monthly_amount_fen=amount,
                    category=category,
                    reason=decision.override_reason or "县级审批同意",
                    recorded_at=now,
                    paid_members=self._household_size(),
                ),
            ),
            self._notice_of(
                NoticeKind.APPROVAL,
                "approval",
                monthly_amount_fen=amount,
                from_month=from_month,
            ),
            Entitlement(
                certificate_no="",
                from_month=from_month,
                monthly_amount_fen=amount,
                category=category,
            ),
        )

    async def _reassess_for(self, month: str) -> None:
        """The first month paid is later than the month assessed (approval came in a later
        month): assess again on the standard in force then, if it is another one."""
        assessment = self._assessment
        if (
            assessment is None
            or self._verification is None
            or not assessment.assessed_month
            or assessment.assessed_month == month
        ):
            return
        found = await self._standard_in_force(month)
        facts = household_facts(
            self._case.application,
            self._survey.report if self._survey else None,
            self._verification.records,
        )
        self._assessment = assess(facts, self._pack, found.standard, found.month)

    async def _close_on_request(self) -> None:
        if self._termination is not None:
            status = CaseStatus.TERMINATED
            notice = self._notice_of(
                NoticeKind.TERMINATION, "termination", reason=self._termination.reason
            )
        else:
            assert self._withdrawal is not None
            status = CaseStatus.WITHDRAWN
            notice = self._notice_of(
                NoticeKind.WITHDRAWAL, "withdrawal", reason=self._withdrawal.reason
            )
        # Ops may close it at the closing step itself: then closed, as they recorded.
        with contextlib.suppress(CaseClosing):
            await self._enter(Stage.CLOSED, status, notices=(notice,))
        self._closed = True

    # --- updates: application -------------------------------------------------------------------

    @action_update(Action.PAYEE)
    async def change_payee(self, request: ChangePayee) -> CaseView:
        key = f"payee/{request.request_id}"

        async def apply() -> None:
            recorded: PayeeRecorded = await self._act(
                case_steps.record_payee,
                RecordPayee(
                    case_id=self._case.case_id,
                    step_key=key,
                    payee=request.payee,
                    recorded_by=request.actor.id,
                    recorded_at=workflow.now(),
                ),
            )
            # As written: ops may have corrected it to get it written (a NUL in the bank).
            self._payee = recorded.payee or request.payee

        return await self._take(
            request,
            AuditAction.PAYEE,
            "payee",
            apply,
            check=self._validate_change_payee,
        )

    @change_payee.validator
    def _validate_change_payee(self, request: ChangePayee) -> None:
        self._require_actor(request.actor, Action.PAYEE, "record the payee account")
        if self._seen(f"payee/{request.request_id}", request.actor):
            return
        self._require_open()
        errors = validate_payee(request.payee) or payee_holder_problems(
            request.payee, self._members()
        )
        if errors:
            raise invalid_input(errors)

    @action_update(Action.MATERIALS)
    async def supplement_materials(self, request: SupplementMaterials) -> CaseView:
        def apply() -> None:
            self._provided = self._provided | provided_materials(
                request.materials, request.declaration_signed, request.verification_authorised
            )

        # Answer once the case has moved on, so the caller sees the acceptance it caused.
        return await self._take(
            request,
            AuditAction.MATERIALS,
            "supplement",
            apply,
            check=self._validate_supplement,
            moves=lambda: not self._missing(),
        )

    @supplement_materials.validator
    def _validate_supplement(self, request: SupplementMaterials) -> None:
        self._require_actor(request.actor, Action.MATERIALS, "record supplemented materials")
        if self._seen(f"supplement/{request.request_id}", request.actor):
            return
        self._require_open()
        if self._stage is not Stage.APPLICATION or not self._missing():
            raise reject(
                Rejection.WRONG_STAGE,
                f"materials are already complete; the case is at stage '{self._stage.value}'",
            )
        if not (request.materials or request.declaration_signed or request.verification_authorised):
            raise reject(Rejection.INVALID, "nothing to supplement: no material was given")

    @action_update(Action.WITHDRAW)
    async def withdraw(self, request: Withdraw) -> CaseView:
        def apply() -> None:
            self._withdrawal = request

        return await self._take(
            request,
            AuditAction.WITHDRAW,
            "withdraw",
            apply,
            check=self._validate_withdraw,
            claim="closing",
            answer_when=lambda: self._closed,
        )

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        self._require_actor(request.actor, Action.WITHDRAW, "withdraw an application")
        if self._seen(f"withdraw/{request.request_id}", request.actor):
            return
        self._require_withdrawable()
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: a withdrawal needs the applicant's reason")

    @action_update(Action.TERMINATE)
    async def terminate(self, request: Terminate) -> CaseView:
        def apply() -> None:
            self._termination = request

        return await self._take(
            request,
            AuditAction.TERMINATE,
            "terminate",
            apply,
            check=self._validate_terminate,
            claim="closing",
            answer_when=lambda: self._closed,
        )

    @terminate.validator
    def _validate_terminate(self, request: Terminate) -> None:
        self._require_actor(request.actor, Action.TERMINATE, "terminate a case")
        if self._seen(f"terminate/{request.request_id}", request.actor):
            return
        self._require_withdrawable()
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: termination needs a reason for the notice")

    # --- updates: procedure ---------------------------------------------------------------------

    @action_update(Action.SURVEY)
    async def submit_survey(self, request: SubmitSurvey) -> CaseView:
        def apply() -> None:
            self._survey = request

        return await self._take(
            request,
            AuditAction.SURVEY,
            "survey",
            apply,
            check=self._validate_survey,
            claim=self._stage_slot("survey"),
            moves=lambda: True,
        )

    @submit_survey.validator
    def _validate_survey(self, request: SubmitSurvey) -> None:
        self._require_actor(request.actor, Action.SURVEY, "submit a survey")
        if self._seen(f"survey/{request.request_id}", request.actor):
            return
        self._require_stage(Action.SURVEY)
        if self._survey is not None:
            raise reject(Rejection.WRONG_STAGE, "a survey report was already submitted")
        self._require_unclaimed(
            self._stage_slot("survey"), "a survey report was already submitted for this stage"
        )
        self._require_no_recused_investigator(request.report.investigators)
        errors = validate_survey(request.report, china_date(workflow.now()))
        if errors:
            raise invalid_input(errors)

    @action_update(Action.EVALUATION)
    async def submit_evaluation(self, request: SubmitEvaluation) -> CaseView:
        def apply() -> None:
            self._evaluation = request

        return await self._take(
            request,
            AuditAction.EVALUATION,
            "evaluation",
            apply,
            check=self._validate_evaluation,
            claim=self._stage_slot("evaluation"),
            moves=lambda: True,
        )

    @submit_evaluation.validator
    def _validate_evaluation(self, request: SubmitEvaluation) -> None:
        self._require_actor(request.actor, Action.EVALUATION, "record a democratic evaluation")
        if self._seen(f"evaluation/{request.request_id}", request.actor):
            return
        self._require_stage(Action.EVALUATION)
        self._require_unclaimed(
            self._stage_slot("evaluation"),
            "the democratic evaluation of this stage was already recorded",
        )
        quorum = self._pack.evaluation_quorum
        if request.attendees < quorum:
            raise reject(
                Rejection.INVALID,
                f"attendees: {request.attendees} attended; the rule pack requires at least {quorum}",
            )
        if request.composition.total != request.attendees:
            raise reject(
                Rejection.INVALID,
                f"composition: adds up to {request.composition.total}, "
                f"but {request.attendees} attended",
            )
        votes = request.votes_for + request.votes_against + request.votes_abstain
        if min(request.votes_for, request.votes_against, request.votes_abstain) < 0:
            raise reject(Rejection.INVALID, "votes_for: vote counts must not be negative")
        if votes > request.attendees or votes == 0:
            raise reject(
                Rejection.INVALID,
                f"votes_for: {votes} votes cast by {request.attendees} attendees",
            )
        self._require_past_date(request.held_on, "held_on")

    @action_update(Action.EVIDENCE)
    async def submit_evidence(self, request: SubmitEvidence) -> CaseView:
        def apply() -> None:
            self._evidence = request

        return await self._take(
            request,
            AuditAction.EVIDENCE,
            "evidence",
            apply,
            check=self._validate_evidence,
            claim=self._stage_slot("evidence"),
            moves=lambda: True,
        )

    @submit_evidence.validator
    def _validate_evidence(self, request: SubmitEvidence) -> None:
        self._require_actor(
            request.actor, Action.EVIDENCE, "record the family's evidence on a failed check"
        )
        if self._seen(f"evidence/{request.request_id}", request.actor):
            return
        self._require_stage(Action.EVIDENCE)
        self._require_unclaimed(
            self._stage_slot("evidence"), "the family's evidence on this check was already recorded"
        )
        self._require_past_date(request.received_on, "received_on")
        errors = evidence_problems(request)
        if errors:
            raise invalid_input(errors)

    @action_update(Action.OBJECTION)
    async def raise_objection(self, request: RaiseObjection) -> CaseView:
        def apply() -> None:
            objection = ObjectionRef(
                objection_id=request.objection_id,
                posting_id=self._postings[-1].posting_id,
                summary=request.summary,
                received_at=workflow.now(),
            )
            self._objections.append(objection)
            self._pending_objection = objection

        return await self._take(
            request,
            AuditAction.OBJECTION,
            "objection",
            apply,
            check=self._validate_objection,
        )

    @raise_objection.validator
    def _validate_objection(self, request: RaiseObjection) -> None:
        self._require_actor(request.actor, Action.OBJECTION, "record an objection")
        if self._seen(f"objection/{request.request_id}", request.actor):
            return
        self._require_open()
        open_posting = bool(self._postings) and self._postings[-1].outcome is PostingOutcome.OPEN
        if Action.OBJECTION not in STAGES[self._stage].accepts or not open_posting:
            raise reject(
                Rejection.WRONG_STAGE,
                f"objections are taken during a public posting; the case is at stage "
                f"'{self._stage.value}'",
            )
        if not request.summary.strip():
            raise reject(Rejection.INVALID, "summary: say what the objection is")

    @action_update(Action.TOWNSHIP_REVIEW)
    async def submit_township_review(self, request: SubmitTownshipReview) -> CaseView:
        def apply() -> None:
            self._township = request

        return await self._take(
            request,
            AuditAction.TOWNSHIP_REVIEW,
            "township",
            apply,
            check=self._validate_township,
            claim=self._stage_slot("township"),
            moves=lambda: True,
        )

    @submit_township_review.validator
    def _validate_township(self, request: SubmitTownshipReview) -> None:
        self._require_actor(
            request.actor, Action.TOWNSHIP_REVIEW, "give the township review opinion"
        )
        if self._seen(f"township/{request.request_id}", request.actor):
            return
        self._require_stage(Action.TOWNSHIP_REVIEW)
        self._require_unclaimed(
            self._stage_slot("township"), "the township has already given its review opinion"
        )
        if request.opinion is Opinion.REJECT and not any(r.strip() for r in request.reasons):
            raise reject(Rejection.INVALID, "reasons: a negative opinion needs its reasons")
        if request.proposed_amount_fen is not None and request.proposed_amount_fen < 0:
            raise reject(Rejection.INVALID, "proposed_amount: must not be negative")

    @action_update(Action.COUNTY_VISIT)
    async def submit_county_visit(self, request: SubmitCountyVisit) -> CaseView:
        def apply() -> None:
            self._county_visit = request

        return await self._take(
            request,
            AuditAction.COUNTY_VISIT,
            "visit",
            apply,
            check=self._validate_county_visit,
        )

    @submit_county_visit.validator
    def _validate_county_visit(self, request: SubmitCountyVisit) -> None:
        self._require_actor(request.actor, Action.COUNTY_VISIT, "record the county home visit")
        if self._seen(f"visit/{request.request_id}", request.actor):
            return
        self._require_stage(Action.COUNTY_VISIT)
        if not [v for v in request.visitors if v.strip()]:
            raise reject(Rejection.INVALID, "visitors: name who visited")
        if not request.findings.strip():
            raise reject(Rejection.INVALID, "findings: record what the visit found")
        self._require_past_date(request.visited_on, "visited_on")

    @action_update(Action.COUNTY_DECISION)
    async def submit_county_decision(self, request: SubmitCountyDecision) -> CaseView:
        def apply() -> None:
            decision = request
            if decision.opinion is Opinion.REJECT and not decision.reasons and self._assessment:
                decision = SubmitCountyDecision(
                    request_id=decision.request_id,
                    actor=decision.actor,
                    opinion=decision.opinion,
                    reasons=tuple(f.message for f in self._assessment.failures),
                )
            self._decision = decision

        return await self._take(
            request,
            AuditAction.COUNTY_DECISION,
            "decision",
            apply,
            check=self._validate_county_decision,
            claim=self._stage_slot("decision"),
            moves=lambda: True,
        )

    @submit_county_decision.validator
    def _validate_county_decision(self, request: SubmitCountyDecision) -> None:
        self._require_actor(request.actor, Action.COUNTY_DECISION, "decide on approval")
        if self._seen(f"decision/{request.request_id}", request.actor):
            return
        self._require_stage(Action.COUNTY_DECISION)
        if self._decision is not None:
            raise reject(Rejection.WRONG_STAGE, "the county has already decided")
        self._require_unclaimed(self._stage_slot("decision"), "the county has already decided")
        if self._visit_reasons and self._county_visit is None:
            raise reject(
                Rejection.WRONG_STAGE,
                "a county home visit is required before the decision: "
                + "; ".join(self._visit_reasons),
            )
        assessment = self._assessment
        if request.opinion is Opinion.REJECT:
            if not any(r.strip() for r in request.reasons) and not (
                assessment and assessment.failures
            ):
                raise reject(
                    Rejection.INVALID, "reasons: a refusal must give the household its reasons"
                )
            return
        if request.monthly_amount_fen is not None and request.monthly_amount_fen <= 0:
            raise reject(Rejection.INVALID, "monthly_amount: must be more than zero")
        overrides = []
        if assessment is None:
            overrides.append("no assessment is available")
        else:
            if not assessment.eligible:
                overrides.append("the assessment found the household ineligible")
            if (
                request.monthly_amount_fen is not None
                and request.monthly_amount_fen != assessment.monthly_amount_fen
            ):
                overrides.append(
                    f"the amount differs from the computed {format_yuan(assessment.monthly_amount_fen)} 元"
                )
            if request.category is not None and request.category is not assessment.category:
                overrides.append(f"the category differs from the assessed {assessment.category}")
        if assessment is None and request.monthly_amount_fen is None:
            raise reject(Rejection.INVALID, "monthly_amount: no computed amount to default to")
        if assessment is None and request.category is None:
            raise reject(Rejection.INVALID, "category: no assessed category to default to")
        if overrides and not request.override_reason.strip():
            raise reject(
                Rejection.INVALID,
                "override_reason: required because " + " and ".join(overrides),
            )
