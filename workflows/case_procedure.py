"""Procedure: one 低保 application, from filing to approval or a reasoned refusal.

It decides nothing itself: rules come from `dibao.domain` (stage order, eligibility, amounts,
spot checks), side effects from the shared steps (workflows/case_shared.py). Caseworker
actions are updates (their handlers on `CaseWorkflow`, workflows/case.py, hand them here)
whose validators reject a wrong-stage, invalid or recused action before it reaches history.
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
    from dibao.domain.procedure import POSTING_STAGES, first_stage, next_stage, payment_start_month
    from dibao.domain.stages import STAGES
    from dibao.domain.survey import validate_survey
    from dibao.messages.case import (
        AuditEntry,
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
    from workflows.case_shared import SharedSteps, invalid_input, reject
    from workflows.case_state import CaseState


class Procedure:
    """The application and the procedure up to approval or refusal, on the case's state."""

    def __init__(self, state: CaseState, steps: SharedSteps) -> None:
        self.state = state
        self.steps = steps

    async def file(self) -> None:
        """The application as filed: audited with the case's first stage change, whichever it
        is; incomplete materials wait for their supplement; then acceptance. Ops may close the
        case at this step if the filing cannot be recorded (CaseClosing)."""
        case = self.state.case
        self.state.pending_audits.append(
            AuditEntry(
                case_id=case.case_id,
                step_key="filed",
                actor=case.filed_by,
                action=AuditAction.FILE_APPLICATION,
                payload_sha256=payload_sha256(case.application),
                at=case.filed_at,
            )
        )
        if self.state.missing():
            notice = self.steps.notice_of(
                NoticeKind.MATERIALS_INCOMPLETE,
                "materials-incomplete",
                missing=self.state.missing(),
            )
            await self.steps.enter(
                Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE, notices=(notice,)
            )
            await self.steps.until(lambda: not self.state.missing())
        self.steps.check_open()
        await self.steps.enter(
            Stage.SURVEY,
            CaseStatus.IN_PROGRESS,
            notices=(self.steps.notice_of(NoticeKind.ACCEPTANCE, "acceptance"),),
            accept=True,
        )

    async def run(self) -> bool:
        """The stages from acceptance on; True when the case was approved and entered the
        recipient phase (which `CaseWorkflow.run` starts then)."""
        stage = first_stage(self.state.pack)
        while stage not in (Stage.RECIPIENT, Stage.CLOSED):
            if stage is not self.state.stage:
                await self.steps.enter(
                    stage, CaseStatus.IN_PROGRESS, notices=self.on_entering(stage)
                )
            stage = await self.run_stage(stage)
        if stage is Stage.RECIPIENT:
            await self.steps.enter(Stage.RECIPIENT, CaseStatus.RECEIVING)
            return True
        return False

    async def run_stage(self, stage: Stage) -> Stage:
        """Run one stage; return the next one."""
        if stage is Stage.SURVEY:
            await self.steps.until(lambda: self.state.survey is not None)
        elif stage is Stage.VERIFICATION:
            after = next_stage(
                self.state.pack,
                stage,
                approved=self.state.approved,
                after_objection=self.state.after_objection,
            )
            # The standard to assess on is read with the next stage change, unless that stage
            # (a posting) states the amount already.
            await self.steps.verify(fold=after not in POSTING_STAGES)
            return after_verification(self.state.verification, self.state.evidence_heard, after)
        elif stage is Stage.EVIDENCE:
            return await self.hear_evidence()
        elif stage is Stage.EVALUATION:
            await self.steps.until(lambda: self.state.evaluation is not None)
            assert self.state.evaluation is not None
            self.state.approved[Stage.EVALUATION] = self.state.evaluation.approved
        elif stage in POSTING_STAGES:
            if await self.post(stage):
                return self.state.pack.objection_stage
        elif stage is Stage.TOWNSHIP_REVIEW:
            await self.steps.until(lambda: self.state.township is not None)
            assert self.state.township is not None
            self.state.approved[Stage.TOWNSHIP_REVIEW] = (
                self.state.township.opinion is Opinion.APPROVE
            )
        elif stage is Stage.COUNTY_APPROVAL:
            return await self.county_approval()
        return next_stage(
            self.state.pack,
            stage,
            approved=self.state.approved,
            after_objection=self.state.after_objection,
        )

    def on_entering(self, stage: Stage) -> tuple[IssueNotice, ...]:
        """The notices a stage change of the main line issues with it: the findings of a
        failed check (Art. 18), told to the family as the evidence period opens."""
        if stage is not Stage.EVIDENCE:
            return ()
        notice = self.steps.notice_of(
            NoticeKind.VERIFICATION_FINDINGS,
            f"verification-findings-{self.state.seq + 1}",
            reasons=findings(self.state.verification),
        )
        return (notice,)

    async def hear_evidence(self) -> Stage:
        """Art. 18: wait for the family's evidence until the period ends (the stage's due
        date). Evidence on the registries' data sends the case back to verification, which
        runs once more; otherwise, or when the period passes without evidence, the case goes on
        with the verified figures (the notice said so)."""
        self.state.evidence_heard = True
        # No due date (the stage's recording was skipped by ops): the caseworker records it.
        remaining = self.state.due_at - workflow.now() if self.state.due_at is not None else None
        if remaining is None or remaining > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.state.evidence is not None or self.state.closing(),
                    timeout=remaining,
                )
        self.steps.check_open()
        if self.state.evidence is not None and self.state.evidence.effect is EvidenceEffect.RECHECK:
            return Stage.VERIFICATION
        return next_stage(
            self.state.pack,
            Stage.VERIFICATION,
            approved=self.state.approved,
            after_objection=self.state.after_objection,
        )

    async def post(self, stage: Stage) -> bool:
        """Run a public posting (opened with the stage change; closed with the next one);
        True when an objection interrupted it."""
        ref = self.state.postings[-1]
        closes = self.state.stage_entered_at + self.state.pack.posting_duration
        self.state.pending_objection = None
        interrupted_by_close = False
        try:
            await workflow.wait_condition(
                lambda: self.state.pending_objection is not None or self.state.closing(),
                timeout=self.state.pack.posting_duration,
            )
            interrupted_by_close = self.state.closing()
        except TimeoutError:
            pass
        objection = self.state.pending_objection is not None and not interrupted_by_close
        # After approval an objection does not undo the decision: it is recorded for the
        # recipient phase's re-review, and the posting runs its term.
        if objection and stage is Stage.POSTING_AFTER_APPROVAL:
            self.state.pending_objection = None
            remaining = closes - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(self.state.closing, timeout=remaining)
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
        self.state.leaving_posting = ClosePosting(
            case_id=self.state.case.case_id,
            posting_id=ref.posting_id,
            outcome=outcome,
            closed_at=workflow.now(),
        )
        self.state.postings[-1] = dataclasses.replace(ref, outcome=outcome)
        self.steps.check_open()
        if objection:
            # The steps from the objection's stage on are done again, on fresh answers.
            self.state.after_objection = True
            self.state.pending_objection = None
            if self.state.pack.objection_stage is Stage.SURVEY:
                self.state.survey = None
            self.state.evaluation = None
            self.state.township = None
        return objection

    async def county_approval(self) -> Stage:
        # The spot check was drawn with the stage change (the visit reasons are set with it).
        self.state.decision = None
        await self.steps.until(lambda: self.state.decision is not None)
        decision = self.state.decision
        assert decision is not None
        self.state.approved[Stage.COUNTY_APPROVAL] = decision.opinion is Opinion.APPROVE
        if decision.opinion is Opinion.REJECT:
            # Issued in the moment of the decision, so always within the pack's working days
            # for a written refusal (mca-2021 Art. 21); the notice states both.
            refusal = self.steps.notice_of(
                NoticeKind.REFUSAL,
                f"refusal-{self.state.seq}",
                reasons=decision.reasons,
                decided_at=workflow.now(),
            )
            await self.steps.enter(Stage.CLOSED, CaseStatus.REFUSED, notices=(refusal,))
            self.state.closed = True
            return Stage.CLOSED
        await self.approve(decision)
        return next_stage(
            self.state.pack,
            Stage.COUNTY_APPROVAL,
            approved=self.state.approved,
            after_objection=self.state.after_objection,
        )

    async def approve(self, decision: SubmitCountyDecision) -> None:
        now = workflow.now()
        await self.reassess_for(payment_start_month(self.state.pack, china_date(now)))
        assessment = self.state.assessment
        category = decision.category or (assessment.category if assessment else None)
        amount = decision.monthly_amount_fen
        if amount is None:
            amount = assessment.monthly_amount_fen if assessment else 0
        assert category is not None
        from_month = payment_start_month(self.state.pack, china_date(now))
        # Numbered, recorded and notified with the stage change the approval causes.
        self.state.pending_approval = (
            RecordApproval(
                issued_at=now,
                entitlement=RecordEntitlement(
                    case_id=self.state.case.case_id,
                    step_key="approval",
                    certificate_no="",
                    from_month=from_month,
                    monthly_amount_fen=amount,
                    category=category,
                    reason=decision.override_reason or "县级审批同意",
                    recorded_at=now,
                    paid_members=self.state.household_size(),
                ),
            ),
            self.steps.notice_of(
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

    async def reassess_for(self, month: str) -> None:
        """The first month paid is later than the month assessed (approval came in a later
        month): assess again on the standard in force then, if it is another one."""
        assessment = self.state.assessment
        if (
            assessment is None
            or self.state.verification is None
            or not assessment.assessed_month
            or assessment.assessed_month == month
        ):
            return
        found = await self.steps.standard_in_force(month)
        facts = household_facts(
            self.state.case.application,
            self.state.survey.report if self.state.survey else None,
            self.state.verification.records,
        )
        self.state.assessment = assess(facts, self.state.pack, found.standard, found.month)

    # --- updates: application -------------------------------------------------------------------

    async def change_payee(self, request: ChangePayee) -> CaseView:
        key = f"payee/{request.request_id}"

        async def apply() -> None:
            recorded: PayeeRecorded = await self.steps.act(
                case_steps.record_payee,
                RecordPayee(
                    case_id=self.state.case.case_id,
                    step_key=key,
                    payee=request.payee,
                    recorded_by=request.actor.id,
                    recorded_at=workflow.now(),
                ),
            )
            # As written: ops may have corrected it to get it written (a NUL in the bank).
            self.state.payee = recorded.payee or request.payee

        return await self.steps.take(
            request,
            AuditAction.PAYEE,
            "payee",
            apply,
            check=self.validate_change_payee,
        )

    def validate_change_payee(self, request: ChangePayee) -> None:
        self.steps.require_actor(request.actor, Action.PAYEE, "record the payee account")
        if self.steps.seen(f"payee/{request.request_id}", request.actor):
            return
        self.steps.require_open()
        errors = validate_payee(request.payee) or payee_holder_problems(
            request.payee, self.state.members()
        )
        if errors:
            raise invalid_input(errors)

    async def supplement_materials(self, request: SupplementMaterials) -> CaseView:
        def apply() -> None:
            self.state.provided = self.state.provided | provided_materials(
                request.materials, request.declaration_signed, request.verification_authorised
            )

        # Answer once the case has moved on, so the caller sees the acceptance it caused.
        return await self.steps.take(
            request,
            AuditAction.MATERIALS,
            "supplement",
            apply,
            check=self.validate_supplement,
            moves=lambda: not self.state.missing(),
        )

    def validate_supplement(self, request: SupplementMaterials) -> None:
        self.steps.require_actor(request.actor, Action.MATERIALS, "record supplemented materials")
        if self.steps.seen(f"supplement/{request.request_id}", request.actor):
            return
        self.steps.require_open()
        if self.state.stage is not Stage.APPLICATION or not self.state.missing():
            raise reject(
                Rejection.WRONG_STAGE,
                f"materials are already complete; the case is at stage '{self.state.stage.value}'",
            )
        if not (request.materials or request.declaration_signed or request.verification_authorised):
            raise reject(Rejection.INVALID, "nothing to supplement: no material was given")

    async def withdraw(self, request: Withdraw) -> CaseView:
        def apply() -> None:
            self.state.withdrawal = request

        return await self.steps.take(
            request,
            AuditAction.WITHDRAW,
            "withdraw",
            apply,
            check=self.validate_withdraw,
            claim="closing",
            answer_when=lambda: self.state.closed,
        )

    def validate_withdraw(self, request: Withdraw) -> None:
        self.steps.require_actor(request.actor, Action.WITHDRAW, "withdraw an application")
        if self.steps.seen(f"withdraw/{request.request_id}", request.actor):
            return
        self.steps.require_withdrawable()
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: a withdrawal needs the applicant's reason")

    async def terminate(self, request: Terminate) -> CaseView:
        def apply() -> None:
            self.state.termination = request

        return await self.steps.take(
            request,
            AuditAction.TERMINATE,
            "terminate",
            apply,
            check=self.validate_terminate,
            claim="closing",
            answer_when=lambda: self.state.closed,
        )

    def validate_terminate(self, request: Terminate) -> None:
        self.steps.require_actor(request.actor, Action.TERMINATE, "terminate a case")
        if self.steps.seen(f"terminate/{request.request_id}", request.actor):
            return
        self.steps.require_withdrawable()
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: termination needs a reason for the notice")

    # --- updates: procedure ---------------------------------------------------------------------

    async def submit_survey(self, request: SubmitSurvey) -> CaseView:
        def apply() -> None:
            self.state.survey = request

        return await self.steps.take(
            request,
            AuditAction.SURVEY,
            "survey",
            apply,
            check=self.validate_survey,
            claim=self.state.stage_slot("survey"),
            moves=lambda: True,
        )

    def validate_survey(self, request: SubmitSurvey) -> None:
        self.steps.require_actor(request.actor, Action.SURVEY, "submit a survey")
        if self.steps.seen(f"survey/{request.request_id}", request.actor):
            return
        self.steps.require_stage(Action.SURVEY)
        if self.state.survey is not None:
            raise reject(Rejection.WRONG_STAGE, "a survey report was already submitted")
        self.steps.require_unclaimed(
            self.state.stage_slot("survey"), "a survey report was already submitted for this stage"
        )
        self.steps.require_no_recused_investigator(request.report.investigators)
        errors = validate_survey(request.report, china_date(workflow.now()))
        if errors:
            raise invalid_input(errors)

    async def submit_evaluation(self, request: SubmitEvaluation) -> CaseView:
        def apply() -> None:
            self.state.evaluation = request

        return await self.steps.take(
            request,
            AuditAction.EVALUATION,
            "evaluation",
            apply,
            check=self.validate_evaluation,
            claim=self.state.stage_slot("evaluation"),
            moves=lambda: True,
        )

    def validate_evaluation(self, request: SubmitEvaluation) -> None:
        self.steps.require_actor(request.actor, Action.EVALUATION, "record a democratic evaluation")
        if self.steps.seen(f"evaluation/{request.request_id}", request.actor):
            return
        self.steps.require_stage(Action.EVALUATION)
        self.steps.require_unclaimed(
            self.state.stage_slot("evaluation"),
            "the democratic evaluation of this stage was already recorded",
        )
        quorum = self.state.pack.evaluation_quorum
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
        self.steps.require_past_date(request.held_on, "held_on")

    async def submit_evidence(self, request: SubmitEvidence) -> CaseView:
        def apply() -> None:
            self.state.evidence = request

        return await self.steps.take(
            request,
            AuditAction.EVIDENCE,
            "evidence",
            apply,
            check=self.validate_evidence,
            claim=self.state.stage_slot("evidence"),
            moves=lambda: True,
        )

    def validate_evidence(self, request: SubmitEvidence) -> None:
        self.steps.require_actor(
            request.actor, Action.EVIDENCE, "record the family's evidence on a failed check"
        )
        if self.steps.seen(f"evidence/{request.request_id}", request.actor):
            return
        self.steps.require_stage(Action.EVIDENCE)
        self.steps.require_unclaimed(
            self.state.stage_slot("evidence"),
            "the family's evidence on this check was already recorded",
        )
        self.steps.require_past_date(request.received_on, "received_on")
        errors = evidence_problems(request)
        if errors:
            raise invalid_input(errors)

    async def raise_objection(self, request: RaiseObjection) -> CaseView:
        def apply() -> None:
            objection = ObjectionRef(
                objection_id=request.objection_id,
                posting_id=self.state.postings[-1].posting_id,
                summary=request.summary,
                received_at=workflow.now(),
            )
            self.state.objections.append(objection)
            self.state.pending_objection = objection

        return await self.steps.take(
            request,
            AuditAction.OBJECTION,
            "objection",
            apply,
            check=self.validate_objection,
        )

    def validate_objection(self, request: RaiseObjection) -> None:
        self.steps.require_actor(request.actor, Action.OBJECTION, "record an objection")
        if self.steps.seen(f"objection/{request.request_id}", request.actor):
            return
        self.steps.require_open()
        open_posting = (
            bool(self.state.postings) and self.state.postings[-1].outcome is PostingOutcome.OPEN
        )
        if Action.OBJECTION not in STAGES[self.state.stage].accepts or not open_posting:
            raise reject(
                Rejection.WRONG_STAGE,
                f"objections are taken during a public posting; the case is at stage "
                f"'{self.state.stage.value}'",
            )
        if not request.summary.strip():
            raise reject(Rejection.INVALID, "summary: say what the objection is")

    async def submit_township_review(self, request: SubmitTownshipReview) -> CaseView:
        def apply() -> None:
            self.state.township = request

        return await self.steps.take(
            request,
            AuditAction.TOWNSHIP_REVIEW,
            "township",
            apply,
            check=self.validate_township,
            claim=self.state.stage_slot("township"),
            moves=lambda: True,
        )

    def validate_township(self, request: SubmitTownshipReview) -> None:
        self.steps.require_actor(
            request.actor, Action.TOWNSHIP_REVIEW, "give the township review opinion"
        )
        if self.steps.seen(f"township/{request.request_id}", request.actor):
            return
        self.steps.require_stage(Action.TOWNSHIP_REVIEW)
        self.steps.require_unclaimed(
            self.state.stage_slot("township"), "the township has already given its review opinion"
        )
        if request.opinion is Opinion.REJECT and not any(r.strip() for r in request.reasons):
            raise reject(Rejection.INVALID, "reasons: a negative opinion needs its reasons")
        if request.proposed_amount_fen is not None and request.proposed_amount_fen < 0:
            raise reject(Rejection.INVALID, "proposed_amount: must not be negative")

    async def submit_county_visit(self, request: SubmitCountyVisit) -> CaseView:
        def apply() -> None:
            self.state.county_visit = request

        return await self.steps.take(
            request,
            AuditAction.COUNTY_VISIT,
            "visit",
            apply,
            check=self.validate_county_visit,
        )

    def validate_county_visit(self, request: SubmitCountyVisit) -> None:
        self.steps.require_actor(request.actor, Action.COUNTY_VISIT, "record the county home visit")
        if self.steps.seen(f"visit/{request.request_id}", request.actor):
            return
        self.steps.require_stage(Action.COUNTY_VISIT)
        if not [v for v in request.visitors if v.strip()]:
            raise reject(Rejection.INVALID, "visitors: name who visited")
        if not request.findings.strip():
            raise reject(Rejection.INVALID, "findings: record what the visit found")
        self.steps.require_past_date(request.visited_on, "visited_on")

    async def submit_county_decision(self, request: SubmitCountyDecision) -> CaseView:
        def apply() -> None:
            decision = request
            if (
                decision.opinion is Opinion.REJECT
                and not decision.reasons
                and self.state.assessment
            ):
                decision = SubmitCountyDecision(
                    request_id=decision.request_id,
                    actor=decision.actor,
                    opinion=decision.opinion,
                    reasons=tuple(f.message for f in self.state.assessment.failures),
                )
            self.state.decision = decision

        return await self.steps.take(
            request,
            AuditAction.COUNTY_DECISION,
            "decision",
            apply,
            check=self.validate_county_decision,
            claim=self.state.stage_slot("decision"),
            moves=lambda: True,
        )

    def validate_county_decision(self, request: SubmitCountyDecision) -> None:
        self.steps.require_actor(request.actor, Action.COUNTY_DECISION, "decide on approval")
        if self.steps.seen(f"decision/{request.request_id}", request.actor):
            return
        self.steps.require_stage(Action.COUNTY_DECISION)
        if self.state.decision is not None:
            raise reject(Rejection.WRONG_STAGE, "the county has already decided")
        self.steps.require_unclaimed(
            self.state.stage_slot("decision"), "the county has already decided"
        )
        if self.state.visit_reasons and self.state.county_visit is None:
            raise reject(
                Rejection.WRONG_STAGE,
                "a county home visit is required before the decision: "
                + "; ".join(self.state.visit_reasons),
            )
        assessment = self.state.assessment
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
