"""The recipient phase of a case (动态管理): re-reviews, events, payment changes, and a
continue-as-new per review cycle so the history stays bounded."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.actions import Action
    from dibao.domain.calendar import china_date
    from dibao.domain.eligibility import monthly_standard_fen
    from dibao.domain.enums import (
        AuditAction,
        CaseStatus,
        NoticeKind,
        PostingOutcome,
        Stage,
    )
    from dibao.domain.measures import RecordReminder, gradual_exit_reminder_text
    from dibao.domain.money import format_yuan
    from dibao.domain.recipient import (
        STOPPING_CIRCUMSTANCES,
        ChangeKind,
        PaymentChange,
        RecipientState,
        absence_change,
        add_months,
        first_moment,
        gradual_exit_end,
        household_income_fen,
        in_ledger_order,
        next_month,
        next_review_on,
        record_sign_in,
        review_change,
        sign_in_problem,
        standard_change,
        work_refusal_change,
    )
    from dibao.domain.standards import pack_standard, standard_change_problems
    from dibao.domain.survey import validate_survey
    from dibao.messages.case import (
        Actor,
        ApplyStandard,
        CaseView,
        RecordEntitlement,
        Rejection,
        ReportCircumstance,
        ReportLabourAbsence,
        ReportReemployment,
        ReportSignIn,
        ReportWorkRefusal,
        SubmitSurvey,
    )
    from workflows import case_steps
    from workflows.action_updates import action_update
    from workflows.case_household import HouseholdChanges
    from workflows.case_state import (
        invalid_input,
        reject,
    )


def unique(ids: Iterable[str]) -> tuple[str, ...]:
    """Each ID once, where it first came."""
    return tuple(dict.fromkeys(ids))


class RecipientPhase(HouseholdChanges):  # family changes: workflows/case_household.py
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
            notice_ids=unique(n.notice_id for n in self._notices),
            per_capita_income_fen_month=(
                self._assessment.per_capita_income_fen_month if self._assessment else 0
            ),
            single_person_count=(
                len(self._assessment.single_person_members) if self._assessment else 0
            ),
            counted_income_fen_month=(
                self._assessment.counted_income_fen_month if self._assessment else None
            ),
            ledger_month=entitlement.from_month,
            paid_from=entitlement.from_month,
        )

    async def _resume_recipient(self, state: RecipientState) -> None:
        """A new run of the same case after continue-as-new: pick up where the last one ended."""
        self._stage, self._status, self._seq = Stage.RECIPIENT, CaseStatus.RECEIVING, state.seq
        self._accepted = True
        self._handled_requests = set(state.handled_requests)
        self._payee = state.payee or self._case.application.payee
        self._recused = state.recused_staff
        await self._recipient_phase(state)

    async def _recipient_phase(self, state: RecipientState) -> None:
        self._recipient = state
        reminded: set[str] = set()  # gradual exits the caseworker was reminded of in this run
        while True:
            state = self._recipient
            review_at = first_moment(state.next_review_on[:7]).replace(
                day=int(state.next_review_on[8:10])
            )
            resume_at = first_moment(state.suspended_until) if state.suspended_until else None
            exit_at = first_moment(state.gradual_exit_until) if state.gradual_exit_until else None
            # Wake for the review date (until it is due), the end of a suspension, and the end
            # of a gradual exit.
            remind_at = None  # 渐退 ends: remind the caseworker first (Art. 33)
            if exit_at is not None and state.gradual_exit_until not in reminded:
                remind_at = exit_at - timedelta(days=self._pack.gradual_exit_reminder_days)
            wakes = [
                t
                for t in (None if self._review_due else review_at, resume_at, exit_at, remind_at)
                if t
            ]
            remaining = min(wakes) - workflow.now() if wakes else None
            self._rewake = False
            if remaining is None or remaining > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: (
                            bool(self._changes)
                            or self._review_survey is not None
                            or self._rewake
                            or self._closing()  # ops closed the case at a failed step
                        ),
                        timeout=remaining,
                    )
            self._check_open()
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
            if remind_at is not None and exit_at is not None and now >= remind_at:
                reminded.add(state.gradual_exit_until)
                await self._attempt(
                    case_steps.record_reminder,
                    RecordReminder(
                        case_id=self._case.case_id,
                        step_key=f"gradual-exit-reminder-{state.gradual_exit_until}",
                        kind="gradual_exit",
                        due_at=exit_at,
                        message=gradual_exit_reminder_text(state.gradual_exit_until, self._pack),
                        raised_at=now,
                    ),
                )
            if exit_at is not None and now >= exit_at:
                standard = (await self._standard_in_force(state.gradual_exit_until)).standard
                change = gradual_exit_end(state, self._pack, standard)
                self._claims.pop("reemployment", None)  # a new job may start a new gradual exit
                self._recipient = dataclasses.replace(
                    state,
                    gradual_exit_until="",
                    reemployment_wage_fen=0,
                    per_capita_income_fen_month=state.per_capita_income_fen_month
                    + state.reemployment_wage_fen // len(state.members),
                    counted_income_fen_month=household_income_fen(state)
                    + state.reemployment_wage_fen,
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
            counted_income_fen_month=self._assessment.counted_income_fen_month,
            single_person_count=len(self._assessment.single_person_members),
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
        change = in_ledger_order(change, state.ledger_month)
        self._change_no += 1
        step = f"cycle-{state.cycle}-change-{self._change_no}"
        await self._act(
            case_steps.record_entitlement,
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
        )
        if change.kind is ChangeKind.SUSPEND:
            state = dataclasses.replace(
                state, suspended_until=add_months(change.effective_month, 3)
            )
        elif change.kind is ChangeKind.RESUME:
            state = dataclasses.replace(state, suspended_until="")
        elif change.kind in (ChangeKind.INCREASE, ChangeKind.DECREASE):
            state = dataclasses.replace(state, monthly_amount_fen=change.monthly_amount_fen)
        state = dataclasses.replace(state, ledger_month=change.effective_month)
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
        self._change_posting_until = workflow.now() + self._pack.posting_duration  # 停旧建新 waits
        await workflow.sleep(self._pack.posting_duration)
        self._change_posting_until = None
        await self._close_posting(posting.posting_id, PostingOutcome.COMPLETED)

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
        recent = tuple(sorted(self._handled_requests))[-self.CARRIED_REQUESTS :]
        # The legacy fields kept current too: they are what the case shows of its recipient.
        self._recipient = dataclasses.replace(
            state,
            seq=self._seq,
            handled_requests=recent,
            notice_ids=unique((*state.notice_ids, *(n.notice_id for n in self._notices))),
            payee=self._payee,
            recused_staff=self._recused,
        )
        # The whole state goes to the next run (a report accepted during the last posting,
        # every notice, the procedure's record), not only the recipient's part.
        workflow.continue_as_new(
            dataclasses.replace(self._case, recipient=None, carried=self._carry())
        )

    def _review_slot(self) -> str:
        cycle = self._recipient.cycle if self._recipient is not None else 0
        return f"review@cycle-{cycle}"

    def _require_receiving(
        self,
        actor: Actor,
        action: Action,
        what: str = "report on a recipient household",
    ) -> None:
        self._require_actor(actor, action, what)
        if self._stage is not Stage.RECIPIENT or self._closed or self._recipient is None:
            raise reject(
                Rejection.WRONG_STAGE,
                f"only a household receiving benefit has this; the case is at stage "
                f"'{self._stage.value}'",
            )

    # --- updates: events at any time ---------------------------------------------------------

    @action_update(Action.SIGN_IN)
    async def report_sign_in(self, request: ReportSignIn) -> CaseView:
        def apply() -> None:
            assert self._recipient is not None
            # Per month: a month reported again is not counted again (it may correct the
            # first answer; both reports are in the audit log).
            outcome = record_sign_in(self._recipient, request.month, request.done)
            self._recipient = dataclasses.replace(
                self._recipient,
                sign_ins=outcome.sign_ins,
                missed_sign_ins=outcome.missed_sign_ins,
            )
            if outcome.change is not None:
                self._changes.append(outcome.change)

        return await self._take(
            request,
            AuditAction.SIGN_IN,
            "sign-in",
            apply,
            check=self._validate_sign_in,
        )

    @report_sign_in.validator
    def _validate_sign_in(self, request: ReportSignIn) -> None:
        self._require_actor(request.actor, Action.SIGN_IN, "report on a recipient household")
        if self._seen(f"sign-in/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor, Action.SIGN_IN)
        assert self._recipient is not None
        problem = sign_in_problem(self._recipient, request.month, china_date(workflow.now()))
        if problem:
            raise reject(Rejection.INVALID, problem)

    @action_update(Action.LABOUR_ABSENCE)
    async def report_labour_absence(self, request: ReportLabourAbsence) -> CaseView:
        def apply() -> None:
            assert self._recipient is not None
            count, change = absence_change(
                self._recipient, request.justified, date.fromisoformat(request.on)
            )
            self._recipient = dataclasses.replace(self._recipient, unjustified_absences=count)
            if change is not None:
                self._changes.append(change)

        return await self._take(
            request,
            AuditAction.LABOUR_ABSENCE,
            "absence",
            apply,
            check=self._validate_absence,
        )

    @report_labour_absence.validator
    def _validate_absence(self, request: ReportLabourAbsence) -> None:
        self._require_actor(request.actor, Action.LABOUR_ABSENCE, "report on a recipient household")
        if self._seen(f"absence/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor, Action.LABOUR_ABSENCE)
        self._require_past_date(request.on, "on")

    @action_update(Action.CIRCUMSTANCE)
    async def report_circumstance(self, request: ReportCircumstance) -> CaseView:
        def apply() -> None:
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

        return await self._take(
            request,
            AuditAction.CIRCUMSTANCE,
            "circumstance",
            apply,
            check=self._validate_circumstance,
        )

    @report_circumstance.validator
    def _validate_circumstance(self, request: ReportCircumstance) -> None:
        self._require_actor(request.actor, Action.CIRCUMSTANCE, "report on a recipient household")
        if self._seen(f"circumstance/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor, Action.CIRCUMSTANCE)
        if not request.details.strip():
            raise reject(Rejection.INVALID, "details: say what changed, for the notice")

    @workflow.update
    async def apply_standard(self, request: ApplyStandard) -> CaseView:
        def apply() -> None:
            state = self._recipient
            assert state is not None
            # Cases assessed before standards were dated data read them from their pack: there
            # the new standard becomes part of it.
            self._pack = dataclasses.replace(
                self._pack,
                urban_standard_fen_month=request.urban_standard_fen_month,
                rural_standard_fen_year=request.rural_standard_fen_year,
            )
            self._case = dataclasses.replace(self._case, rule_pack=self._pack)
            # From the household's latest ledger month if the change is older than it.
            month = max(request.effective_month, state.ledger_month)
            standard = dataclasses.replace(
                pack_standard(state.area_type, self._pack),
                from_month=request.effective_month,
                source=request.request_id,
            )
            change = standard_change(state, self._pack, month, standard)
            if self._assessment is not None and self._assessment.standard is not None:
                # The case shows the standard its amount is now computed on, and from when.
                self._assessment = dataclasses.replace(
                    self._assessment,
                    standard=standard,
                    assessed_month=month,
                    standard_fen_month=monthly_standard_fen(standard, self._pack),
                    monthly_amount_fen=change.monthly_amount_fen,
                )
            if change.kind is not ChangeKind.UNCHANGED:
                self._changes.append(change)

        return await self._take(
            request,
            AuditAction.APPLY_STANDARD,
            "standard",
            apply,
            check=self._validate_standard,
        )

    @apply_standard.validator
    def _validate_standard(self, request: ApplyStandard) -> None:
        self._require_actor(request.actor, Action.CHANGE_STANDARD, "apply the county's standard")
        if self._seen(f"standard/{request.request_id}", request.actor):
            return
        self._require_receiving(
            request.actor, Action.CHANGE_STANDARD, "apply the county's standard"
        )
        problems = standard_change_problems(
            request.urban_standard_fen_month,
            request.rural_standard_fen_year,
            request.effective_month,
            self._pack,
            china_date(workflow.now()),
        )
        if problems:
            raise invalid_input(problems)

    @action_update(Action.REEMPLOYMENT)
    async def report_reemployment(self, request: ReportReemployment) -> CaseView:
        async def apply() -> None:
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
                    f"家庭成员就业，月工资 {format_yuan(request.monthly_wage_fen)} 元；"
                    f"渐退期内不计入家庭收入，自 {until} 起计入并重新核定保障金额",
                ),
                monthly_amount_fen=state.monthly_amount_fen,
                from_month=until,
            )

        return await self._take(
            request,
            AuditAction.REEMPLOYMENT,
            "reemployment",
            apply,
            check=self._validate_reemployment,
            claim="reemployment",
        )

    @report_reemployment.validator
    def _validate_reemployment(self, request: ReportReemployment) -> None:
        self._require_actor(request.actor, Action.REEMPLOYMENT, "report on a recipient household")
        if self._seen(f"reemployment/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor, Action.REEMPLOYMENT)
        assert self._recipient is not None
        if request.member_id_number.upper() not in {m.id_number for m in self._recipient.members}:
            raise reject(Rejection.INVALID, "member_id_number: not a member of this household")
        if request.monthly_wage_fen <= 0:
            raise reject(Rejection.INVALID, "monthly_wage: must be more than zero")
        if self._recipient.gradual_exit_until:
            raise reject(
                Rejection.WRONG_STAGE,
                f"a gradual exit is already running until {self._recipient.gradual_exit_until}",
            )
        self._require_unclaimed("reemployment", "a gradual exit was already reported")
        self._require_past_date(request.started_on, "started_on")

    @action_update(Action.WORK_REFUSAL)
    async def report_work_refusal(self, request: ReportWorkRefusal) -> CaseView:
        def apply() -> None:
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

        return await self._take(
            request,
            AuditAction.WORK_REFUSAL,
            "work-refusal",
            apply,
            check=self._validate_work_refusal,
        )

    @report_work_refusal.validator
    def _validate_work_refusal(self, request: ReportWorkRefusal) -> None:
        self._require_actor(request.actor, Action.WORK_REFUSAL, "report on a recipient household")
        if self._seen(f"work-refusal/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor, Action.WORK_REFUSAL)
        assert self._recipient is not None
        if request.member_id_number.upper() not in {m.id_number for m in self._recipient.members}:
            raise reject(Rejection.INVALID, "member_id_number: not a member of this household")
        self._require_past_date(request.on, "on")

    @action_update(Action.REVIEW)
    async def submit_review(self, request: SubmitSurvey) -> CaseView:
        def apply() -> None:
            self._review_survey = request

        return await self._take(
            request,
            AuditAction.REVIEW,
            "review",
            apply,
            check=self._validate_review,
            claim=self._review_slot(),
            answer_when=lambda: self._review_survey is None,
        )

    @submit_review.validator
    def _validate_review(self, request: SubmitSurvey) -> None:
        self._require_actor(request.actor, Action.REVIEW, "submit a re-review")
        if self._seen(f"review/{request.request_id}", request.actor):
            return
        self._require_receiving(request.actor, Action.REVIEW, "submit a re-review")
        if not self._review_due:
            assert self._recipient is not None
            raise reject(
                Rejection.WRONG_STAGE,
                f"no re-review is due; the next is on {self._recipient.next_review_on}. A "
                "review becomes due on that date, or at once when a change of income or "
                "household is reported (circumstance income_change or members_change)",
            )
        if self._review_survey is not None:
            raise reject(Rejection.WRONG_STAGE, "a re-review survey is already being processed")
        self._require_unclaimed(
            self._review_slot(), "a re-review survey of this cycle was already submitted"
        )
        self._require_no_recused_investigator(request.report.investigators)
        errors = validate_survey(request.report, china_date(workflow.now()))
        if errors:
            raise invalid_input(errors)
