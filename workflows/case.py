"""CaseWorkflow: one 低保 application, from filing to approval or a reasoned refusal.

The workflow holds the case state and decides nothing itself: rules come from `dibao.domain`
(stage order, eligibility, amounts, spot checks), side effects from activities. Caseworker
actions are updates whose validators reject a wrong-stage, invalid or recused action before it
reaches history.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.application import FieldError
    from dibao.domain.calendar import china_date
    from dibao.domain.case import (
        Actor,
        ApplyStandard,
        AuditEntry,
        AuditRecorded,
        CaseInput,
        CaseResult,
        CaseView,
        CertificateIssued,
        ClosePosting,
        DrawSpotCheck,
        Entitlement,
        EntitlementRecorded,
        IssueCertificate,
        IssueNotice,
        NoticeIssued,
        NoticeRef,
        ObjectionRef,
        OpenPosting,
        PostingClosed,
        PostingRef,
        ProcedureView,
        RaiseObjection,
        RecordEntitlement,
        RecordStage,
        Rejection,
        ReportCircumstance,
        ReportLabourAbsence,
        ReportReemployment,
        ReportSignIn,
        ReportWorkRefusal,
        RetryStep,
        SkipStep,
        SpotCheckResult,
        StageRecorded,
        SubmitCountyDecision,
        SubmitCountyVisit,
        SubmitEvaluation,
        SubmitSurvey,
        SubmitTownshipReview,
        SupplementMaterials,
        Terminate,
        Withdraw,
    )
    from dibao.domain.eligibility import Assessment, assess, household_facts
    from dibao.domain.enums import (
        AuditAction,
        CaseStatus,
        Material,
        NoticeKind,
        Opinion,
        PostingOutcome,
        Role,
        Stage,
    )
    from dibao.domain.hashing import payload_sha256
    from dibao.domain.materials import missing_materials, provided_materials
    from dibao.domain.money import format_yuan
    from dibao.domain.ops import (
        SKIPPABLE_ACTIVITIES,
        WAITING_FOR,
        CloseIncident,
        CorrectionError,
        FailureStatus,
        IncidentClosed,
        IncidentOpened,
        IncidentRef,
        OpenIncident,
        OverdueRecorded,
        RecordOverdue,
        apply_corrections,
        correctable_fields,
        parse_corrections,
    )
    from dibao.domain.procedure import (
        POSTING_STAGES,
        first_stage,
        next_stage,
        payment_start_month,
    )
    from dibao.domain.recipient import (
        STOPPING_CIRCUMSTANCES,
        ChangeKind,
        PaymentChange,
        RecipientState,
        absence_change,
        add_months,
        first_moment,
        gradual_exit_end,
        next_month,
        next_review_on,
        review_change,
        sign_in_change,
        standard_change,
        work_refusal_change,
    )
    from dibao.domain.rulepacks import RulePack, get_rule_pack
    from dibao.domain.survey import validate_survey
    from dibao.domain.verification import VerificationOutcome, VerifyHousehold
    from workflows import policies
    from workflows import search_attributes as sa

# Who may answer which step. Issue 6 adds authentication; the role is checked already so that
# the audit log never shows, say, a village caseworker approving.
TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP_CASEWORKER, Role.COUNTY_APPROVER})
SURVEY_ROLES = frozenset({Role.VILLAGE_CASEWORKER, Role.TOWNSHIP_CASEWORKER, Role.COUNTY_APPROVER})
COUNTY_ROLES = frozenset({Role.COUNTY_APPROVER})
OPS_ROLES = frozenset({Role.OPS})

T = TypeVar("T")


def _reject(kind: Rejection, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


def _invalid(errors: list[FieldError]) -> ApplicationError:
    first = errors[0]
    path = ".".join(str(p) for p in first.path)
    more = (
        f" (and {len(errors) - 1} more: "
        + "; ".join(".".join(str(p) for p in e.path) + ": " + e.message for e in errors[1:])
        + ")"
        if len(errors) > 1
        else ""
    )
    return _reject(Rejection.INVALID, f"{path}: {first.message}{more}")


class _Closed(Exception):
    """Raised inside the main line when a withdrawal or termination arrives mid-procedure."""


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        app = case.application
        self._case = case
        self._pack: RulePack = case.rule_pack or get_rule_pack(case.rule_pack_id)
        self._stage = Stage.APPLICATION
        self._status = CaseStatus.FILED
        self._seq = 0
        self._stage_entered_at: datetime = case.filed_at
        self._due_at: datetime | None = None
        self._due_warning: str | None = None
        self._provided = provided_materials(
            app.materials, app.declaration_signed, app.verification_authorised
        )
        self._notices: list[NoticeRef] = []
        self._withdrawal: Withdraw | None = None
        self._termination: Terminate | None = None
        self._accepted = False
        self._closed = False
        self._handled_requests: set[str] = set()
        # procedure
        self._survey: SubmitSurvey | None = None
        self._verification: VerificationOutcome | None = None
        self._assessment: Assessment | None = None
        self._evaluation: SubmitEvaluation | None = None
        self._township: SubmitTownshipReview | None = None
        self._county_visit: SubmitCountyVisit | None = None
        self._visit_reasons: list[str] = []
        self._decision: SubmitCountyDecision | None = None
        self._entitlement: Entitlement | None = None
        self._postings: list[PostingRef] = []
        self._objections: list[ObjectionRef] = []
        self._pending_objection: ObjectionRef | None = None
        self._recused: tuple[str, ...] = ()
        self._approved: dict[Stage, bool] = {}
        self._after_objection = False
        # recipient phase
        self._recipient: RecipientState | None = None
        self._changes: list[PaymentChange] = []
        self._change_no = 0
        self._review_due = False
        self._review_survey: SubmitSurvey | None = None
        # Set by a handler that moves a wake-up time (e.g. a gradual exit's end).
        self._rewake = False
        # supervision and operations
        self._overdue_since: datetime | None = None
        self._deadline_timer: asyncio.Task[None] | None = None
        self._incident_no = 0
        self._incidents: dict[str, IncidentRef] = {}
        self._incident_inputs: dict[str, Any] = {}
        self._resolutions: dict[str, RetryStep | SkipStep] = {}

    # --- main line ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        if case.recipient is not None:
            await self._resume_recipient(case.recipient)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return CaseResult(case_id=case.case_id, status=self._status)
        await self._audit(
            "filed", case.filed_by, AuditAction.FILE_APPLICATION, case.application, at=case.filed_at
        )
        try:
            if self._missing():
                await self._enter(Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE)
                await self._notice(
                    NoticeKind.MATERIALS_INCOMPLETE, "materials-incomplete", missing=self._missing()
                )
                await self._until(lambda: not self._missing())
            self._check_open()
            await self._enter(Stage.SURVEY, CaseStatus.IN_PROGRESS)
            await self._notice(NoticeKind.ACCEPTANCE, "acceptance")
            self._accepted = True
            await self._procedure()
        except _Closed:
            await self._close_on_request()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(case_id=case.case_id, status=self._status)

    async def _procedure(self) -> None:
        stage = first_stage(self._pack)
        while stage not in (Stage.RECIPIENT, Stage.CLOSED):
            if stage is not self._stage:
                await self._enter(stage, CaseStatus.IN_PROGRESS)
            stage = await self._run_stage(stage)
        if stage is Stage.RECIPIENT:
            await self._enter(Stage.RECIPIENT, CaseStatus.RECEIVING)
            if not workflow.patched("recipient-phase"):
                # Approved before the recipient phase existed: such a case waits here as it did.
                await workflow.wait_condition(lambda: False)
            await self._recipient_phase(self._first_recipient_state())

    async def _run_stage(self, stage: Stage) -> Stage:
        """Run one stage; return the next one."""
        if stage is Stage.SURVEY:
            await self._until(lambda: self._survey is not None)
        elif stage is Stage.VERIFICATION:
            await self._verify()
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

    async def _verify(self) -> None:
        # Retried without limit: a registry that is down delays the case, visibly (the pending
        # activity and this stage), and loses nothing.
        survey = self._survey.report if self._survey else None
        self._verification = await self._act(
            "verify_household",
            VerifyHousehold(
                case_id=self._case.case_id,
                step_key=f"verification-{self._seq}",
                application=self._case.application,
                survey=survey,
            ),
            VerificationOutcome,
            timeout=policies.VERIFICATION_TIMEOUT,
            retry=policies.CONNECTOR_RETRY,
        )
        self._assessment = assess(
            household_facts(self._case.application, survey, self._verification.records),
            self._pack,
        )

    async def _post(self, stage: Stage) -> bool:
        """Run a public posting; True when an objection interrupted it."""
        opens = workflow.now()
        closes = opens + self._pack.posting_duration
        amount, category = self._proposed_amount()
        ref = await self._open_posting(
            f"posting-{self._seq}", stage, opens, self._household_size(), amount, category
        )
        self._postings.append(ref)
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
        closed = await self._close_posting(ref.posting_id, outcome)
        self._postings[-1] = dataclasses.replace(ref, outcome=closed)
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
        spot: SpotCheckResult = await self._act(
            "draw_spot_check",
            DrawSpotCheck(
                case_id=self._case.case_id,
                share=self._pack.spot_check_share,
                decided_on=china_date(workflow.now()).isoformat(),
            ),
            SpotCheckResult,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        self._visit_reasons = []
        if spot.selected:
            self._visit_reasons.append(f"县级抽查：{spot.reason}（种子 {spot.seed}）")
        if self._recused:
            self._visit_reasons.append("近亲属备案：须由县级民政部门入户核查")
        self._decision = None
        await self._until(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        self._approved[Stage.COUNTY_APPROVAL] = decision.opinion is Opinion.APPROVE
        if decision.opinion is Opinion.REJECT:
            await self._notice(NoticeKind.REFUSAL, f"refusal-{self._seq}", reasons=decision.reasons)
            await self._enter(Stage.CLOSED, CaseStatus.REFUSED)
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
        assessment = self._assessment
        category = decision.category or (assessment.category if assessment else None)
        amount = decision.monthly_amount_fen
        if amount is None:
            amount = assessment.monthly_amount_fen if assessment else 0
        assert category is not None
        now = workflow.now()
        certificate: CertificateIssued = await self._act(
            "issue_certificate",
            IssueCertificate(case_id=self._case.case_id, issued_at=now),
            CertificateIssued,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        from_month = payment_start_month(self._pack, china_date(now))
        await self._act(
            "record_entitlement",
            RecordEntitlement(
                case_id=self._case.case_id,
                step_key="approval",
                certificate_no=certificate.certificate_no,
                from_month=from_month,
                monthly_amount_fen=amount,
                category=category,
                reason=decision.override_reason or "县级审批同意",
                recorded_at=now,
                paid_members=self._household_size(),
            ),
            EntitlementRecorded,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        self._entitlement = Entitlement(
            certificate_no=certificate.certificate_no,
            from_month=from_month,
            monthly_amount_fen=amount,
            category=category,
        )
        await self._notice(
            NoticeKind.APPROVAL,
            "approval",
            certificate_no=certificate.certificate_no,
            monthly_amount_fen=amount,
            from_month=from_month,
        )

    async def _close_on_request(self) -> None:
        if self._termination is not None:
            await self._enter(Stage.CLOSED, CaseStatus.TERMINATED)
            await self._notice(
                NoticeKind.TERMINATION, "termination", reason=self._termination.reason
            )
        else:
            assert self._withdrawal is not None
            await self._enter(Stage.CLOSED, CaseStatus.WITHDRAWN)
            await self._notice(NoticeKind.WITHDRAWAL, "withdrawal", reason=self._withdrawal.reason)
        self._closed = True

    # --- recipient phase ---------------------------------------------------------------------

    def _first_recipient_state(self) -> RecipientState:
        entitlement = self._entitlement
        assert entitlement is not None
        members = self._survey.report.members if self._survey else self._case.application.members
        return RecipientState(
            certificate_no=entitlement.certificate_no,
            category=entitlement.category,
            monthly_amount_fen=entitlement.monthly_amount_fen,
            area_type=self._case.application.area_type,
            members=members,
            cycle=1,
            next_review_on=next_review_on(
                self._pack, entitlement.category, china_date(workflow.now())
            ).isoformat(),
            seq=self._seq,
            notice_ids=tuple(n.notice_id for n in self._notices),
            per_capita_income_fen_month=(
                self._assessment.per_capita_income_fen_month if self._assessment else 0
            ),
        )

    async def _resume_recipient(self, state: RecipientState) -> None:
        """A new run of the same case after continue-as-new: pick up where the last one ended."""
        self._stage, self._status, self._seq = Stage.RECIPIENT, CaseStatus.RECEIVING, state.seq
        self._accepted = True
        self._handled_requests = set(state.handled_requests)
        await self._recipient_phase(state)

    async def _recipient_phase(self, state: RecipientState) -> None:
        self._recipient = state
        while True:
            state = self._recipient
            review_at = first_moment(state.next_review_on[:7]).replace(
                day=int(state.next_review_on[8:10])
            )
            resume_at = first_moment(state.suspended_until) if state.suspended_until else None
            exit_at = first_moment(state.gradual_exit_until) if state.gradual_exit_until else None
            # Wake for the review date (until it is due), the end of a suspension, and the end
            # of a gradual exit.
            wakes = [t for t in (None if self._review_due else review_at, resume_at, exit_at) if t]
            remaining = min(wakes) - workflow.now() if wakes else None
            self._rewake = False
            if remaining is None or remaining > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: (
                            bool(self._changes) or self._review_survey is not None or self._rewake
                        ),
                        timeout=remaining,
                    )
            now = workflow.now()
            if resume_at is not None and now >= resume_at:
                self._changes.append(
                    PaymentChange(
                        ChangeKind.RESUME,
                        state.monthly_amount_fen,
                        state.suspended_until,
                        ("暂停期满，自动恢复发放",),
                    )
                )
            if exit_at is not None and now >= exit_at:
                change = gradual_exit_end(state, self._pack)
                self._recipient = dataclasses.replace(
                    state,
                    gradual_exit_until="",
                    reemployment_wage_fen=0,
                    per_capita_income_fen_month=state.per_capita_income_fen_month
                    + state.reemployment_wage_fen // len(state.members),
                )
                if change.kind is not ChangeKind.UNCHANGED:
                    self._changes.append(change)
            if now >= review_at:
                self._review_due = True
            while self._changes:
                change = self._changes.pop(0)
                await self._apply_change(change)
                if change.kind is ChangeKind.STOP:
                    await self._enter(Stage.CLOSED, CaseStatus.EXITED)
                    self._closed = True
                    return
            if self._review_survey is not None:
                if await self._review(self._review_survey):
                    return
                await self._continue_as_new()
                return

    async def _review(self, request: SubmitSurvey) -> bool:
        """复核: verification and recalculation on the new survey; True when benefit stopped."""
        state = self._recipient
        assert state is not None
        self._survey = request
        await self._verify()
        assert self._assessment is not None
        assessed = self._assessment
        if state.portion_stopped and assessed.eligible:
            # A member whose own portion is stopped (Art. 34) stays stopped across reviews.
            portion = assessed.monthly_amount_fen // max(1, assessed.household_size)
            assessed = dataclasses.replace(
                assessed,
                monthly_amount_fen=assessed.monthly_amount_fen
                - portion * len(state.portion_stopped),
            )
        change = review_change(
            state.monthly_amount_fen, assessed, next_month(china_date(workflow.now()))
        )
        self._review_survey = None
        self._review_due = False
        self._recipient = dataclasses.replace(
            state,
            members=request.report.members,
            category=self._assessment.category,
            per_capita_income_fen_month=self._assessment.per_capita_income_fen_month,
            cycle=state.cycle + 1,
            next_review_on=next_review_on(
                self._pack, self._assessment.category, china_date(workflow.now())
            ).isoformat(),
        )
        if change.kind is ChangeKind.UNCHANGED:
            return False
        await self._apply_change(change)
        if change.kind is ChangeKind.STOP:
            await self._enter(Stage.CLOSED, CaseStatus.EXITED)
            self._closed = True
            return True
        return False

    async def _apply_change(self, change: PaymentChange) -> None:
        """One payment change: ledger row, reasoned notice, and a posting of at least 7 days."""
        state = self._recipient
        assert state is not None
        self._change_no += 1
        step = f"cycle-{state.cycle}-change-{self._change_no}"
        await self._act(
            "record_entitlement",
            RecordEntitlement(
                case_id=self._case.case_id,
                step_key=step,
                certificate_no=state.certificate_no,
                from_month=change.effective_month,
                monthly_amount_fen=change.monthly_amount_fen,
                category=state.category,
                reason="；".join(change.reasons),
                recorded_at=workflow.now(),
                change_kind=change.kind.value,
                paid_members=len(state.members) - len(state.portion_stopped),
            ),
            EntitlementRecorded,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if change.kind is ChangeKind.SUSPEND:
            state = dataclasses.replace(
                state, suspended_until=add_months(change.effective_month, 3)
            )
        elif change.kind is ChangeKind.RESUME:
            state = dataclasses.replace(state, suspended_until="")
        elif change.kind in (ChangeKind.INCREASE, ChangeKind.DECREASE):
            state = dataclasses.replace(state, monthly_amount_fen=change.monthly_amount_fen)
        self._recipient = state
        await self._notice(
            NoticeKind.PAYMENT_CHANGE,
            f"{step}-notice",
            reason=change.kind.value,
            reasons=change.reasons,
            monthly_amount_fen=change.monthly_amount_fen,
            from_month=change.effective_month,
        )
        posting = await self._open_posting(
            f"{step}-posting",
            Stage.RECIPIENT,
            workflow.now(),
            len(state.members),
            change.monthly_amount_fen,
            state.category.value,
        )
        # The change takes effect from its month whatever the posting brings; an objection to
        # it is handled as a new report of circumstances.
        await workflow.sleep(self._pack.posting_duration)
        await self._close_posting(posting.posting_id, PostingOutcome.COMPLETED)

    async def _open_posting(
        self, step_key: str, stage: Stage, opens: datetime, size: int, amount: int, category: str
    ) -> PostingRef:
        ref: PostingRef = await self._act(
            "open_posting",
            OpenPosting(
                case_id=self._case.case_id,
                step_key=step_key,
                stage=stage,
                opens_at=opens,
                closes_at=opens + self._pack.posting_duration,
                household_size=size,
                monthly_amount_fen=amount,
                category=category,
            ),
            PostingRef,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        return ref

    async def _close_posting(self, posting_id: str, outcome: PostingOutcome) -> PostingOutcome:
        """Close a posting; a posting closed before keeps its first outcome (returned)."""
        closed: PostingClosed = await self._act(
            "close_posting",
            ClosePosting(
                case_id=self._case.case_id,
                posting_id=posting_id,
                outcome=outcome,
                closed_at=workflow.now(),
            ),
            PostingClosed,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        return closed.outcome

    async def _continue_as_new(self) -> None:
        """One review cycle per run, so the history stays bounded however many years pass."""
        state = self._recipient
        assert state is not None
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Anything reported while handlers finished is applied here, not lost.
        while self._changes:
            change = self._changes.pop(0)
            await self._apply_change(change)
            if change.kind is ChangeKind.STOP:
                await self._enter(Stage.CLOSED, CaseStatus.EXITED)
                self._closed = True
                return
        state = self._recipient
        assert state is not None
        recent = tuple(sorted(self._handled_requests))[-200:]
        workflow.continue_as_new(
            dataclasses.replace(
                self._case,
                recipient=dataclasses.replace(
                    state,
                    seq=self._seq,
                    handled_requests=recent,
                    notice_ids=state.notice_ids + tuple(n.notice_id for n in self._notices),
                ),
            )
        )

    def _require_receiving(self, actor: Actor) -> None:
        self._require_role(actor, SURVEY_ROLES, "report on a recipient household")
        if self._stage is Stage.RECIPIENT and self._recipient is None and not self._closed:
            raise _reject(
                Rejection.WRONG_STAGE,
                "this case was approved before the recipient phase existed and cannot take "
                "recipient events; ops must migrate it (see issue 4 notes)",
            )
        if self._stage is not Stage.RECIPIENT or self._closed or self._recipient is None:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"only a household receiving benefit has this; the case is at stage "
                f"'{self._stage.value}'",
            )

    @workflow.update
    async def report_sign_in(self, request: ReportSignIn) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.REPORT_SIGN_IN, request, "sign-in"
        ):
            assert self._recipient is not None
            missed, change = sign_in_change(self._recipient, request.done, request.month)
            self._recipient = dataclasses.replace(self._recipient, missed_sign_ins=missed)
            if change is not None:
                self._changes.append(change)
        return self.state()

    @report_sign_in.validator
    def _validate_sign_in(self, request: ReportSignIn) -> None:
        if self._seen(f"sign-in/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        if len(request.month) != 7 or request.month[4] != "-":
            raise _reject(Rejection.INVALID, "month: must be YYYY-MM")

    @workflow.update
    async def report_labour_absence(self, request: ReportLabourAbsence) -> CaseView:
        if await self._first_time(
            request.request_id,
            request.actor,
            AuditAction.REPORT_LABOUR_ABSENCE,
            request,
            "absence",
        ):
            assert self._recipient is not None
            count, change = absence_change(
                self._recipient, request.justified, date.fromisoformat(request.on)
            )
            self._recipient = dataclasses.replace(self._recipient, unjustified_absences=count)
            if change is not None:
                self._changes.append(change)
        return self.state()

    @report_labour_absence.validator
    def _validate_absence(self, request: ReportLabourAbsence) -> None:
        if self._seen(f"absence/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        self._require_past_date(request.on, "on")

    @workflow.update
    async def report_circumstance(self, request: ReportCircumstance) -> CaseView:
        if await self._first_time(
            request.request_id,
            request.actor,
            AuditAction.REPORT_CIRCUMSTANCE,
            request,
            "circumstance",
        ):
            if request.kind in STOPPING_CIRCUMSTANCES:
                self._changes.append(
                    PaymentChange(
                        ChangeKind.STOP,
                        0,
                        next_month(china_date(workflow.now())),
                        (request.details,),
                    )
                )
            else:
                # Income or household changed: re-review now rather than at the due date.
                self._review_due = True
        return self.state()

    @report_circumstance.validator
    def _validate_circumstance(self, request: ReportCircumstance) -> None:
        if self._seen(f"circumstance/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        if not request.details.strip():
            raise _reject(Rejection.INVALID, "details: say what changed, for the notice")

    @workflow.update
    async def apply_standard(self, request: ApplyStandard) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.APPLY_STANDARD, request, "standard"
        ):
            assert self._recipient is not None
            # Later re-reviews use the new standard too: it becomes part of the case's pack.
            self._pack = dataclasses.replace(
                self._pack,
                urban_standard_fen_month=request.urban_standard_fen_month,
                rural_standard_fen_year=request.rural_standard_fen_year,
            )
            self._case = dataclasses.replace(self._case, rule_pack=self._pack)
            change = standard_change(self._recipient, self._pack, request.effective_month)
            if change.kind is not ChangeKind.UNCHANGED:
                self._changes.append(change)
        return self.state()

    @apply_standard.validator
    def _validate_standard(self, request: ApplyStandard) -> None:
        if self._seen(f"standard/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        if min(request.urban_standard_fen_month, request.rural_standard_fen_year) <= 0:
            raise _reject(Rejection.INVALID, "standard: must be more than zero")

    @workflow.update
    async def report_reemployment(self, request: ReportReemployment) -> CaseView:
        if await self._first_time(
            request.request_id,
            request.actor,
            AuditAction.REPORT_REEMPLOYMENT,
            request,
            "reemployment",
        ):
            state = self._recipient
            assert state is not None
            until = add_months(
                next_month(date.fromisoformat(request.started_on)), self._pack.gradual_exit_months
            )
            self._recipient = dataclasses.replace(
                state, gradual_exit_until=until, reemployment_wage_fen=request.monthly_wage_fen
            )
            self._rewake = True
            await self._notice(
                NoticeKind.PAYMENT_CHANGE,
                f"reemployment-{request.request_id}",
                reason=ChangeKind.UNCHANGED.value,
                reasons=(
                    f"家庭成员就业，月工资 {request.monthly_wage_fen / 100:.2f} 元；"
                    f"渐退期内不计入家庭收入，自 {until} 起计入并重新核定保障金额",
                ),
                monthly_amount_fen=state.monthly_amount_fen,
                from_month=until,
            )
        return self.state()

    @report_reemployment.validator
    def _validate_reemployment(self, request: ReportReemployment) -> None:
        if self._seen(f"reemployment/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        assert self._recipient is not None
        if request.member_id_number.upper() not in {m.id_number for m in self._recipient.members}:
            raise _reject(Rejection.INVALID, "member_id_number: not a member of this household")
        if request.monthly_wage_fen <= 0:
            raise _reject(Rejection.INVALID, "monthly_wage: must be more than zero")
        if self._recipient.gradual_exit_until:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"a gradual exit is already running until {self._recipient.gradual_exit_until}",
            )
        self._require_past_date(request.started_on, "started_on")

    @workflow.update
    async def report_work_refusal(self, request: ReportWorkRefusal) -> CaseView:
        if await self._first_time(
            request.request_id,
            request.actor,
            AuditAction.REPORT_WORK_REFUSAL,
            request,
            "work-refusal",
        ):
            state = self._recipient
            assert state is not None
            if not request.justified:
                member = request.member_id_number.upper()
                counts, change = work_refusal_change(
                    state, self._pack, member, date.fromisoformat(request.on)
                )
                stopped = state.portion_stopped + ((member,) if change else ())
                self._recipient = dataclasses.replace(
                    state, work_refusals=counts, portion_stopped=stopped
                )
                if change is not None:
                    self._changes.append(change)
        return self.state()

    @report_work_refusal.validator
    def _validate_work_refusal(self, request: ReportWorkRefusal) -> None:
        if self._seen(f"work-refusal/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        assert self._recipient is not None
        if request.member_id_number.upper() not in {m.id_number for m in self._recipient.members}:
            raise _reject(Rejection.INVALID, "member_id_number: not a member of this household")
        self._require_past_date(request.on, "on")

    @workflow.update
    async def submit_review(self, request: SubmitSurvey) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.SUBMIT_REVIEW, request, "review"
        ):
            self._review_survey = request
        await workflow.wait_condition(
            lambda: self._review_survey is None or self._closed or self._stalled()
        )
        return self.state()

    @submit_review.validator
    def _validate_review(self, request: SubmitSurvey) -> None:
        if self._seen(f"review/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor)
        if not self._review_due:
            assert self._recipient is not None
            raise _reject(
                Rejection.WRONG_STAGE,
                f"no re-review is due; the next is on {self._recipient.next_review_on}",
            )
        if self._review_survey is not None:
            raise _reject(Rejection.WRONG_STAGE, "a re-review survey is already being processed")
        errors = validate_survey(request.report, china_date(workflow.now()))
        if errors:
            raise _invalid(errors)

    # --- queries -----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> CaseView:
        return CaseView(
            case_id=self._case.case_id,
            stage=self._stage,
            status=self._status,
            rule_pack_id=self._case.rule_pack_id,
            rule_pack_version=self._case.rule_pack_version,
            application=self._case.application,
            filed_at=self._case.filed_at,
            stage_entered_at=self._stage_entered_at,
            due_at=self._due_at,
            due_warning=self._due_warning,
            provided_materials=tuple(sorted(self._provided)),
            missing_materials=self._missing(),
            notices=tuple(self._notices),
            withdrawal_reason=self._withdrawal.reason if self._withdrawal else None,
            procedure=ProcedureView(
                survey=self._survey.report if self._survey else None,
                verification=self._verification,
                assessment=self._assessment,
                evaluation=self._evaluation,
                township_review=self._township,
                county_visit_required=bool(self._visit_reasons),
                county_visit_reasons=tuple(self._visit_reasons),
                county_visit=self._county_visit,
                decision=self._decision,
                entitlement=self._entitlement,
                postings=tuple(self._postings),
                objections=tuple(self._objections),
                recused_staff=self._recused,
                closure_reason=(
                    self._termination.reason
                    if self._termination
                    else self._withdrawal.reason
                    if self._withdrawal
                    else None
                ),
                waiting_for=self._waiting_for(),
            ),
            recipient=self._recipient,
            review_due=self._review_due,
            overdue_since=self._overdue_since,
            incidents=tuple(self._incidents.values()),
        )

    def _waiting_for(self) -> str:
        if self._incidents:
            incident = next(iter(self._incidents.values()))
            return f"运维处理 (ops: step {incident.step} failed, incident {incident.incident_id})"
        if self._closed:
            return ""
        if self._stage is Stage.RECIPIENT and self._recipient is not None:
            if self._review_due:
                return "复核入户调查 (village/township caseworkers: re-review survey)"
            return f"动态管理，下次复核 {self._recipient.next_review_on} (recipient)"
        return WAITING_FOR[self._stage]

    # --- updates: application ----------------------------------------------------------------

    @workflow.update
    async def supplement_materials(self, request: SupplementMaterials) -> CaseView:
        if await self._first_time(
            request.request_id,
            request.actor,
            AuditAction.SUPPLEMENT_MATERIALS,
            request,
            "supplement",
        ):
            self._provided = self._provided | provided_materials(
                request.materials, request.declaration_signed, request.verification_authorised
            )
        # Answer once the case has moved on, so the caller sees the acceptance it caused.
        await workflow.wait_condition(
            lambda: bool(self._missing()) or self._accepted or self._closed or self._stalled()
        )
        return self.state()

    @supplement_materials.validator
    def _validate_supplement(self, request: SupplementMaterials) -> None:
        if self._seen(f"supplement/{request.request_id}", request.actor):
            return
        self._require_open()
        if self._stage is not Stage.APPLICATION or not self._missing():
            raise _reject(
                Rejection.WRONG_STAGE,
                f"materials are already complete; the case is at stage '{self._stage.value}'",
            )
        if not (request.materials or request.declaration_signed or request.verification_authorised):
            raise _reject(Rejection.INVALID, "nothing to supplement: no material was given")

    @workflow.update
    async def withdraw(self, request: Withdraw) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.WITHDRAW, request, "withdraw"
        ):
            self._withdrawal = request
        await workflow.wait_condition(lambda: self._closed or self._stalled())
        return self.state()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        if self._seen(f"withdraw/{request.request_id}", request.actor):
            return
        self._require_withdrawable()
        if not request.reason.strip():
            raise _reject(Rejection.INVALID, "reason: a withdrawal needs the applicant's reason")

    @workflow.update
    async def terminate(self, request: Terminate) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.TERMINATE, request, "terminate"
        ):
            self._termination = request
        await workflow.wait_condition(lambda: self._closed or self._stalled())
        return self.state()

    @terminate.validator
    def _validate_terminate(self, request: Terminate) -> None:
        if self._seen(f"terminate/{request.request_id}", request.actor):
            return
        self._require_role(request.actor, TOWNSHIP_ROLES, "terminate a case")
        self._require_withdrawable()
        if not request.reason.strip():
            raise _reject(Rejection.INVALID, "reason: termination needs a reason for the notice")

    # --- updates: procedure ------------------------------------------------------------------

    @workflow.update
    async def submit_survey(self, request: SubmitSurvey) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.SUBMIT_SURVEY, request, "survey"
        ):
            self._survey = request
        await workflow.wait_condition(
            lambda: self._stage is not Stage.SURVEY or self._closed or self._stalled()
        )
        return self.state()

    @submit_survey.validator
    def _validate_survey(self, request: SubmitSurvey) -> None:
        if self._seen(f"survey/{request.request_id}", request.actor):
            return
        self._require_stage(Stage.SURVEY)
        self._require_role(request.actor, SURVEY_ROLES, "submit a survey")
        if self._survey is not None:
            raise _reject(Rejection.WRONG_STAGE, "a survey report was already submitted")
        recused = [i for i in request.report.investigators if i in self._recused]
        if recused:
            raise _reject(
                Rejection.RECUSED,
                f"investigator {recused[0]} is a registered near relative of this household",
            )
        errors = validate_survey(request.report, china_date(workflow.now()))
        if errors:
            raise _invalid(errors)

    @workflow.update
    async def submit_evaluation(self, request: SubmitEvaluation) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.SUBMIT_EVALUATION, request, "evaluation"
        ):
            self._evaluation = request
        await workflow.wait_condition(
            lambda: self._stage is not Stage.EVALUATION or self._closed or self._stalled()
        )
        return self.state()

    @submit_evaluation.validator
    def _validate_evaluation(self, request: SubmitEvaluation) -> None:
        if self._seen(f"evaluation/{request.request_id}", request.actor):
            return
        self._require_stage(Stage.EVALUATION)
        self._require_role(request.actor, SURVEY_ROLES, "record a democratic evaluation")
        quorum = self._pack.evaluation_quorum
        if request.attendees < quorum:
            raise _reject(
                Rejection.INVALID,
                f"attendees: {request.attendees} attended; the rule pack requires at least {quorum}",
            )
        if request.composition.total != request.attendees:
            raise _reject(
                Rejection.INVALID,
                f"composition: adds up to {request.composition.total}, "
                f"but {request.attendees} attended",
            )
        votes = request.votes_for + request.votes_against + request.votes_abstain
        if min(request.votes_for, request.votes_against, request.votes_abstain) < 0:
            raise _reject(Rejection.INVALID, "votes_for: vote counts must not be negative")
        if votes > request.attendees or votes == 0:
            raise _reject(
                Rejection.INVALID,
                f"votes_for: {votes} votes cast by {request.attendees} attendees",
            )
        self._require_past_date(request.held_on, "held_on")

    @workflow.update
    async def raise_objection(self, request: RaiseObjection) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.RAISE_OBJECTION, request, "objection"
        ):
            objection = ObjectionRef(
                objection_id=request.objection_id,
                posting_id=self._postings[-1].posting_id,
                summary=request.summary,
                received_at=workflow.now(),
            )
            self._objections.append(objection)
            self._pending_objection = objection
        return self.state()

    @raise_objection.validator
    def _validate_objection(self, request: RaiseObjection) -> None:
        if self._seen(f"objection/{request.request_id}", request.actor):
            return
        self._require_open()
        open_posting = bool(self._postings) and self._postings[-1].outcome is PostingOutcome.OPEN
        if self._stage not in POSTING_STAGES or not open_posting:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"objections are taken during a public posting; the case is at stage "
                f"'{self._stage.value}'",
            )
        if not request.summary.strip():
            raise _reject(Rejection.INVALID, "summary: say what the objection is")

    @workflow.update
    async def submit_township_review(self, request: SubmitTownshipReview) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.TOWNSHIP_REVIEW, request, "township"
        ):
            self._township = request
        await workflow.wait_condition(
            lambda: self._stage is not Stage.TOWNSHIP_REVIEW or self._closed or self._stalled()
        )
        return self.state()

    @submit_township_review.validator
    def _validate_township(self, request: SubmitTownshipReview) -> None:
        if self._seen(f"township/{request.request_id}", request.actor):
            return
        self._require_stage(Stage.TOWNSHIP_REVIEW)
        self._require_role(request.actor, TOWNSHIP_ROLES, "give the township review opinion")
        if request.opinion is Opinion.REJECT and not any(r.strip() for r in request.reasons):
            raise _reject(Rejection.INVALID, "reasons: a negative opinion needs its reasons")
        if request.proposed_amount_fen is not None and request.proposed_amount_fen < 0:
            raise _reject(Rejection.INVALID, "proposed_amount: must not be negative")

    @workflow.update
    async def submit_county_visit(self, request: SubmitCountyVisit) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.COUNTY_HOME_VISIT, request, "visit"
        ):
            self._county_visit = request
        return self.state()

    @submit_county_visit.validator
    def _validate_county_visit(self, request: SubmitCountyVisit) -> None:
        if self._seen(f"visit/{request.request_id}", request.actor):
            return
        self._require_stage(Stage.COUNTY_APPROVAL)
        self._require_role(request.actor, COUNTY_ROLES, "record the county home visit")
        if not [v for v in request.visitors if v.strip()]:
            raise _reject(Rejection.INVALID, "visitors: name who visited")
        if not request.findings.strip():
            raise _reject(Rejection.INVALID, "findings: record what the visit found")
        self._require_past_date(request.visited_on, "visited_on")

    @workflow.update
    async def submit_county_decision(self, request: SubmitCountyDecision) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.COUNTY_DECISION, request, "decision"
        ):
            if request.opinion is Opinion.REJECT and not request.reasons and self._assessment:
                request = SubmitCountyDecision(
                    request_id=request.request_id,
                    actor=request.actor,
                    opinion=request.opinion,
                    reasons=tuple(f.message for f in self._assessment.failures),
                )
            self._decision = request
        await workflow.wait_condition(
            lambda: self._stage is not Stage.COUNTY_APPROVAL or self._closed or self._stalled()
        )
        return self.state()

    @submit_county_decision.validator
    def _validate_county_decision(self, request: SubmitCountyDecision) -> None:
        if self._seen(f"decision/{request.request_id}", request.actor):
            return
        self._require_stage(Stage.COUNTY_APPROVAL)
        self._require_role(request.actor, COUNTY_ROLES, "decide on approval")
        if self._decision is not None:
            raise _reject(Rejection.WRONG_STAGE, "the county has already decided")
        if self._visit_reasons and self._county_visit is None:
            raise _reject(
                Rejection.WRONG_STAGE,
                "a county home visit is required before the decision: "
                + "; ".join(self._visit_reasons),
            )
        assessment = self._assessment
        if request.opinion is Opinion.REJECT:
            if not any(r.strip() for r in request.reasons) and not (
                assessment and assessment.failures
            ):
                raise _reject(
                    Rejection.INVALID, "reasons: a refusal must give the household its reasons"
                )
            return
        if request.monthly_amount_fen is not None and request.monthly_amount_fen <= 0:
            raise _reject(Rejection.INVALID, "monthly_amount: must be more than zero")
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
            raise _reject(Rejection.INVALID, "monthly_amount: no computed amount to default to")
        if assessment is None and request.category is None:
            raise _reject(Rejection.INVALID, "category: no assessed category to default to")
        if overrides and not request.override_reason.strip():
            raise _reject(
                Rejection.INVALID,
                "override_reason: required because " + " and ".join(overrides),
            )

    # --- helpers -----------------------------------------------------------------------------

    def _seen(self, key: str, actor: Actor) -> bool:
        """A repeated request (same action, same request ID) answers again without a second
        effect and without validation: the stage may have moved on since the first."""
        if actor.id in self._recused and key not in self._handled_requests:
            raise _reject(
                Rejection.RECUSED,
                f"{actor.id} is registered as a near relative of this household and must recuse",
            )
        return key in self._handled_requests

    async def _first_time(
        self, request_id: str, actor: Actor, action: AuditAction, payload: Any, prefix: str
    ) -> bool:
        key = f"{prefix}/{request_id}"
        if key in self._handled_requests:
            return False
        self._handled_requests.add(key)
        await self._audit(key, actor, action, payload)
        return True

    def _closing(self) -> bool:
        return self._withdrawal is not None or self._termination is not None

    def _check_open(self) -> None:
        if self._closing():
            raise _Closed()

    async def _until(self, condition: Callable[[], bool]) -> None:
        await workflow.wait_condition(lambda: condition() or self._closing())
        self._check_open()

    def _require_open(self) -> None:
        if self._closing() or self._closed:
            raise _reject(Rejection.WRONG_STAGE, f"the case is closed ({self._status.value})")

    def _require_withdrawable(self) -> None:
        self._require_open()
        if self._stage is Stage.RECIPIENT or self._entitlement is not None:
            raise _reject(
                Rejection.WRONG_STAGE,
                "the case is approved; ending benefit is a payment change, not a withdrawal",
            )

    def _require_stage(self, stage: Stage) -> None:
        self._require_open()
        if self._stage is not stage:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"this action belongs to stage '{stage.value}'; "
                f"the case is at stage '{self._stage.value}'",
            )

    def _require_role(self, actor: Actor, roles: frozenset[Role], what: str) -> None:
        if actor.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            raise _reject(
                Rejection.RECUSED,
                f"a {actor.role.value} may not {what}; allowed: {allowed}",
            )

    def _require_past_date(self, value: str, field: str) -> None:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _reject(Rejection.INVALID, f"{field}: must be a date, YYYY-MM-DD") from None
        if day > china_date(workflow.now()):
            raise _reject(Rejection.INVALID, f"{field}: lies in the future")

    def _missing(self) -> tuple[Material, ...]:
        return missing_materials(self._case.application, self._provided)

    def _household_size(self) -> int:
        if self._survey is not None:
            return len(self._survey.report.members)
        return len(self._case.application.members)

    def _proposed_amount(self) -> tuple[int, str]:
        if self._entitlement is not None:
            return self._entitlement.monthly_amount_fen, self._entitlement.category.value
        if self._township is not None and self._township.proposed_amount_fen is not None:
            category = self._assessment.category.value if self._assessment else ""
            return self._township.proposed_amount_fen, category
        if self._assessment is not None:
            return self._assessment.monthly_amount_fen, self._assessment.category.value
        return 0, ""

    async def _enter(self, stage: Stage, status: CaseStatus) -> None:
        self._seq += 1
        now = workflow.now()
        recorded: StageRecorded | None = await self._attempt(
            "record_stage",
            RecordStage(
                case_id=self._case.case_id,
                seq=self._seq,
                stage=stage,
                status=status,
                entered_at=now,
                rule_pack_id=self._case.rule_pack_id,
                working_days=self._pack.stage_working_days(stage),
            ),
            StageRecorded,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if recorded is None:  # skipped by ops: no projection row, so no deadline either
            recorded = StageRecorded(due_at=None, due_warning=None)
        self._stage, self._status, self._stage_entered_at = stage, status, now
        self._due_at, self._due_warning = recorded.due_at, recorded.due_warning
        self._recused = tuple(sorted(set(self._recused) | set(recorded.recused_staff)))
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set(stage.value),
                sa.STATUS.value_set(status.value),
                sa.DUE_AT.value_set(recorded.due_at)
                if recorded.due_at
                else sa.DUE_AT.value_unset(),
            ]
        )
        if workflow.patched("escalation"):
            self._arm_deadline(self._seq, stage, status, recorded.due_at)

    def _arm_deadline(
        self, seq: int, stage: Stage, status: CaseStatus, due_at: datetime | None
    ) -> None:
        """A durable timer on the stage's deadline; the next stage change cancels it."""
        if self._deadline_timer is not None and not self._deadline_timer.done():
            self._deadline_timer.cancel()
        self._deadline_timer = None
        if self._overdue_since is not None:
            self._overdue_since = None
            workflow.upsert_search_attributes([sa.OVERDUE.value_unset()])
        if due_at is not None and status.is_open:
            self._deadline_timer = asyncio.create_task(self._escalate(seq, stage, due_at))

    async def _escalate(self, seq: int, stage: Stage, due_at: datetime) -> None:
        delay = due_at - workflow.now()
        if delay > timedelta(0):
            await workflow.sleep(delay)
        if self._seq != seq or self._closed:
            return
        self._overdue_since = workflow.now()
        workflow.upsert_search_attributes([sa.OVERDUE.value_set(True)])
        await self._attempt(
            "record_overdue",
            RecordOverdue(
                case_id=self._case.case_id,
                step_key=f"overdue-{seq}",
                stage=stage,
                due_at=due_at,
                raised_at=self._overdue_since,
            ),
            OverdueRecorded,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )

    # --- steps that give up become incidents -------------------------------------------------

    async def _act(
        self,
        activity: str,
        arg: Any,
        result_type: type[T],
        *,
        timeout: timedelta,
        retry: RetryPolicy,
    ) -> T:
        """Run a step the case cannot do without; if it gives up, wait for ops to retry it."""
        result = await self._attempt(activity, arg, result_type, timeout=timeout, retry=retry)
        assert result is not None, f"{activity} is not skippable"
        return result

    async def _attempt(
        self,
        activity: str,
        arg: Any,
        result_type: type[T],
        *,
        timeout: timedelta,
        retry: RetryPolicy,
    ) -> T | None:
        """Run a step; if it exhausts its retries or fails for good, the case does not fail:
        it opens an incident and waits for ops to retry it (maybe with corrected input) or,
        for a step in SKIPPABLE_ACTIVITIES, to skip it (then None)."""
        while True:
            try:
                result: T = await workflow.execute_activity(
                    activity,
                    arg,
                    result_type=result_type,
                    start_to_close_timeout=timeout,
                    retry_policy=retry,
                )
                return result
            except ActivityError as err:
                if isinstance(err.cause, CancelledError) or not workflow.patched("incidents"):
                    raise
                step = str(getattr(arg, "step_key", "") or activity)
                resolution = await self._incident(activity, step, arg, err)
            if isinstance(resolution, SkipStep):
                return None
            arg = apply_corrections(arg, resolution.corrections_json)

    async def _incident(
        self, activity: str, step: str, arg: Any, err: ActivityError
    ) -> RetryStep | SkipStep:
        self._incident_no += 1
        info = workflow.info()
        incident_id = f"I-{info.run_id}-{self._incident_no}"
        cause = err.cause
        error = f"{type(cause).__name__}: {cause}" if cause is not None else str(err)
        opened: IncidentOpened = await workflow.execute_activity(
            "open_incident",
            OpenIncident(
                incident_id=incident_id,
                case_id=self._case.case_id,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                activity_id=err.activity_id,
                activity_type=activity,
                step=step,
                error=error,
                opened_at=workflow.now(),
            ),
            result_type=IncidentOpened,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.INCIDENT_RETRY,
        )
        # The stored ID: after a workflow reset it is the one the replaced run opened.
        incident_id = opened.incident_id
        self._incidents[incident_id] = IncidentRef(
            incident_id=incident_id,
            activity_type=activity,
            step=step,
            error=error,
            attempts=opened.attempts,
            opened_at=workflow.now(),
            skippable=activity in SKIPPABLE_ACTIVITIES,
            correctable_fields=correctable_fields(arg),
        )
        self._incident_inputs[incident_id] = arg
        self._mark_incidents()
        await workflow.wait_condition(lambda: incident_id in self._resolutions)
        resolution = self._resolutions[incident_id]
        await workflow.execute_activity(
            "close_incident",
            CloseIncident(
                incident_id=incident_id,
                status=FailureStatus.SKIPPED
                if isinstance(resolution, SkipStep)
                else FailureStatus.RETRIED,
                resolved_by=resolution.actor.id,
                resolution=resolution.reason,
                resolved_at=workflow.now(),
            ),
            result_type=IncidentClosed,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.INCIDENT_RETRY,
        )
        # Open until recorded as closed, so the retry/skip update answers after that.
        del self._resolutions[incident_id]
        del self._incidents[incident_id]
        del self._incident_inputs[incident_id]
        self._mark_incidents()
        return resolution

    def _stalled(self) -> bool:
        """A step gave up and waits for ops: updates answer now, showing the incident, rather
        than hold the caller until ops have acted."""
        return bool(self._incidents)

    def _mark_incidents(self) -> None:
        first = next(iter(self._incidents.values()), None)
        workflow.upsert_search_attributes(
            [sa.INCIDENT.value_set(first.activity_type) if first else sa.INCIDENT.value_unset()]
        )

    def _require_incident(self, incident_id: str, actor: Actor) -> IncidentRef:
        self._require_role(actor, OPS_ROLES, "retry or skip a failed step")
        incident = self._incidents.get(incident_id)
        if incident_id in self._resolutions:
            raise _reject(Rejection.WRONG_STAGE, f"incident {incident_id} is being resolved")
        if incident is None:
            open_ids = ", ".join(i for i in self._incidents if i not in self._resolutions)
            open_ids = open_ids or "none"
            raise _reject(
                Rejection.WRONG_STAGE,
                f"incident {incident_id} is not open on this case (open: {open_ids})",
            )
        return incident

    @workflow.update
    async def retry_step(self, request: RetryStep) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.RETRY_STEP, request, "retry-step"
        ):
            self._resolutions[request.incident_id] = request
        await workflow.wait_condition(lambda: request.incident_id not in self._incidents)
        return self.state()

    @retry_step.validator
    def _validate_retry_step(self, request: RetryStep) -> None:
        if self._seen(f"retry-step/{request.request_id}", request.actor):
            return
        self._require_incident(request.incident_id, request.actor)
        if not request.reason.strip():
            raise _reject(Rejection.INVALID, "reason: say why the step is retried")
        try:
            parse_corrections(self._incident_inputs[request.incident_id], request.corrections_json)
        except CorrectionError as err:
            raise _reject(Rejection.INVALID, str(err)) from None

    @workflow.update
    async def skip_step(self, request: SkipStep) -> CaseView:
        if await self._first_time(
            request.request_id, request.actor, AuditAction.SKIP_STEP, request, "skip-step"
        ):
            self._resolutions[request.incident_id] = request
        await workflow.wait_condition(lambda: request.incident_id not in self._incidents)
        return self.state()

    @skip_step.validator
    def _validate_skip_step(self, request: SkipStep) -> None:
        if self._seen(f"skip-step/{request.request_id}", request.actor):
            return
        incident = self._require_incident(request.incident_id, request.actor)
        if not incident.skippable:
            raise _reject(
                Rejection.WRONG_STAGE,
                f"step {incident.step} ({incident.activity_type}) cannot be skipped: the case "
                "needs its result; retry it, with corrected input if the input was wrong",
            )
        if not request.reason.strip():
            raise _reject(Rejection.INVALID, "reason: say why the step is skipped")

    async def _audit(
        self,
        step_key: str,
        actor: Actor,
        action: AuditAction,
        payload: Any,
        at: datetime | None = None,
    ) -> None:
        await self._act(
            "append_audit",
            AuditEntry(
                case_id=self._case.case_id,
                step_key=step_key,
                actor=actor,
                action=action,
                payload_sha256=payload_sha256(payload),
                at=at or workflow.now(),
            ),
            AuditRecorded,
            timeout=policies.DB_WRITE_TIMEOUT,
            retry=policies.DB_RETRY,
        )

    async def _notice(
        self,
        kind: NoticeKind,
        step_key: str,
        missing: tuple[Material, ...] = (),
        reason: str = "",
        reasons: tuple[str, ...] = (),
        certificate_no: str = "",
        monthly_amount_fen: int = 0,
        from_month: str = "",
    ) -> None:
        issued: NoticeIssued | None = await self._attempt(
            "issue_notice",
            IssueNotice(
                case_id=self._case.case_id,
                step_key=step_key,
                kind=kind,
                issued_at=workflow.now(),
                missing_materials=missing,
                reason=reason,
                reasons=reasons,
                certificate_no=certificate_no,
                monthly_amount_fen=monthly_amount_fen,
                from_month=from_month,
            ),
            NoticeIssued,
            timeout=policies.NOTICE_RENDER_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if issued is not None:  # None: skipped by ops, with the reason in the audit log
            self._notices.append(issued.notice)
