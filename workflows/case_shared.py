"""SharedSteps: the steps every phase of a case workflow uses, on its one CaseState.

Stage changes (one transition each), the deadline watcher, notices and audit entries, the
checks every update makes, the one helper every caseworker update goes through (`take`:
validate again, first time only, audit, apply, answer), and incidents. The steps that touch
the world go through `act` / `attempt`, so a step that gives up becomes an incident for ops
(retry, maybe corrected, skip, or close the case) instead of failing the case.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as StepTimeout

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.access import place_denial
    from dibao.domain.actions import Action
    from dibao.domain.application import FieldError
    from dibao.domain.calendar import china_date
    from dibao.domain.eligibility import HouseholdFacts, assess, household_facts
    from dibao.domain.enums import (
        AuditAction,
        CaseStatus,
        Material,
        NoticeKind,
        PostingOutcome,
        Role,
        Stage,
    )
    from dibao.domain.hashing import payload_sha256
    from dibao.domain.ops import (
        SKIPPABLE_ACTIVITIES,
        CloseIncident,
        CorrectionError,
        FailureStatus,
        IncidentOpened,
        IncidentRef,
        OpenIncident,
        RecordOverdue,
        apply_corrections,
        correctable_fields,
        incident_options,
        parse_corrections,
    )
    from dibao.domain.procedure import POSTING_STAGES, payment_start_month
    from dibao.domain.recipient import next_month
    from dibao.domain.stages import STAGES, roles_for, stage_entry, stages_accepting
    from dibao.domain.standards import StandardInForce, StandardQuery
    from dibao.domain.verification import VerifyHousehold
    from dibao.messages.case import (
        ASSESSED_NOTICES,
        Actor,
        AuditEntry,
        CaseView,
        CertificateIssued,
        CloseCase,
        ClosePosting,
        DrawSpotCheck,
        Entitlement,
        ExtendDeadline,
        IssueCertificate,
        IssueNotice,
        NoticeIssued,
        NoticeRef,
        OpenPosting,
        PostingClosed,
        PostingRef,
        ProcedureDeadline,
        ProcedureView,
        RecordApproval,
        RecordProcedureDeadline,
        RecordProcedureOverdue,
        RecordStage,
        RecordTransition,
        RecuseStaff,
        Rejection,
        RetryStep,
        SkipStep,
        StageRecorded,
        Terminate,
        TransitionRecorded,
    )
    from workflows import case_steps, policies
    from workflows import search_attributes as sa
    from workflows.case_state import CaseState


# Arts. 11, 20 (mca-2021): the county visits the household of a registered relative itself.
RECUSAL_VISIT_REASON = "近亲属备案：须由县级民政部门入户核查"

T = TypeVar("T")
A = TypeVar("A")


def reject(kind: Rejection, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


def invalid_input(errors: list[FieldError]) -> ApplicationError:
    first = errors[0]
    path = ".".join(str(p) for p in first.path)
    more = (
        f" (and {len(errors) - 1} more: "
        + "; ".join(".".join(str(p) for p in e.path) + ": " + e.message for e in errors[1:])
        + ")"
        if len(errors) > 1
        else ""
    )
    return reject(Rejection.INVALID, f"{path}: {first.message}{more}")


@dataclasses.dataclass(frozen=True)
class Failed:
    """A step that gave up, as an incident records it: a regular activity's error wraps its
    cause and names the activity; a local activity's error is the cause itself."""

    activity_id: str
    cause: BaseException | None
    message: str


class CaseClosing(Exception):
    """Raised inside the main line when a withdrawal or termination arrives mid-procedure."""


