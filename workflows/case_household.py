"""Family changes of a recipient household (动态管理): the `report_household_change` update.

The rules are dibao/domain/household_change.py; this applies them: the household is
assessed again as it now is, and the payment change it causes goes the way of every payment
change of the recipient phase (ledger entry, reasoned notice, posting of at least 7 days;
001 陕西 第十条(四)). When the head leaves and the office opens a linked new case (停旧建新),
this case stops and records which case continues it; the API starts that case.
"""

from __future__ import annotations

import dataclasses

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.actions import Action
    from dibao.domain.application import payee_holder_problems
    from dibao.domain.calendar import china_date
    from dibao.domain.eligibility import assess, household_facts
    from dibao.domain.enums import AuditAction, NoticeKind, Stage
    from dibao.domain.household_change import (
        RecordHousehold,
        ReportHouseholdChange,
        Successor,
        changed_facts,
        changed_members,
        effective_month,
        household_change_problems,
        household_decision,
        successor_case_id,
    )
    from dibao.domain.recipient import ChangeKind
    from dibao.messages.case import CaseView, Rejection
    from workflows import household_steps
    from workflows.case_shared import SharedSteps, invalid_input, reject
    from workflows.case_state import CaseState


PAYEE_LEFT = "原收款账户的开户人已不是本户共同生活的家庭成员，请及时到乡镇（街道）登记新的收款账户"


class HouseholdChange:
    """A family change reported on a recipient household, on the case's state."""

    def __init__(self, state: CaseState, steps: SharedSteps) -> None:
        self.state = state
        self.steps = steps

    async def report_household_change(self, request: ReportHouseholdChange) -> CaseView:
        async def apply() -> None:
            state = self.state.recipient
            assert state is not None
            change = request.change
            today = china_date(workflow.now())
            month = effective_month(change, state, today)
            members = changed_members(state.members, change)
            survey = self.state.survey.report if self.state.survey else None
            records = self.state.verification.records if self.state.verification else ()
            facts = changed_facts(
                household_facts(self.state.case.application, survey, records), members, change
            )
            found = await self.steps.standard_in_force(month)
            assessment = assess(facts, self.state.pack, found.standard, found.month)
            decision = household_decision(state, state.members, change, assessment, month)
            # The file first: the change's notice and posting address the household's head.
            await self.steps.act(
                household_steps.record_household,
                RecordHousehold(
                    case_id=self.state.case.case_id,
                    step_key=f"household-change-{request.request_id}",
                    event=change.event,
                    on=change.on,
                    members=members,
                    recorded_at=workflow.now(),
                    moves_head=not decision.closes_case,
                ),
            )
            if self.state.payee is not None and payee_holder_problems(self.state.payee, members):
                # The account's holder left (died, moved): the office records another.
                change_ = decision.change
                decision = dataclasses.replace(
                    decision,
                    change=dataclasses.replace(change_, reasons=(*change_.reasons, PAYEE_LEFT)),
                )
            kept = {m.id_number for m in members}
            self.state.assessment = assessment
            self.state.recipient = dataclasses.replace(
                state,
                members=members,
                category=assessment.category,
                per_capita_income_fen_month=assessment.per_capita_income_fen_month,
                counted_income_fen_month=assessment.counted_income_fen_month,
                single_person_count=len(assessment.single_person_members),
                portion_stopped=tuple(m for m in state.portion_stopped if m in kept),
                work_refusals=tuple(w for w in state.work_refusals if w[0] in kept),
            )
            if decision.closes_case:
                self.state.recipient = dataclasses.replace(
                    self.state.recipient,
                    successor_case_id=successor_case_id(
                        self.state.case.case_id, request.request_id
                    ),
                    successor_from_month=month,
                    successor_amount_fen=decision.successor_amount_fen,
                )
            if decision.change.kind is ChangeKind.UNCHANGED:
                # The amount stays, the household changed: the family is told so in writing.
                await self.steps.notice(
                    NoticeKind.PAYMENT_CHANGE,
                    f"household-change-{request.request_id}",
                    reason=ChangeKind.UNCHANGED.value,
                    reasons=decision.change.reasons,
                    monthly_amount_fen=decision.change.monthly_amount_fen,
                    from_month=month,
                )
            else:
                self.state.changes.append(decision.change)

        return await self.steps.take(
            request,
            AuditAction.HOUSEHOLD_CHANGE,
            "household-change",
            apply,
            check=self.validate_household_change,
        )

    def validate_household_change(self, request: ReportHouseholdChange) -> None:
        what = "report on a recipient household"
        self.steps.require_actor(request.actor, Action.HOUSEHOLD_CHANGE, what)
        if self.steps.seen(f"household-change/{request.request_id}", request.actor):
            return
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
        if self.state.recipient.successor_case_id:
            raise reject(
                Rejection.WRONG_STAGE,
                f"this case is continued by case {self.state.recipient.successor_case_id} "
                "(停旧建新); report the change there",
            )
        if any(c.kind is ChangeKind.STOP for c in self.state.changes):
            raise reject(Rejection.WRONG_STAGE, "the household's benefit is being stopped")
        busy = self.state.changes or self.state.change_posting_until is not None
        if request.change.successor is Successor.NEW_CASE and busy:
            # The new case is paid from the month this one stops; this one's stop must be in
            # the ledger first, or that month would be paid by both.
            until = self.state.change_posting_until
            raise reject(
                Rejection.WRONG_STAGE,
                "a payment change of this case is being posted"
                + (f" until {until.date().isoformat()}" if until else "")
                + "; open the linked new case (停旧建新) after it, or name the new head on this "
                "case now",
            )
        errors = household_change_problems(
            self.state.recipient.members, request.change, china_date(workflow.now())
        )
        if errors:
            raise invalid_input(errors)
