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
    from dibao.domain.enums import AuditAction, CaseStatus, NoticeKind, PostingOutcome, Stage
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
    from workflows.case_shared import SharedSteps, invalid_input, reject
    from workflows.case_state import CaseState


def unique(ids: Iterable[str]) -> tuple[str, ...]:
    """Each ID once, where it first came."""
    return tuple(dict.fromkeys(ids))


class RecipientPhase:
    """The recipient phase, on the case's state; family changes are `HouseholdChange`
    (workflows/case_household.py)."""

    def __init__(self, state: CaseState, steps: SharedSteps) -> None:
        self.state = state
        self.steps = steps

    def first_state(self) -> RecipientState:
        entitlement = self.state.entitlement
        assert entitlement is not None
        members = (
            self.state.survey.report.members
            if self.state.survey
            else self.state.case.application.members
        )
        return RecipientState(
            certificate_no=entitlement.certificate_no,
            category=entitlement.category,
            monthly_amount_fen=entitlement.monthly_amount_fen,
            area_type=self.state.case.application.area_type,
            members=members,
            cycle=1,
            next_review_on=next_review_on(
                self.state.pack, entitlement.category, china_date(workflow.now())
            ).isoformat(),
            seq=self.state.seq,
            notice_ids=unique(n.notice_id for n in self.state.notices),
            per_capita_income_fen_month=(
                self.state.assessment.per_capita_income_fen_month if self.state.assessment else 0
            ),
            single_person_count=(
                len(self.state.assessment.single_person_members) if self.state.assessment else 0
            ),
            counted_income_fen_month=(
                self.state.assessment.counted_income_fen_month if self.state.assessment else None
            ),
            ledger_month=entitlement.from_month,
            paid_from=entitlement.from_month,
        )

    async def resume(self, state: RecipientState) -> None:
        """A new run of the same case after continue-as-new: pick up where the last one ended."""
        self.state.stage, self.state.status, self.state.seq = (
            Stage.RECIPIENT,
            CaseStatus.RECEIVING,
            state.seq,
        )
        self.state.accepted = True
        self.state.handled_requests = set(state.handled_requests)
        self.state.payee = state.payee or self.state.case.application.payee
        self.state.recused = state.recused_staff
        await self.run(state)

    async def run(self, state: RecipientState) -> None:
        self.state.recipient = state
        reminded: set[str] = set()  # gradual exits the caseworker was reminded of in this run
        while True:
            state = self.state.recipient
            review_at = first_moment(state.next_review_on[:7]).replace(
                day=int(state.next_review_on[8:10])
            )
            resume_at = first_moment(state.suspended_until) if state.suspended_until else None
            exit_at = first_moment(state.gradual_exit_until) if state.gradual_exit_until else None
            # Wake for the review date (until it is due), the end of a suspension, and the end
            # of a gradual exit.
            remind_at = None  # 渐退 ends: remind the caseworker first (Art. 33)
            if exit_at is not None and state.gradual_exit_until not in reminded:
                remind_at = exit_at - timedelta(days=self.state.pack.gradual_exit_reminder_days)
            wakes = [
                t
                for t in (
                    None if self.state.review_due else review_at,
                    resume_at,
                    exit_at,
                    remind_at,
                )
                if t
            ]
            remaining = min(wakes) - workflow.now() if wakes else None
            self.state.rewake = False
            if remaining is None or remaining > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: (
                            bool(self.state.changes)
                            or self.state.review_survey is not None
                            or self.state.rewake
                            or self.state.closing()  # ops closed the case at a failed step
                        ),
                        timeout=remaining,
                    )
            self.steps.check_open()
            now = workflow.now()
            if resume_at is not None and now >= resume_at:
                self.state.changes.append(
                    PaymentChange(
                        ChangeKind.RESUME,
                        state.monthly_amount_fen,
                        state.suspended_until,
                        ("暂停期满，自动恢复发放",),
                    )
                )
            if remind_at is not None and exit_at is not None and now >= remind_at:
                reminded.add(state.gradual_exit_until)
                await self.steps.attempt(
                    case_steps.record_reminder,
                    RecordReminder(
                        case_id=self.state.case.case_id,
                        step_key=f"gradual-exit-reminder-{state.gradual_exit_until}",
                        kind="gradual_exit",
                        due_at=exit_at,
                        message=gradual_exit_reminder_text(
                            state.gradual_exit_until, self.state.pack
                        ),
                        raised_at=now,
                    ),
                )
            if exit_at is not None and now >= exit_at:
                standard = (await self.steps.standard_in_force(state.gradual_exit_until)).standard
                change = gradual_exit_end(state, self.state.pack, standard)
                self.state.claims.pop(
                    "reemployment", None
                )  # a new job may start a new gradual exit
                self.state.recipient = dataclasses.replace(
                    state,
                    gradual_exit_until="",
                    reemployment_wage_fen=0,
                    per_capita_income_fen_month=state.per_capita_income_fen_month
                    + state.reemployment_wage_fen // len(state.members),
                    counted_income_fen_month=household_income_fen(state)
                    + state.reemployment_wage_fen,
                )
                if change.kind is not ChangeKind.UNCHANGED:
                    self.state.changes.append(change)
            if now >= review_at:
                self.state.review_due = True
            while self.state.changes:
                change = self.state.changes.pop(0)
                await self.apply_change(change)
                if change.kind is ChangeKind.STOP:
                    await self.steps.enter(Stage.CLOSED, CaseStatus.EXITED)
                    self.state.closed = True
                    return
            if self.state.review_survey is not None:
                if await self.review(self.state.review_survey):
                    return
                await self.continue_as_new()
                return

    async def review(self, request: SubmitSurvey) -> bool:
        """复核: verification and recalculation on the new survey; True when benefit stopped."""
        state = self.state.recipient
        assert state is not None
        self.state.survey = request
        await self.steps.verify()
        assert self.state.assessment is not None
        assessed = self.state.assessment
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
        self.state.review_survey = None
        self.state.review_due = False
        self.state.recipient = dataclasses.replace(
            state,
            members=request.report.members,
            category=self.state.assessment.category,
            per_capita_income_fen_month=self.state.assessment.per_capita_income_fen_month,
            counted_income_fen_month=self.state.assessment.counted_income_fen_month,
            single_person_count=len(self.state.assessment.single_person_members),
            cycle=state.cycle + 1,
            next_review_on=next_review_on(
                self.state.pack, self.state.assessment.category, china_date(workflow.now())
            ).isoformat(),
        )
        if change.kind is ChangeKind.UNCHANGED:
            return False
        await self.apply_change(change)
        if change.kind is ChangeKind.STOP:
            await self.steps.enter(Stage.CLOSED, CaseStatus.EXITED)
            self.state.closed = True
            return True
        return False

    async def apply_change(self, change: PaymentChange) -> None:
        """One payment change: ledger row, reasoned notice, and a posting of at least 7 days."""
        state = self.state.recipient
        assert state is not None
        change = in_ledger_order(change, state.ledger_month)
        self.state.change_no += 1
        step = f"cycle-{state.cycle}-change-{self.state.change_no}"
        await self.steps.act(
            case_steps.record_entitlement,
            RecordEntitlement(
                case_id=self.state.case.case_id,
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
        self.state.recipient = state
        await self.steps.notice(
            NoticeKind.PAYMENT_CHANGE,
            f"{step}-notice",
            reason=change.kind.value,
            reasons=change.reasons,
            monthly_amount_fen=change.monthly_amount_fen,
            from_month=change.effective_month,
        )
        posting = await self.steps.open_posting(
            f"{step}-posting",
            Stage.RECIPIENT,
            workflow.now(),
            len(state.members),
            change.monthly_amount_fen,
            state.category.value,
        )
        # The change takes effect from its month whatever the posting brings; an objection to
        # it is handled as a new report of circumstances.
        self.state.change_posting_until = (
            workflow.now() + self.state.pack.posting_duration
        )  # 停旧建新 waits
        await workflow.sleep(self.state.pack.posting_duration)
        self.state.change_posting_until = None
        await self.steps.close_posting(posting.posting_id, PostingOutcome.COMPLETED)

    async def continue_as_new(self) -> None:
        """One review cycle per run, so the history stays bounded however many years pass."""
        state = self.state.recipient
        assert state is not None
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Anything reported while handlers finished is applied here, not lost.
        while self.state.changes:
            change = self.state.changes.pop(0)
            await self.apply_change(change)
            if change.kind is ChangeKind.STOP:
                await self.steps.enter(Stage.CLOSED, CaseStatus.EXITED)
                self.state.closed = True
                return
        state = self.state.recipient
        assert state is not None
        recent = tuple(sorted(self.state.handled_requests))[-self.state.CARRIED_REQUESTS :]
        # The legacy fields kept current too: they are what the case shows of its recipient.
        self.state.recipient = dataclasses.replace(
            state,
            seq=self.state.seq,
            handled_requests=recent,
            notice_ids=unique((*state.notice_ids, *(n.notice_id for n in self.state.notices))),
            payee=self.state.payee,
            recused_staff=self.state.recused,
        )
        # The whole state goes to the next run (a report accepted during the last posting,
        # every notice, the procedure's record), not only the recipient's part.
        workflow.continue_as_new(
            dataclasses.replace(self.state.case, recipient=None, carried=self.state.carried())
        )

    def review_slot(self) -> str:
        cycle = self.state.recipient.cycle if self.state.recipient is not None else 0
        return f"review@cycle-{cycle}"

    def require_receiving(
        self,
        actor: Actor,
        action: Action,
        what: str = "report on a recipient household",
    ) -> None:
        self.steps.require_actor(actor, action, what)
        if (
            self.state.stage is not Stage.RECIPIENT
            or self.state.closed
            or self.state.recipient is None
        ):
            raise reject(
                Rejection.WRONG_STAGE,
                f"only a household receiving benefit has this; the case is at stage "
                f"'{self.state.stage.value}'",
            )

    # --- updates: events at any time ---------------------------------------------------------

    async def report_sign_in(self, request: ReportSignIn) -> CaseView:
        def apply() -> None:
            assert self.state.recipient is not None
            # Per month: a month reported again is not counted again (it may correct the
            # first answer; both reports are in the audit log).
            outcome = record_sign_in(self.state.recipient, request.month, request.done)
            self.state.recipient = dataclasses.replace(
                self.state.recipient,
                sign_ins=outcome.sign_ins,
                missed_sign_ins=outcome.missed_sign_ins,
            )
            if outcome.change is not None:
                self.state.changes.append(outcome.change)

        return await self.steps.take(
            request,
            AuditAction.SIGN_IN,
            "sign-in",
            apply,
            check=self.validate_sign_in,
        )

    def validate_sign_in(self, request: ReportSignIn) -> None:
        self.steps.require_actor(request.actor, Action.SIGN_IN, "report on a recipient household")
        if self.steps.seen(f"sign-in/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.SIGN_IN)
        assert self.state.recipient is not None
        problem = sign_in_problem(self.state.recipient, request.month, china_date(workflow.now()))
        if problem:
            raise reject(Rejection.INVALID, problem)

    async def report_labour_absence(self, request: ReportLabourAbsence) -> CaseView:
        def apply() -> None:
            assert self.state.recipient is not None
            count, change = absence_change(
                self.state.recipient, request.justified, date.fromisoformat(request.on)
            )
            self.state.recipient = dataclasses.replace(
                self.state.recipient, unjustified_absences=count
            )
            if change is not None:
                self.state.changes.append(change)

        return await self.steps.take(
            request,
            AuditAction.LABOUR_ABSENCE,
            "absence",
            apply,
            check=self.validate_absence,
        )

    def validate_absence(self, request: ReportLabourAbsence) -> None:
        self.steps.require_actor(
            request.actor, Action.LABOUR_ABSENCE, "report on a recipient household"
        )
        if self.steps.seen(f"absence/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.LABOUR_ABSENCE)
        self.steps.require_past_date(request.on, "on")

    async def report_circumstance(self, request: ReportCircumstance) -> CaseView:
        def apply() -> None:
            if request.kind in STOPPING_CIRCUMSTANCES:
                self.state.changes.append(
                    PaymentChange(
                        ChangeKind.STOP,
                        0,
                        next_month(china_date(workflow.now())),
                        (request.details,),
                    )
                )
            else:
                # Income or household changed: re-review now rather than at the due date.
                self.state.review_due = True

        return await self.steps.take(
            request,
            AuditAction.CIRCUMSTANCE,
            "circumstance",
            apply,
            check=self.validate_circumstance,
        )

    def validate_circumstance(self, request: ReportCircumstance) -> None:
        self.steps.require_actor(
            request.actor, Action.CIRCUMSTANCE, "report on a recipient household"
        )
        if self.steps.seen(f"circumstance/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.CIRCUMSTANCE)
        if not request.details.strip():
            raise reject(Rejection.INVALID, "details: say what changed, for the notice")

    async def apply_standard(self, request: ApplyStandard) -> CaseView:
        def apply() -> None:
            state = self.state.recipient
            assert state is not None
            # Cases assessed before standards were dated data read them from their pack: there
            # the new standard becomes part of it.
            self.state.pack = dataclasses.replace(
                self.state.pack,
                urban_standard_fen_month=request.urban_standard_fen_month,
                rural_standard_fen_year=request.rural_standard_fen_year,
            )
            self.state.case = dataclasses.replace(self.state.case, rule_pack=self.state.pack)
            # From the household's latest ledger month if the change is older than it.
            month = max(request.effective_month, state.ledger_month)
            standard = dataclasses.replace(
                pack_standard(state.area_type, self.state.pack),
                from_month=request.effective_month,
                source=request.request_id,
            )
            change = standard_change(state, self.state.pack, month, standard)
            if self.state.assessment is not None and self.state.assessment.standard is not None:
                # The case shows the standard its amount is now computed on, and from when.
                self.state.assessment = dataclasses.replace(
                    self.state.assessment,
                    standard=standard,
                    assessed_month=month,
                    standard_fen_month=monthly_standard_fen(standard, self.state.pack),
                    monthly_amount_fen=change.monthly_amount_fen,
                )
            if change.kind is not ChangeKind.UNCHANGED:
                self.state.changes.append(change)

        return await self.steps.take(
            request,
            AuditAction.APPLY_STANDARD,
            "standard",
            apply,
            check=self.validate_standard,
        )

    def validate_standard(self, request: ApplyStandard) -> None:
        self.steps.require_actor(
            request.actor, Action.CHANGE_STANDARD, "apply the county's standard"
        )
        if self.steps.seen(f"standard/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.CHANGE_STANDARD, "apply the county's standard")
        problems = standard_change_problems(
            request.urban_standard_fen_month,
            request.rural_standard_fen_year,
            request.effective_month,
            self.state.pack,
            china_date(workflow.now()),
        )
        if problems:
            raise invalid_input(problems)

    async def report_reemployment(self, request: ReportReemployment) -> CaseView:
        async def apply() -> None:
            state = self.state.recipient
            assert state is not None
            until = add_months(
                next_month(date.fromisoformat(request.started_on)),
                self.state.pack.gradual_exit_months,
            )
            self.state.recipient = dataclasses.replace(
                state, gradual_exit_until=until, reemployment_wage_fen=request.monthly_wage_fen
            )
            self.state.rewake = True
            await self.steps.notice(
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

        return await self.steps.take(
            request,
            AuditAction.REEMPLOYMENT,
            "reemployment",
            apply,
            check=self.validate_reemployment,
            claim="reemployment",
        )

    def validate_reemployment(self, request: ReportReemployment) -> None:
        self.steps.require_actor(
            request.actor, Action.REEMPLOYMENT, "report on a recipient household"
        )
        if self.steps.seen(f"reemployment/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.REEMPLOYMENT)
        assert self.state.recipient is not None
        if request.member_id_number.upper() not in {
            m.id_number for m in self.state.recipient.members
        }:
            raise reject(Rejection.INVALID, "member_id_number: not a member of this household")
        if request.monthly_wage_fen <= 0:
            raise reject(Rejection.INVALID, "monthly_wage: must be more than zero")
        if self.state.recipient.gradual_exit_until:
            raise reject(
                Rejection.WRONG_STAGE,
                f"a gradual exit is already running until {self.state.recipient.gradual_exit_until}",
            )
        self.steps.require_unclaimed("reemployment", "a gradual exit was already reported")
        self.steps.require_past_date(request.started_on, "started_on")

    async def report_work_refusal(self, request: ReportWorkRefusal) -> CaseView:
        def apply() -> None:
            state = self.state.recipient
            assert state is not None
            if not request.justified:
                member = request.member_id_number.upper()
                counts, change = work_refusal_change(
                    state, self.state.pack, member, date.fromisoformat(request.on)
                )
                stopped = state.portion_stopped + ((member,) if change else ())
                self.state.recipient = dataclasses.replace(
                    state, work_refusals=counts, portion_stopped=stopped
                )
                if change is not None:
                    self.state.changes.append(change)

        return await self.steps.take(
            request,
            AuditAction.WORK_REFUSAL,
            "work-refusal",
            apply,
            check=self.validate_work_refusal,
        )

    def validate_work_refusal(self, request: ReportWorkRefusal) -> None:
        self.steps.require_actor(
            request.actor, Action.WORK_REFUSAL, "report on a recipient household"
        )
        if self.steps.seen(f"work-refusal/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.WORK_REFUSAL)
        assert self.state.recipient is not None
        if request.member_id_number.upper() not in {
            m.id_number for m in self.state.recipient.members
        }:
            raise reject(Rejection.INVALID, "member_id_number: not a member of this household")
        self.steps.require_past_date(request.on, "on")

    async def submit_review(self, request: SubmitSurvey) -> CaseView:
        def apply() -> None:
            self.state.review_survey = request

        return await self.steps.take(
            request,
            AuditAction.REVIEW,
            "review",
            apply,
            check=self.validate_review,
            claim=self.review_slot(),
            answer_when=lambda: self.state.review_survey is None,
        )

    def validate_review(self, request: SubmitSurvey) -> None:
        self.steps.require_actor(request.actor, Action.REVIEW, "submit a re-review")
        if self.steps.seen(f"review/{request.request_id}", request.actor):
            return
        self.require_receiving(request.actor, Action.REVIEW, "submit a re-review")
        if not self.state.review_due:
            assert self.state.recipient is not None
            raise reject(
                Rejection.WRONG_STAGE,
                f"no re-review is due; the next is on {self.state.recipient.next_review_on}. A "
                "review becomes due on that date, or at once when a change of income or "
                "household is reported (circumstance income_change or members_change)",
            )
        if self.state.review_survey is not None:
            raise reject(Rejection.WRONG_STAGE, "a re-review survey is already being processed")
        self.steps.require_unclaimed(
            self.review_slot(), "a re-review survey of this cycle was already submitted"
        )
        self.steps.require_no_recused_investigator(request.report.investigators)
        errors = validate_survey(request.report, china_date(workflow.now()))
        if errors:
            raise invalid_input(errors)