class SharedSteps:
    """The steps of every phase, on the case's one state (which they read and change)."""

    def __init__(self, state: CaseState) -> None:
        self.state = state

    async def open_posting(
        self, step_key: str, stage: Stage, opens: datetime, size: int, amount: int, category: str
    ) -> PostingRef:
        ref: PostingRef = await self.act(
            case_steps.open_posting,
            OpenPosting(
                case_id=self.state.case.case_id,
                step_key=step_key,
                stage=stage,
                opens_at=opens,
                closes_at=opens + self.state.pack.posting_duration,
                household_size=size,
                monthly_amount_fen=amount,
                category=category,
            ),
        )
        return ref

    async def close_posting(self, posting_id: str, outcome: PostingOutcome) -> PostingOutcome:
        """Close a posting; a posting closed before keeps its first outcome (returned)."""
        closed: PostingClosed = await self.act(
            case_steps.close_posting,
            ClosePosting(
                case_id=self.state.case.case_id,
                posting_id=posting_id,
                outcome=outcome,
                closed_at=workflow.now(),
            ),
        )
        return closed.outcome

    # --- the state query -------------------------------------------------------------------

    def view(self) -> CaseView:
        return CaseView(
            case_id=self.state.case.case_id,
            stage=self.state.stage,
            status=self.state.status,
            rule_pack_id=self.state.case.rule_pack_id,
            rule_pack_version=self.state.case.rule_pack_version,
            application=self.state.case.application,
            filed_at=self.state.case.filed_at,
            stage_entered_at=self.state.stage_entered_at,
            due_at=self.state.due_at,
            due_warning=self.state.due_warning,
            provided_materials=tuple(sorted(self.state.provided)),
            missing_materials=self.state.missing(),
            notices=tuple(self.state.notices),
            withdrawal_reason=self.state.withdrawal.reason if self.state.withdrawal else None,
            procedure=ProcedureView(
                survey=self.state.survey.report if self.state.survey else None,
                verification=self.state.verification,
                assessment=self.state.assessment,
                evaluation=self.state.evaluation,
                township_review=self.state.township,
                county_visit_required=bool(self.state.visit_reasons),
                county_visit_reasons=tuple(self.state.visit_reasons),
                county_visit=self.state.county_visit,
                decision=self.state.decision,
                entitlement=self.state.entitlement,
                postings=tuple(self.state.postings),
                objections=tuple(self.state.objections),
                recused_staff=self.state.recused,
                closure_reason=(
                    self.state.termination.reason
                    if self.state.termination
                    else self.state.withdrawal.reason
                    if self.state.withdrawal
                    else None
                ),
                waiting_for=self.waiting_for(),
            ),
            recipient=self.state.recipient,
            review_due=self.state.review_due,
            overdue_since=self.state.overdue_since,
            payee=self.state.payee,
            incidents=tuple(self.state.incidents.values()),
            procedure_working_days=self.state.procedure_days,
            procedure_due_at=self.state.procedure_due.due_at if self.state.procedure_due else None,
            procedure_due_warning=self.state.procedure_due.due_warning
            if self.state.procedure_due
            else None,
            procedure_extension_reason=self.state.extension.reason
            if self.state.extension
            else None,
            procedure_overdue_since=self.state.procedure_overdue_since,
        )

    def waiting_for(self) -> str:
        if self.state.incidents:
            incident = next(iter(self.state.incidents.values()))
            return f"运维处理 (ops: step {incident.step} failed, incident {incident.incident_id})"
        if self.state.closed:
            return ""
        if self.state.stage is Stage.RECIPIENT and self.state.recipient is not None:
            if self.state.review_due:
                return "复核入户调查 (village/township caseworkers: re-review survey)"
            return f"动态管理，下次复核 {self.state.recipient.next_review_on} (recipient)"
        return stage_entry(self.state.stage, self.state.pack).waits_for

    # --- recusal (近亲属备案) ------------------------------------------------------------------

    def recuse(self, notice: RecuseStaff) -> None:
        """A relative registered while the case is open: the staff recuse from now on (their
        actions, and surveys naming them as investigators, are refused), not from the next
        stage change. PostgreSQL holds the registration; this keeps the workflow's own checks
        in step with it."""
        self.state.recused = tuple(sorted(set(self.state.recused) | set(notice.staff_ids)))
        if (
            self.state.stage is Stage.COUNTY_APPROVAL
            and self.state.decision is None
            and RECUSAL_VISIT_REASON not in self.state.visit_reasons
        ):
            self.state.visit_reasons.append(RECUSAL_VISIT_REASON)

    def require_no_recused_investigator(self, investigators: tuple[str, ...]) -> None:
        recused = [i for i in investigators if i in self.state.recused]
        if recused:
            raise reject(
                Rejection.RECUSED,
                f"investigator {recused[0]} is a registered near relative of this household",
            )

    # --- helpers ---------------------------------------------------------------------------

    def seen(self, key: str, actor: Actor) -> bool:
        """A repeated request (same action, same request ID) answers again without a second
        effect and without validation: the stage may have moved on since the first."""
        if actor.id in self.state.recused and key not in self.state.handled_requests:
            raise reject(
                Rejection.RECUSED,
                f"{actor.id} is registered as a near relative of this household and must recuse",
            )
        return key in self.state.handled_requests

    async def first_time(
        self,
        request_id: str,
        actor: Actor,
        action: AuditAction,
        payload: Any,
        prefix: str,
        claim: str = "",
    ) -> bool:
        key = f"{prefix}/{request_id}"
        if key in self.state.handled_requests:
            return False
        # Both before the audit's await, so an update handled alongside sees them.
        self.state.handled_requests.add(key)
        if claim:
            self.state.claims[claim] = key
        await self.audit(key, actor, action, payload)
        return True

    async def take(
        self,
        request: Any,
        action: AuditAction,
        prefix: str,
        apply: Callable[[], Awaitable[None] | None],
        *,
        check: Callable[[Any], None],
        claim: str = "",
        answer_when: Callable[[], bool] | None = None,
        moves: Callable[[], bool] | None = None,
    ) -> CaseView:
        """The steps every caseworker update shares: its validator again (`recheck`), then,
        the first time of its request ID only, the audit entry and the effect (`apply`); it
        answers the state once the audit entry is written (and `answer_when` holds, when
        given). `claim` names the stage's step the request answers (the first accepted one of
        a stage wins). `moves`: whether the applied action moves the case to its next stage;
        then its audit entry is written with that stage change, in one transaction, and the
        update answers as soon as that is written, not after the next stage's steps."""
        self.recheck(check, request)
        key = f"{prefix}/{request.request_id}"
        if moves is None:
            if await self.first_time(
                request.request_id, request.actor, action, request, prefix, claim=claim
            ):
                done = apply()
                if done is not None:
                    await done
        elif key not in self.state.handled_requests:
            self.state.handled_requests.add(key)
            if claim:
                self.state.claims[claim] = key
            entry = AuditEntry(
                case_id=self.state.case.case_id,
                step_key=key,
                actor=request.actor,
                action=action,
                payload_sha256=payload_sha256(request),
                at=workflow.now(),
            )
            done = apply()
            assert done is None, "an action that moves the case applies at once"
            if moves():
                self.state.pending_audits.append(entry)
                self.state.unrecorded.add(key)
            else:
                await self.write_audit(entry)
        await self.answer_when(
            lambda: key not in self.state.unrecorded and (answer_when is None or answer_when())
        )
        return self.view()

    def recheck(self, validator: Callable[[T], None], request: T) -> None:
        """Validate again in the handler, before its first await. Validators of updates that
        arrive in one workflow task all run before any handler, so each may pass (two
        opposite opinions, ten evaluations); the handler sees what the ones before it claimed."""
        validator(request)

    def require_unclaimed(self, slot: str, message: str) -> None:
        if slot in self.state.claims:
            raise reject(Rejection.WRONG_STAGE, message)

    def check_open(self) -> None:
        if self.state.closing():
            raise CaseClosing()

    async def until(self, condition: Callable[[], bool]) -> None:
        await workflow.wait_condition(lambda: condition() or self.state.closing())
        self.check_open()

    def require_open(self) -> None:
        if self.state.closing() or self.state.closed:
            raise reject(Rejection.WRONG_STAGE, f"the case is closed ({self.state.status.value})")

    def require_withdrawable(self) -> None:
        self.require_open()
        self.require_unclaimed(
            "closing", "a withdrawal or termination of this case was already accepted"
        )
        if self.state.stage is Stage.RECIPIENT or self.state.entitlement is not None:
            raise reject(
                Rejection.WRONG_STAGE,
                "the case is approved; ending benefit is a payment change, not a withdrawal",
            )

    def require_stage(self, action: Action) -> None:
        """The case is open and its stage accepts the action (the stage table's entry)."""
        self.require_open()
        if action not in STAGES[self.state.stage].accepts:
            stage = stages_accepting(action)[0]
            raise reject(
                Rejection.WRONG_STAGE,
                f"this action belongs to stage '{stage.value}'; "
                f"the case is at stage '{self.state.stage.value}'",
            )

    def require_actor(self, actor: Actor, action: Action, what: str) -> None:
        """The actor's role may take this step (the stage table's roles, which the API's role
        table also holds) and the household lies in its jurisdiction: checked here as the API
        does, for updates sent to Temporal without it."""
        self.require_role(actor, roles_for(action, self.state.pack), what)
        hukou = self.state.case.application.hukou
        refused = place_denial(
            actor.jurisdiction, hukou.county_code, hukou.township_code, hukou.village_code
        )
        if refused:
            raise reject(Rejection.RECUSED, f"{actor.id} may not {what}: {refused}")

    def require_role(self, actor: Actor, roles: frozenset[Role], what: str) -> None:
        if actor.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            raise reject(
                Rejection.RECUSED,
                f"a {actor.role.value} may not {what}; allowed: {allowed}",
            )

    def require_past_date(self, value: str, field: str) -> None:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise reject(Rejection.INVALID, f"{field}: must be a date, YYYY-MM-DD") from None
        if day > china_date(workflow.now()):
            raise reject(Rejection.INVALID, f"{field}: lies in the future")

    async def verify(self, fold: bool = False) -> None:
        """Ask the registries, then assess on the standard in force. `fold`: the standard is
        read with the next stage change, and the assessment made when it is recorded."""
        # Retried without limit: a registry that is down delays the case, visibly (the pending
        # activity and this stage), and loses nothing.
        survey = self.state.survey.report if self.state.survey else None
        self.state.verification = await self.act(
            case_steps.verify_household,
            VerifyHousehold(
                case_id=self.state.case.case_id,
                step_key=f"verification-{self.state.seq}",
                application=self.state.case.application,
                survey=survey,
            ),
            timeout=policies.VERIFICATION_TIMEOUT,
            retry=policies.CONNECTOR_RETRY,
            heartbeat=policies.HEARTBEAT_TIMEOUT,
        )
        facts = household_facts(
            self.state.case.application, survey, self.state.verification.records
        )
        # On the standard in force for the month assessed: the first month paid if approved
        # now, or (a re-review) the month its change takes effect.
        today = china_date(workflow.now())
        month = (
            next_month(today)
            if self.state.recipient
            else payment_start_month(self.state.pack, today)
        )
        if fold:
            self.state.pending_standard = (self.standard_query(month), facts)
            return
        found = await self.standard_in_force(month)
        self.state.assessment = assess(facts, self.state.pack, found.standard, found.month)

    def standard_query(self, month: str) -> StandardQuery:
        return StandardQuery(
            county_code=self.state.case.application.hukou.county_code,
            area_type=self.state.case.application.area_type,
            month=month,
        )

    async def standard_in_force(self, month: str) -> StandardInForce:
        """The county's standard in force in `month`, for the household's area type."""
        found: StandardInForce = await self.act(
            case_steps.standard_in_force,
            self.standard_query(month),
        )
        return found

    # --- stage changes: one transition each -------------------------------------------------------

    async def enter(
        self,
        stage: Stage,
        status: CaseStatus,
        *,
        notices: tuple[IssueNotice, ...] = (),
        accept: bool = False,
    ) -> None:
        """Move to `stage`: one activity writes the stage change with everything that goes
        with it (the causing actions' audit entries, the posting left, the approval, the
        posting opened, the county's spot check, the whole procedure's limit on acceptance,
        the notices). Under a failure drill of one of those steps they are written one by one
        (`one_by_one`), so the drilled step fails, as rehearsed, under its own name."""
        # The new stage's number counts once it is entered: until then the stage's claims
        # (`CaseState.stage_slot`) still hold, so an action arriving meanwhile is refused as taken.
        seq = self.state.seq + 1
        now = workflow.now()
        counted_from = None
        if stage is Stage.TOWNSHIP_REVIEW:
            start = self.state.pack.stage_counted_from(stage, self.state.case.filed_at, now)
            counted_from = start if start != now else None
        approval = self.state.pending_approval
        if approval is not None:
            notices = (approval[1], *notices)
        days = self.state.pack.whole_procedure_limit(False) if accept else None
        standard = self.state.pending_standard
        transition = RecordTransition(
            change=RecordStage(
                case_id=self.state.case.case_id,
                seq=seq,
                stage=stage,
                status=status,
                entered_at=now,
                rule_pack_id=self.state.case.rule_pack_id,
                working_days=STAGES[stage].working_days(self.state.pack),
                counted_from=counted_from,
            ),
            audits=tuple(self.state.pending_audits),
            close_posting=self.state.leaving_posting,
            approval=approval[0] if approval else None,
            procedure_deadline=RecordProcedureDeadline(
                case_id=self.state.case.case_id,
                step_key=f"procedure-deadline-{days}",
                accepted_at=now,
                working_days=days,
            )
            if days is not None
            else None,
            open_posting=self.posting_to_open(seq, stage, now) if stage in POSTING_STAGES else None,
            spot_check=DrawSpotCheck(
                case_id=self.state.case.case_id,
                share=self.state.pack.spot_check_share,
                decided_on=china_date(now).isoformat(),
            )
            if stage is Stage.COUNTY_APPROVAL
            else None,
            standard=standard[0] if standard else None,
            notices=notices,
        )
        self.state.pending_audits = []
        self.state.leaving_posting = None
        self.state.pending_approval = None
        self.state.pending_standard = None
        recorded: TransitionRecorded = await self.act(
            case_steps.record_transition,
            transition,
            timeout=policies.NOTICE_RENDER_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if recorded.drilled:
            recorded = await self.one_by_one(transition)
        else:
            self.entered(transition, recorded)
        self.after_entering(transition, recorded, approval, standard)

    def posting_to_open(self, seq: int, stage: Stage, opens: datetime) -> OpenPosting:
        amount, category = self.state.proposed_amount()
        return OpenPosting(
            case_id=self.state.case.case_id,
            step_key=f"posting-{seq}",
            stage=stage,
            opens_at=opens,
            closes_at=opens + self.state.pack.posting_duration,
            household_size=self.state.household_size(),
            monthly_amount_fen=amount,
            category=category,
        )

    def entered(self, t: RecordTransition, recorded: TransitionRecorded) -> None:
        """The stage as recorded: state, spot check and search attributes change together,
        in one workflow task, so no one sees the stage without what it requires."""
        change, stage = t.change, recorded.stage
        self.state.seq = change.seq
        self.state.stage, self.state.status, self.state.stage_entered_at = (
            change.stage,
            change.status,
            change.entered_at,
        )
        self.state.due_at, self.state.due_warning = stage.due_at, stage.due_warning
        self.state.recused = tuple(sorted(set(self.state.recused) | set(stage.recused_staff)))
        if recorded.spot_check is not None:
            spot = recorded.spot_check
            self.state.visit_reasons = []
            if spot.selected:
                self.state.visit_reasons.append(f"县级抽查：{spot.reason}（种子 {spot.seed}）")
            if self.state.recused:
                self.state.visit_reasons.append(RECUSAL_VISIT_REASON)
        attributes: list[SearchAttributeUpdate[Any]] = [
            sa.STAGE.value_set(change.stage.value),
            sa.STATUS.value_set(change.status.value),
            sa.DUE_AT.value_set(stage.due_at) if stage.due_at else sa.DUE_AT.value_unset(),
        ]
        if self.state.overdue_since is not None:
            self.state.overdue_since = None
            attributes.append(sa.OVERDUE.value_unset())
        workflow.upsert_search_attributes(attributes)

    def after_entering(
        self,
        t: RecordTransition,
        recorded: TransitionRecorded,
        approval: tuple[RecordApproval, IssueNotice, Entitlement] | None,
        standard: tuple[StandardQuery, HouseholdFacts] | None,
    ) -> None:
        if t.close_posting is not None and self.state.postings:
            outcome = recorded.posting_closed or t.close_posting.outcome
            self.state.postings[-1] = dataclasses.replace(self.state.postings[-1], outcome=outcome)
        if approval is not None:
            self.state.entitlement = dataclasses.replace(
                approval[2], certificate_no=recorded.certificate_no or ""
            )
        if standard is not None and recorded.standard is not None:
            found = recorded.standard
            self.state.assessment = assess(
                standard[1], self.state.pack, found.standard, found.month
            )
        if t.procedure_deadline is not None:
            self.state.accepted = True
            self.state.accepted_at = t.change.entered_at
            if recorded.procedure_deadline is not None:
                self.state.procedure_days = t.procedure_deadline.working_days
                self.state.procedure_due = recorded.procedure_deadline
                self.state.procedure_overdue_since = None
        elif t.notices and t.notices[0].kind is NoticeKind.ACCEPTANCE:
            self.state.accepted = True
            self.state.accepted_at = t.change.entered_at
        if recorded.posting is not None:
            self.state.postings.append(recorded.posting)
        self.state.notices.extend(recorded.notices)
        self.state.unrecorded -= {a.step_key for a in t.audits}
        if self.state.watcher is None:
            self.state.watcher = asyncio.create_task(self.watch_deadlines())

    async def one_by_one(self, t: RecordTransition) -> TransitionRecorded:
        """The transition's parts as separate steps, each its own incident if it gives up."""
        for entry in t.audits:
            await self.act(
                case_steps.append_audit,
                entry,
            )
        closed = None
        if t.close_posting is not None:
            closed = await self.act(
                case_steps.close_posting,
                t.close_posting,
            )
        certificate_no = None
        if t.approval is not None:
            certificate: CertificateIssued = await self.act(
                case_steps.issue_certificate,
                IssueCertificate(case_id=self.state.case.case_id, issued_at=t.approval.issued_at),
            )
            certificate_no = certificate.certificate_no
            await self.act(
                case_steps.record_entitlement,
                dataclasses.replace(t.approval.entitlement, certificate_no=certificate_no),
            )
        spot = None
        if t.spot_check is not None:
            spot = await self.act(
                case_steps.draw_spot_check,
                t.spot_check,
            )
        stage: StageRecorded | None = await self.attempt(
            case_steps.record_stage,
            t.change,
        )
        if stage is None:  # skipped by ops: no projection row, so no deadline either
            stage = StageRecorded(due_at=None, due_warning=None)
        recorded = TransitionRecorded(stage=stage, spot_check=spot)
        self.entered(t, recorded)
        procedure = None
        if t.procedure_deadline is not None:
            procedure = await self.act(
                case_steps.record_procedure_deadline,
                t.procedure_deadline,
            )
        posting = None
        if t.open_posting is not None:
            posting = await self.act(
                case_steps.open_posting,
                t.open_posting,
            )
        standard = None
        if t.standard is not None:
            standard = await self.act(
                case_steps.standard_in_force,
                t.standard,
            )
        refs: list[NoticeRef] = []
        for notice in t.notices:
            if notice.kind is NoticeKind.APPROVAL and certificate_no is not None:
                notice = dataclasses.replace(notice, certificate_no=certificate_no)
            issued: NoticeIssued | None = await self.attempt(
                case_steps.issue_notice,
                notice,
                timeout=policies.NOTICE_RENDER_TIMEOUT,
                retry=policies.DB_RETRY,
            )
            if issued is not None:  # None: skipped by ops, with the reason in the audit log
                refs.append(issued.notice)
        return dataclasses.replace(
            recorded,
            posting_closed=closed.outcome if closed else None,
            certificate_no=certificate_no,
            procedure_deadline=procedure,
            posting=posting,
            standard=standard,
            notices=tuple(refs),
        )

    # --- deadlines: one watcher ---------------------------------------------------------------

    def next_deadline(self) -> datetime | None:
        """The earliest deadline still open: the stage's until it is passed or left, the whole
        procedure's until it is passed or the case decided."""
        due: list[datetime] = []
        if (
            self.state.due_at is not None
            and self.state.overdue_since is None
            and self.state.status.is_open
            and not self.state.closed
            # The evidence period is the family's: its end moves the case on, no escalation.
            and self.state.stage is not Stage.EVIDENCE
        ):
            due.append(self.state.due_at)
        if (
            self.state.procedure_due is not None
            and self.state.procedure_overdue_since is None
            and not self.state.procedure_decided()
        ):
            due.append(self.state.procedure_due.due_at)
        return min(due) if due else None

    async def watch_deadlines(self) -> None:
        """One durable timer at a time, on the earliest open deadline. A stage left before its
        deadline leaves the timer running (it wakes, finds nothing due, and sleeps on to the
        next); only a deadline earlier than the one slept on re-arms it."""
        while not self.state.closed:
            target = self.next_deadline()
            if target is None:
                await workflow.wait_condition(
                    lambda: self.next_deadline() is not None or self.state.closed
                )
                continue
            delay = target - workflow.now()
            if delay > timedelta(0):
                try:
                    await workflow.wait_condition(
                        functools.partial(self.earlier_than, target), timeout=delay
                    )
                    continue
                except TimeoutError:
                    pass
            await self.escalate_due()

    def earlier_than(self, target: datetime) -> bool:
        due = self.next_deadline()
        return due is not None and due < target

    async def escalate_due(self) -> None:
        now = workflow.now()
        if (
            self.state.due_at is not None
            and self.state.due_at <= now
            and self.state.overdue_since is None
            and self.state.status.is_open
            and not self.state.closed
        ):
            await self.escalate(self.state.seq, self.state.stage, self.state.due_at)
        procedure = self.state.procedure_due
        if (
            procedure is not None
            and procedure.due_at <= workflow.now()
            and self.state.procedure_overdue_since is None
            and not self.state.procedure_decided()
            and self.state.procedure_days is not None
        ):
            await self.escalate_procedure(self.state.procedure_days, procedure.due_at)

    async def escalate(self, seq: int, stage: Stage, due_at: datetime) -> None:
        self.state.overdue_since = workflow.now()
        workflow.upsert_search_attributes([sa.OVERDUE.value_set(True)])
        await self.attempt(
            case_steps.record_overdue,
            RecordOverdue(
                case_id=self.state.case.case_id,
                step_key=f"overdue-{seq}",
                stage=stage,
                due_at=due_at,
                raised_at=self.state.overdue_since,
            ),
        )

    # --- the whole procedure's limit (mca-2021 Art. 22) -------------------------------------------

    async def arm_procedure_deadline(self, extended: bool) -> None:
        """Move the limit from acceptance to decision (it is set on acceptance, with the stage
        change); the watcher marks the case and alerts supervisors when it passes undecided."""
        days = self.state.pack.whole_procedure_limit(extended)
        if days is None or self.state.accepted_at is None:
            return
        due: ProcedureDeadline = await self.act(
            case_steps.record_procedure_deadline,
            RecordProcedureDeadline(
                case_id=self.state.case.case_id,
                step_key=f"procedure-deadline-{days}",
                accepted_at=self.state.accepted_at,
                working_days=days,
            ),
        )
        self.state.procedure_days, self.state.procedure_due = days, due
        self.state.procedure_overdue_since = None
        if self.state.watcher is None:
            self.state.watcher = asyncio.create_task(self.watch_deadlines())

    async def escalate_procedure(self, days: int, due_at: datetime) -> None:
        self.state.procedure_overdue_since = workflow.now()
        await self.attempt(
            case_steps.record_procedure_overdue,
            RecordProcedureOverdue(
                case_id=self.state.case.case_id,
                step_key=f"procedure-overdue-{days}",
                stage=self.state.stage,
                working_days=days,
                due_at=due_at,
                raised_at=self.state.procedure_overdue_since,
            ),
        )

    async def extend_deadline(self, request: ExtendDeadline) -> CaseView:
        key = f"extend-deadline/{request.request_id}"
        if key not in self.state.handled_requests:
            # Checked again here: two extensions may both pass the validator in one task.
            if self.state.extension is not None:
                raise reject(Rejection.WRONG_STAGE, "the time limit was already extended, once")
            self.state.extension = request
        if await self.first_time(
            request.request_id,
            request.actor,
            AuditAction.EXTEND_DEADLINE,
            request,
            "extend-deadline",
        ):
            await self.arm_procedure_deadline(extended=True)
        return self.view()

    def validate_extend_deadline(self, request: ExtendDeadline) -> None:
        if self.seen(f"extend-deadline/{request.request_id}", request.actor):
            return
        self.require_open()
        self.require_actor(
            request.actor, Action.EXTEND_DEADLINE, "extend the whole-procedure time limit"
        )
        extended = self.state.pack.whole_procedure_extended_working_days
        if extended is None or self.state.procedure_due is None:
            raise reject(
                Rejection.WRONG_STAGE,
                f"the rule pack {self.state.case.rule_pack_id} sets no whole-procedure limit that "
                "may be extended for this case",
            )
        if self.state.extension is not None:
            raise reject(
                Rejection.WRONG_STAGE,
                f"the time limit was already extended to {extended} working days, once",
            )
        if self.state.procedure_decided():
            raise reject(Rejection.WRONG_STAGE, "the case is decided; no time limit runs")
        if not request.reason.strip():
            raise reject(
                Rejection.INVALID, "reason: an extension is for special cases, with the reason"
            )

    # --- steps that give up become incidents -----------------------------------------------------

    async def act(
        self,
        step: Callable[[A], Awaitable[T]],
        arg: A,
        *,
        timeout: timedelta = policies.DB_WRITE_TIMEOUT,
        retry: RetryPolicy = policies.DB_RETRY,
        heartbeat: timedelta | None = None,
    ) -> T:
        """Run a step the case cannot do without; if it gives up, wait for ops to retry it.
        Steps are database writes unless told otherwise (their named timeout and retry)."""
        result = await self.attempt(step, arg, timeout=timeout, retry=retry, heartbeat=heartbeat)
        assert result is not None, f"{step.__name__} is not skippable"
        return result

    async def attempt(
        self,
        step: Callable[[A], Awaitable[T]],
        arg: A,
        *,
        timeout: timedelta = policies.DB_WRITE_TIMEOUT,
        retry: RetryPolicy = policies.DB_RETRY,
        heartbeat: timedelta | None = None,
    ) -> T | None:
        """Run a step (an activity of workflows/case_steps.py); if it exhausts its retries or
        fails for good, the case does not fail: it opens an incident and waits for ops to retry
        it (maybe with corrected input) or, for a step in SKIPPABLE_ACTIVITIES, to skip it
        (then None)."""
        activity = step.__name__  # the activity's registered name
        local_id = ""
        while True:
            try:
                if heartbeat is None:
                    # A short database write runs in the worker as a local activity: one
                    # marker in history instead of three events and a round trip through the
                    # server, so an update that waits for it answers sooner. Its retries and
                    # give-up are the same (the same policy, then an incident).
                    self.state.local_steps += 1
                    local_id = f"L{self.state.local_steps}"  # incidents match its failed attempts
                    result: T = await workflow.execute_local_activity(
                        step,
                        arg,
                        activity_id=local_id,
                        start_to_close_timeout=timeout,
                        retry_policy=retry,
                        local_retry_threshold=policies.LOCAL_RETRY_THRESHOLD,
                    )
                else:
                    result = await workflow.execute_activity(
                        step,
                        arg,
                        start_to_close_timeout=timeout,
                        retry_policy=retry,
                        heartbeat_timeout=heartbeat,
                    )
                return result
            except ActivityError as err:
                if isinstance(err.cause, CancelledError):
                    raise
                key = str(getattr(arg, "step_key", "") or activity)
                failure = Failed(err.activity_id, err.cause, str(err))
                resolution = await self.incident(activity, key, arg, failure)
            except (ApplicationError, StepTimeout) as err:
                # A local activity that gave up: its error comes unwrapped.
                key = str(getattr(arg, "step_key", "") or activity)
                failure = Failed(local_id, err, str(err))
                resolution = await self.incident(activity, key, arg, failure)
            if isinstance(resolution, SkipStep):
                return None
            if isinstance(resolution, CloseCase):
                self.close_at(activity, resolution)
                return None
            arg = apply_corrections(arg, resolution.corrections_json)

    def close_at(self, activity: str, resolution: CloseCase) -> None:
        """Ops closed the case at this step: it closes as terminated, with the ops reason on
        the household's notice. A step the closing does without is dropped; a needed one ends
        the main line (CaseClosing) or, inside an update, refuses that update."""
        if not self.state.closing():
            self.state.termination = Terminate(
                request_id=resolution.request_id, actor=resolution.actor, reason=resolution.reason
            )
        if activity in SKIPPABLE_ACTIVITIES:
            return
        if workflow.current_update_info() is not None:
            raise reject(
                Rejection.WRONG_STAGE,
                f"ops closed the case at step {activity}, which could not go on: "
                f"{resolution.reason}",
            )
        raise CaseClosing()

    async def incident(
        self, activity: str, step: str, arg: Any, err: Failed
    ) -> RetryStep | SkipStep | CloseCase:
        self.state.incident_no += 1
        info = workflow.info()
        incident_id = f"I-{info.run_id}-{self.state.incident_no}"
        cause = err.cause
        error = f"{type(cause).__name__}: {cause}" if cause is not None else err.message
        opened: IncidentOpened = await workflow.execute_activity(
            case_steps.open_incident,
            OpenIncident(
                incident_id=incident_id,
                case_id=self.state.case.case_id,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                activity_id=err.activity_id,
                activity_type=activity,
                step=step,
                error=error,
                opened_at=workflow.now(),
                correctable_fields=correctable_fields(arg),
            ),
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.INCIDENT_RETRY,
        )
        # The stored ID: after a workflow reset it is the one the replaced run opened.
        incident_id = opened.incident_id
        self.state.incidents[incident_id] = IncidentRef(
            incident_id=incident_id,
            activity_type=activity,
            step=step,
            error=error,
            attempts=opened.attempts,
            opened_at=workflow.now(),
            skippable=activity in SKIPPABLE_ACTIVITIES,
            correctable_fields=correctable_fields(arg),
            options=incident_options(activity, correctable_fields(arg)),
        )
        self.state.incident_inputs[incident_id] = arg
        self.mark_incidents()
        await workflow.wait_condition(lambda: incident_id in self.state.resolutions)
        resolution = self.state.resolutions[incident_id]
        await workflow.execute_activity(
            case_steps.close_incident,
            CloseIncident(
                incident_id=incident_id,
                status=FailureStatus.SKIPPED
                if isinstance(resolution, SkipStep)
                else FailureStatus.CLOSED
                if isinstance(resolution, CloseCase)
                else FailureStatus.RETRIED,
                resolved_by=resolution.actor.id,
                resolution=resolution.reason,
                resolved_at=workflow.now(),
            ),
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.INCIDENT_RETRY,
        )
        # Open until recorded as closed, so the retry/skip update answers after that.
        del self.state.resolutions[incident_id]
        self.state.claims.pop(f"incident/{incident_id}", None)
        del self.state.incidents[incident_id]
        del self.state.incident_inputs[incident_id]
        self.mark_incidents()
        return resolution

    async def answer_when(self, condition: Callable[[], bool]) -> None:
        """Where an update waits to answer: until its effect shows, the case closes, or a step
        gave up and waits for ops (then it answers at once, showing the incident, rather than
        hold the caller until ops have acted)."""
        await workflow.wait_condition(
            lambda: condition() or self.state.closed or bool(self.state.incidents)
        )

    def mark_incidents(self) -> None:
        first = next(iter(self.state.incidents.values()), None)
        workflow.upsert_search_attributes(
            [sa.INCIDENT.value_set(first.activity_type) if first else sa.INCIDENT.value_unset()]
        )

    def require_incident(self, incident_id: str, actor: Actor) -> IncidentRef:
        self.require_actor(actor, Action.OPERATE, "retry or skip a failed step, or close its case")
        incident = self.state.incidents.get(incident_id)
        if incident_id in self.state.resolutions or f"incident/{incident_id}" in self.state.claims:
            raise reject(Rejection.WRONG_STAGE, f"incident {incident_id} is being resolved")
        if incident is None:
            open_ids = ", ".join(i for i in self.state.incidents if i not in self.state.resolutions)
            open_ids = open_ids or "none"
            raise reject(
                Rejection.WRONG_STAGE,
                f"incident {incident_id} is not open on this case (open: {open_ids})",
            )
        return incident

    async def resolve(
        self, request: RetryStep | SkipStep | CloseCase, action: AuditAction, prefix: str
    ) -> CaseView:
        """Hand the incident its resolution (once per request) and answer when it is closed."""
        if await self.first_time(
            request.request_id,
            request.actor,
            action,
            request,
            prefix,
            claim=f"incident/{request.incident_id}",
        ):
            self.state.resolutions[request.incident_id] = request
        await workflow.wait_condition(lambda: request.incident_id not in self.state.incidents)
        if isinstance(request, CloseCase):
            await self.answer_when(lambda: self.state.closed)
        return self.view()

    async def retry_step(self, request: RetryStep) -> CaseView:
        self.recheck(self.validate_retry_step, request)
        return await self.resolve(request, AuditAction.RETRY_STEP, "retry-step")

    def validate_retry_step(self, request: RetryStep) -> None:
        self.require_actor(request.actor, Action.OPERATE, "retry or skip a failed step")
        if self.seen(f"retry-step/{request.request_id}", request.actor):
            return
        self.require_incident(request.incident_id, request.actor)
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: say why the step is retried")
        try:
            parse_corrections(
                self.state.incident_inputs[request.incident_id], request.corrections_json
            )
        except CorrectionError as err:
            raise reject(Rejection.INVALID, str(err)) from None

    async def skip_step(self, request: SkipStep) -> CaseView:
        self.recheck(self.validate_skip_step, request)
        return await self.resolve(request, AuditAction.SKIP_STEP, "skip-step")

    def validate_skip_step(self, request: SkipStep) -> None:
        self.require_actor(request.actor, Action.OPERATE, "retry or skip a failed step")
        if self.seen(f"skip-step/{request.request_id}", request.actor):
            return
        incident = self.require_incident(request.incident_id, request.actor)
        if not incident.skippable:
            raise reject(
                Rejection.WRONG_STAGE,
                f"step {incident.step} ({incident.activity_type}) cannot be skipped: the case "
                "needs its result; retry it, with corrected input if the input was wrong",
            )
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: say why the step is skipped")

    async def close_case(self, request: CloseCase) -> CaseView:
        return await self.resolve(request, AuditAction.CLOSE_CASE, "close-case")

    def validate_close_case(self, request: CloseCase) -> None:
        if self.seen(f"close-case/{request.request_id}", request.actor):
            return
        self.require_incident(request.incident_id, request.actor)
        if not request.reason.strip():
            raise reject(
                Rejection.INVALID, "reason: the household's notice says why the case is closed"
            )

    async def audit(
        self,
        step_key: str,
        actor: Actor,
        action: AuditAction,
        payload: Any,
        at: datetime | None = None,
    ) -> None:
        await self.write_audit(
            AuditEntry(
                case_id=self.state.case.case_id,
                step_key=step_key,
                actor=actor,
                action=action,
                payload_sha256=payload_sha256(payload),
                at=at or workflow.now(),
            )
        )

    async def write_audit(self, entry: AuditEntry) -> None:
        await self.act(
            case_steps.append_audit,
            entry,
        )

    async def notice(self, kind: NoticeKind, step_key: str, **details: Any) -> None:
        issued: NoticeIssued | None = await self.attempt(
            case_steps.issue_notice,
            self.notice_of(kind, step_key, **details),
            timeout=policies.NOTICE_RENDER_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if issued is not None:  # None: skipped by ops, with the reason in the audit log
            self.state.notices.append(issued.notice)

    def notice_of(
        self,
        kind: NoticeKind,
        step_key: str,
        missing: tuple[Material, ...] = (),
        reason: str = "",
        reasons: tuple[str, ...] = (),
        certificate_no: str = "",
        monthly_amount_fen: int = 0,
        from_month: str = "",
        decided_at: datetime | None = None,
    ) -> IssueNotice:
        return IssueNotice(
            case_id=self.state.case.case_id,
            step_key=step_key,
            kind=kind,
            issued_at=workflow.now(),
            missing_materials=missing,
            reason=reason,
            reasons=reasons,
            certificate_no=certificate_no,
            monthly_amount_fen=monthly_amount_fen,
            from_month=from_month,
            decided_at=decided_at,
            notice_working_days=(
                self.state.pack.refusal_notice_working_days if decided_at is not None else None
            ),
            assessment=self.state.assessment if kind in ASSESSED_NOTICES else None,
        )

    async def close_on_request(self) -> None:
        if self.state.termination is not None:
            status = CaseStatus.TERMINATED
            notice = self.notice_of(
                NoticeKind.TERMINATION, "termination", reason=self.state.termination.reason
            )
        else:
            assert self.state.withdrawal is not None
            status = CaseStatus.WITHDRAWN
            notice = self.notice_of(
                NoticeKind.WITHDRAWAL, "withdrawal", reason=self.state.withdrawal.reason
            )
        # Ops may close it at the closing step itself: then closed, as they recorded.
        with contextlib.suppress(CaseClosing):
            await self.enter(Stage.CLOSED, status, notices=(notice,))
        self.state.closed = True
