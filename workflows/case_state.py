"""CaseState: what a case workflow holds, and the steps every phase of it uses.

The state is set up here and shared by the phases (workflows/case.py: application and
procedure; workflows/case_recipient.py: the recipient phase). The steps that touch the world
go through `_act` / `_attempt`, so a step that gives up becomes an incident for ops (retry,
maybe corrected, skip, or close the case; the updates are defined here) instead of failing
the case; stage changes arm the stage's
deadline timer (escalation).
"""

from __future__ import annotations

import asyncio
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
    from dibao.domain.application import FieldError, Member, Payee
    from dibao.domain.calendar import china_date
    from dibao.domain.eligibility import (
        Assessment,
        HouseholdFacts,
        assess,
        household_facts,
        posted_category,
    )
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
    from dibao.domain.materials import missing_materials, provided_materials
    from dibao.domain.measures import SubmitEvidence
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
    from dibao.domain.recipient import (
        PaymentChange,
        RecipientState,
        next_month,
    )
    from dibao.domain.rulepacks import RulePack, get_rule_pack
    from dibao.domain.stages import STAGES, roles_for, stage_entry, stages_accepting
    from dibao.domain.standards import StandardInForce, StandardQuery
    from dibao.domain.verification import VerificationOutcome, VerifyHousehold
    from dibao.messages.case import (
        ASSESSED_NOTICES,
        Actor,
        AuditEntry,
        CarriedState,
        CaseInput,
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
        ObjectionRef,
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
        SubmitCountyDecision,
        SubmitCountyVisit,
        SubmitEvaluation,
        SubmitSurvey,
        SubmitTownshipReview,
        Terminate,
        TransitionRecorded,
        Withdraw,
    )
    from workflows import case_steps, policies
    from workflows import search_attributes as sa
    from workflows.action_updates import action_update

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


class CaseState:
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
        # The one request that answers each step (stage slot -> request key), claimed by its
        # handler before the first await: the first accepted action of a stage wins.
        self._claims: dict[str, str] = {}
        # procedure
        self._survey: SubmitSurvey | None = None
        self._verification: VerificationOutcome | None = None
        self._assessment: Assessment | None = None
        self._evaluation: SubmitEvaluation | None = None
        # Art. 18: the family's evidence on a failed check, and whether its period was held.
        self._evidence: SubmitEvidence | None = None
        self._evidence_heard = False
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
        # One task watches every open deadline (the stage's, the whole procedure's).
        self._watcher: asyncio.Task[None] | None = None
        # What the next stage change writes with it: the audit entries of the actions that
        # cause it (their updates answer once written), the posting the stage leaves, the
        # approval, the standard to assess on (with the facts assessed).
        self._pending_audits: list[AuditEntry] = []
        self._unrecorded: set[str] = set()
        self._leaving_posting: ClosePosting | None = None
        self._pending_approval: tuple[RecordApproval, IssueNotice, Entitlement] | None = None
        self._pending_standard: tuple[StandardQuery, HouseholdFacts] | None = None
        # The whole procedure's limit (mca-2021 Art. 22), from acceptance to decision.
        self._accepted_at: datetime | None = None
        self._procedure_days: int | None = None
        self._procedure_due: ProcedureDeadline | None = None
        self._procedure_overdue_since: datetime | None = None
        self._extension: ExtendDeadline | None = None
        self._incident_no = 0
        self._local_steps = 0  # local activities started by this run, for their IDs
        self._incidents: dict[str, IncidentRef] = {}
        self._incident_inputs: dict[str, Any] = {}
        self._resolutions: dict[str, RetryStep | SkipStep | CloseCase] = {}
        self._payee: Payee | None = case.application.payee
        if case.carried is not None:
            self._restore(case.carried)

    # --- continue-as-new: the whole state, carried --------------------------------------------

    # Attributes not carried to the next run, and why: the case input itself (`_case`, and the
    # pack it pins, `_pack`); a wake-up flag and the deadline watcher of this run's loop;
    # what a stage change of the procedure writes with it (empty in the recipient phase); claims of
    # stages already answered; incidents, which are open only while a step waits, never when a
    # review cycle ends (all handlers have finished and no step is running then); the count
    # of local activities, which names them within one run only.
    TRANSIENT = frozenset(
        {
            "_case",
            "_pack",
            "_rewake",
            "_watcher",
            "_pending_audits",
            "_unrecorded",
            "_leaving_posting",
            "_pending_approval",
            "_pending_standard",
            "_claims",
            "_incidents",
            "_incident_inputs",
            "_resolutions",
            "_local_steps",
            # Answered before approval (the audit log keeps the evidence); the recipient
            # phase, the only one that continues as new, never reads them.
            "_evidence",
            "_evidence_heard",
        }
    )
    # Idempotency keys kept for the next run: enough for any retry a client still sends.
    CARRIED_REQUESTS = 200

    def _carry(self) -> CarriedState:
        assert self._recipient is not None
        return CarriedState(
            recipient=self._recipient,
            stage=self._stage,
            status=self._status,
            seq=self._seq,
            stage_entered_at=self._stage_entered_at,
            due_at=self._due_at,
            due_warning=self._due_warning,
            provided=tuple(sorted(self._provided)),
            notices=tuple(self._notices),
            withdrawal=self._withdrawal,
            termination=self._termination,
            accepted=self._accepted,
            closed=self._closed,
            handled_requests=tuple(sorted(self._handled_requests))[-self.CARRIED_REQUESTS :],
            survey=self._survey,
            verification=self._verification,
            assessment=self._assessment,
            evaluation=self._evaluation,
            township=self._township,
            county_visit=self._county_visit,
            visit_reasons=tuple(self._visit_reasons),
            decision=self._decision,
            entitlement=self._entitlement,
            postings=tuple(self._postings),
            objections=tuple(self._objections),
            pending_objection=self._pending_objection,
            recused=self._recused,
            approved=tuple(self._approved.items()),
            after_objection=self._after_objection,
            changes=tuple(self._changes),
            change_no=self._change_no,
            review_due=self._review_due,
            review_survey=self._review_survey,
            overdue_since=self._overdue_since,
            incident_no=self._incident_no,
            payee=self._payee,
            accepted_at=self._accepted_at,
            procedure_days=self._procedure_days,
            procedure_due=self._procedure_due,
            procedure_overdue_since=self._procedure_overdue_since,
            extension=self._extension,
        )

    def _restore(self, carried: CarriedState) -> None:
        self._recipient = carried.recipient
        self._stage, self._status, self._seq = carried.stage, carried.status, carried.seq
        self._stage_entered_at = carried.stage_entered_at
        self._due_at, self._due_warning = carried.due_at, carried.due_warning
        self._provided = frozenset(carried.provided)
        self._notices = list(carried.notices)
        self._withdrawal, self._termination = carried.withdrawal, carried.termination
        self._accepted, self._closed = carried.accepted, carried.closed
        self._handled_requests = set(carried.handled_requests)
        self._survey = carried.survey
        self._verification = carried.verification
        self._assessment = carried.assessment
        self._evaluation = carried.evaluation
        self._township = carried.township
        self._county_visit = carried.county_visit
        self._visit_reasons = list(carried.visit_reasons)
        self._decision = carried.decision
        self._entitlement = carried.entitlement
        self._postings = list(carried.postings)
        self._objections = list(carried.objections)
        self._pending_objection = carried.pending_objection
        self._recused = carried.recused
        self._approved = dict(carried.approved)
        self._after_objection = carried.after_objection
        self._changes = list(carried.changes)
        self._change_no = carried.change_no
        self._review_due = carried.review_due
        self._review_survey = carried.review_survey
        self._overdue_since = carried.overdue_since
        self._incident_no = carried.incident_no
        self._payee = carried.payee
        self._accepted_at = carried.accepted_at
        self._procedure_days, self._procedure_due = carried.procedure_days, carried.procedure_due
        self._procedure_overdue_since = carried.procedure_overdue_since
        self._extension = carried.extension

    async def _open_posting(
        self, step_key: str, stage: Stage, opens: datetime, size: int, amount: int, category: str
    ) -> PostingRef:
        ref: PostingRef = await self._act(
            case_steps.open_posting,
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
        )
        return ref

    async def _close_posting(self, posting_id: str, outcome: PostingOutcome) -> PostingOutcome:
        """Close a posting; a posting closed before keeps its first outcome (returned)."""
        closed: PostingClosed = await self._act(
            case_steps.close_posting,
            ClosePosting(
                case_id=self._case.case_id,
                posting_id=posting_id,
                outcome=outcome,
                closed_at=workflow.now(),
            ),
        )
        return closed.outcome

    # --- the state query -------------------------------------------------------------------

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
            payee=self._payee,
            incidents=tuple(self._incidents.values()),
            procedure_working_days=self._procedure_days,
            procedure_due_at=self._procedure_due.due_at if self._procedure_due else None,
            procedure_due_warning=self._procedure_due.due_warning if self._procedure_due else None,
            procedure_extension_reason=self._extension.reason if self._extension else None,
            procedure_overdue_since=self._procedure_overdue_since,
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
        return stage_entry(self._stage, self._pack).waits_for

    # --- recusal (近亲属备案) ------------------------------------------------------------------

    @workflow.signal
    def recuse(self, notice: RecuseStaff) -> None:
        """A relative registered while the case is open: the staff recuse from now on (their
        actions, and surveys naming them as investigators, are refused), not from the next
        stage change. PostgreSQL holds the registration; this keeps the workflow's own checks
        in step with it."""
        self._recused = tuple(sorted(set(self._recused) | set(notice.staff_ids)))
        if (
            self._stage is Stage.COUNTY_APPROVAL
            and self._decision is None
            and RECUSAL_VISIT_REASON not in self._visit_reasons
        ):
            self._visit_reasons.append(RECUSAL_VISIT_REASON)

    def _require_no_recused_investigator(self, investigators: tuple[str, ...]) -> None:
        recused = [i for i in investigators if i in self._recused]
        if recused:
            raise reject(
                Rejection.RECUSED,
                f"investigator {recused[0]} is a registered near relative of this household",
            )

    # --- helpers ---------------------------------------------------------------------------

    def _seen(self, key: str, actor: Actor) -> bool:
        """A repeated request (same action, same request ID) answers again without a second
        effect and without validation: the stage may have moved on since the first."""
        if actor.id in self._recused and key not in self._handled_requests:
            raise reject(
                Rejection.RECUSED,
                f"{actor.id} is registered as a near relative of this household and must recuse",
            )
        return key in self._handled_requests

    async def _first_time(
        self,
        request_id: str,
        actor: Actor,
        action: AuditAction,
        payload: Any,
        prefix: str,
        claim: str = "",
    ) -> bool:
        key = f"{prefix}/{request_id}"
        if key in self._handled_requests:
            return False
        # Both before the audit's await, so an update handled alongside sees them.
        self._handled_requests.add(key)
        if claim:
            self._claims[claim] = key
        await self._audit(key, actor, action, payload)
        return True

    async def _take(
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
        """The steps every caseworker update shares: its validator again (`_recheck`), then,
        the first time of its request ID only, the audit entry and the effect (`apply`); it
        answers the state once the audit entry is written (and `answer_when` holds, when
        given). `claim` names the stage's step the request answers (the first accepted one of
        a stage wins). `moves`: whether the applied action moves the case to its next stage;
        then its audit entry is written with that stage change, in one transaction, and the
        update answers as soon as that is written, not after the next stage's steps."""
        self._recheck(check, request)
        key = f"{prefix}/{request.request_id}"
        if moves is None:
            if await self._first_time(
                request.request_id, request.actor, action, request, prefix, claim=claim
            ):
                done = apply()
                if done is not None:
                    await done
        elif key not in self._handled_requests:
            self._handled_requests.add(key)
            if claim:
                self._claims[claim] = key
            entry = AuditEntry(
                case_id=self._case.case_id,
                step_key=key,
                actor=request.actor,
                action=action,
                payload_sha256=payload_sha256(request),
                at=workflow.now(),
            )
            done = apply()
            assert done is None, "an action that moves the case applies at once"
            if moves():
                self._pending_audits.append(entry)
                self._unrecorded.add(key)
            else:
                await self._write_audit(entry)
        await self._answer_when(
            lambda: key not in self._unrecorded and (answer_when is None or answer_when())
        )
        return self.state()

    def _recheck(self, validator: Callable[[T], None], request: T) -> None:
        """Validate again in the handler, before its first await. Validators of updates that
        arrive in one workflow task all run before any handler, so each may pass (two
        opposite opinions, ten evaluations); the handler sees what the ones before it claimed."""
        validator(request)

    def _stage_slot(self, step: str) -> str:
        """A step answered once per entry into its stage (an objection's re-run is another)."""
        return f"{step}@{self._seq}"

    def _require_unclaimed(self, slot: str, message: str) -> None:
        if slot in self._claims:
            raise reject(Rejection.WRONG_STAGE, message)

    def _closing(self) -> bool:
        return self._withdrawal is not None or self._termination is not None

    def _check_open(self) -> None:
        if self._closing():
            raise CaseClosing()

    async def _until(self, condition: Callable[[], bool]) -> None:
        await workflow.wait_condition(lambda: condition() or self._closing())
        self._check_open()

    def _require_open(self) -> None:
        if self._closing() or self._closed:
            raise reject(Rejection.WRONG_STAGE, f"the case is closed ({self._status.value})")

    def _require_withdrawable(self) -> None:
        self._require_open()
        self._require_unclaimed(
            "closing", "a withdrawal or termination of this case was already accepted"
        )
        if self._stage is Stage.RECIPIENT or self._entitlement is not None:
            raise reject(
                Rejection.WRONG_STAGE,
                "the case is approved; ending benefit is a payment change, not a withdrawal",
            )

    def _require_stage(self, action: Action) -> None:
        """The case is open and its stage accepts the action (the stage table's entry)."""
        self._require_open()
        if action not in STAGES[self._stage].accepts:
            stage = stages_accepting(action)[0]
            raise reject(
                Rejection.WRONG_STAGE,
                f"this action belongs to stage '{stage.value}'; "
                f"the case is at stage '{self._stage.value}'",
            )

    def _require_actor(self, actor: Actor, action: Action, what: str) -> None:
        """The actor's role may take this step (the stage table's roles, which the API's role
        table also holds) and the household lies in its jurisdiction: checked here as the API
        does, for updates sent to Temporal without it."""
        self._require_role(actor, roles_for(action, self._pack), what)
        hukou = self._case.application.hukou
        refused = place_denial(
            actor.jurisdiction, hukou.county_code, hukou.township_code, hukou.village_code
        )
        if refused:
            raise reject(Rejection.RECUSED, f"{actor.id} may not {what}: {refused}")

    def _require_role(self, actor: Actor, roles: frozenset[Role], what: str) -> None:
        if actor.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            raise reject(
                Rejection.RECUSED,
                f"a {actor.role.value} may not {what}; allowed: {allowed}",
            )

    def _require_past_date(self, value: str, field: str) -> None:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise reject(Rejection.INVALID, f"{field}: must be a date, YYYY-MM-DD") from None
        if day > china_date(workflow.now()):
            raise reject(Rejection.INVALID, f"{field}: lies in the future")

    def _missing(self) -> tuple[Material, ...]:
        return missing_materials(self._case.application, self._provided)

    def _members(self) -> tuple[Member, ...]:
        """The household as last established: the recipient's, the survey's, or as filed."""
        if self._recipient is not None:
            return self._recipient.members
        if self._survey is not None:
            return self._survey.report.members
        return self._case.application.members

    def _household_size(self) -> int:
        if self._assessment is not None and self._assessment.single_person_members:
            return self._assessment.covered_size  # 单人保 (Art. 8): the amount is theirs
        if self._survey is not None:
            return len(self._survey.report.members)
        return len(self._case.application.members)

    def _proposed_amount(self) -> tuple[int, str]:
        # An approval being written with this stage change states what is posted.
        entitlement = self._pending_approval[2] if self._pending_approval else self._entitlement
        if entitlement is not None:
            category = entitlement.category.value
            if self._assessment is not None and self._assessment.single_person_members:
                category = posted_category(self._assessment)
            return entitlement.monthly_amount_fen, category
        if self._township is not None and self._township.proposed_amount_fen is not None:
            category = self._assessment.category.value if self._assessment else ""
            return self._township.proposed_amount_fen, category
        if self._assessment is not None:
            return self._assessment.monthly_amount_fen, posted_category(self._assessment)
        return 0, ""

    async def _verify(self, fold: bool = False) -> None:
        """Ask the registries, then assess on the standard in force. `fold`: the standard is
        read with the next stage change, and the assessment made when it is recorded."""
        # Retried without limit: a registry that is down delays the case, visibly (the pending
        # activity and this stage), and loses nothing.
        survey = self._survey.report if self._survey else None
        self._verification = await self._act(
            case_steps.verify_household,
            VerifyHousehold(
                case_id=self._case.case_id,
                step_key=f"verification-{self._seq}",
                application=self._case.application,
                survey=survey,
            ),
            timeout=policies.VERIFICATION_TIMEOUT,
            retry=policies.CONNECTOR_RETRY,
            heartbeat=policies.HEARTBEAT_TIMEOUT,
        )
        facts = household_facts(self._case.application, survey, self._verification.records)
        # On the standard in force for the month assessed: the first month paid if approved
        # now, or (a re-review) the month its change takes effect.
        today = china_date(workflow.now())
        month = next_month(today) if self._recipient else payment_start_month(self._pack, today)
        if fold:
            self._pending_standard = (self._standard_query(month), facts)
            return
        found = await self._standard_in_force(month)
        self._assessment = assess(facts, self._pack, found.standard, found.month)

    def _standard_query(self, month: str) -> StandardQuery:
        return StandardQuery(
            county_code=self._case.application.hukou.county_code,
            area_type=self._case.application.area_type,
            month=month,
        )

    async def _standard_in_force(self, month: str) -> StandardInForce:
        """The county's standard in force in `month`, for the household's area type."""
        found: StandardInForce = await self._act(
            case_steps.standard_in_force,
            self._standard_query(month),
        )
        return found

    # --- stage changes: one transition each -------------------------------------------------------

    async def _enter(
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
        (`_one_by_one`), so the drilled step fails, as rehearsed, under its own name."""
        # The new stage's number counts once it is entered: until then the stage's claims
        # (`_stage_slot`) still hold, so an action arriving meanwhile is refused as taken.
        seq = self._seq + 1
        now = workflow.now()
        counted_from = None
        if stage is Stage.TOWNSHIP_REVIEW:
            start = self._pack.stage_counted_from(stage, self._case.filed_at, now)
            counted_from = start if start != now else None
        approval = self._pending_approval
        if approval is not None:
            notices = (approval[1], *notices)
        days = self._pack.whole_procedure_limit(False) if accept else None
        standard = self._pending_standard
        transition = RecordTransition(
            change=RecordStage(
                case_id=self._case.case_id,
                seq=seq,
                stage=stage,
                status=status,
                entered_at=now,
                rule_pack_id=self._case.rule_pack_id,
                working_days=STAGES[stage].working_days(self._pack),
                counted_from=counted_from,
            ),
            audits=tuple(self._pending_audits),
            close_posting=self._leaving_posting,
            approval=approval[0] if approval else None,
            procedure_deadline=RecordProcedureDeadline(
                case_id=self._case.case_id,
                step_key=f"procedure-deadline-{days}",
                accepted_at=now,
                working_days=days,
            )
            if days is not None
            else None,
            open_posting=self._posting_to_open(seq, stage, now)
            if stage in POSTING_STAGES
            else None,
            spot_check=DrawSpotCheck(
                case_id=self._case.case_id,
                share=self._pack.spot_check_share,
                decided_on=china_date(now).isoformat(),
            )
            if stage is Stage.COUNTY_APPROVAL
            else None,
            standard=standard[0] if standard else None,
            notices=notices,
        )
        self._pending_audits = []
        self._leaving_posting = None
        self._pending_approval = None
        self._pending_standard = None
        recorded: TransitionRecorded = await self._act(
            case_steps.record_transition,
            transition,
            timeout=policies.NOTICE_RENDER_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if recorded.drilled:
            recorded = await self._one_by_one(transition)
        else:
            self._entered(transition, recorded)
        self._after_entering(transition, recorded, approval, standard)

    def _posting_to_open(self, seq: int, stage: Stage, opens: datetime) -> OpenPosting:
        amount, category = self._proposed_amount()
        return OpenPosting(
            case_id=self._case.case_id,
            step_key=f"posting-{seq}",
            stage=stage,
            opens_at=opens,
            closes_at=opens + self._pack.posting_duration,
            household_size=self._household_size(),
            monthly_amount_fen=amount,
            category=category,
        )

    def _entered(self, t: RecordTransition, recorded: TransitionRecorded) -> None:
        """The stage as recorded: state, spot check and search attributes change together,
        in one workflow task, so no one sees the stage without what it requires."""
        change, stage = t.change, recorded.stage
        self._seq = change.seq
        self._stage, self._status, self._stage_entered_at = (
            change.stage,
            change.status,
            change.entered_at,
        )
        self._due_at, self._due_warning = stage.due_at, stage.due_warning
        self._recused = tuple(sorted(set(self._recused) | set(stage.recused_staff)))
        if recorded.spot_check is not None:
            spot = recorded.spot_check
            self._visit_reasons = []
            if spot.selected:
                self._visit_reasons.append(f"县级抽查：{spot.reason}（种子 {spot.seed}）")
            if self._recused:
                self._visit_reasons.append(RECUSAL_VISIT_REASON)
        attributes: list[SearchAttributeUpdate[Any]] = [
            sa.STAGE.value_set(change.stage.value),
            sa.STATUS.value_set(change.status.value),
            sa.DUE_AT.value_set(stage.due_at) if stage.due_at else sa.DUE_AT.value_unset(),
        ]
        if self._overdue_since is not None:
            self._overdue_since = None
            attributes.append(sa.OVERDUE.value_unset())
        workflow.upsert_search_attributes(attributes)

    def _after_entering(
        self,
        t: RecordTransition,
        recorded: TransitionRecorded,
        approval: tuple[RecordApproval, IssueNotice, Entitlement] | None,
        standard: tuple[StandardQuery, HouseholdFacts] | None,
    ) -> None:
        if t.close_posting is not None and self._postings:
            outcome = recorded.posting_closed or t.close_posting.outcome
            self._postings[-1] = dataclasses.replace(self._postings[-1], outcome=outcome)
        if approval is not None:
            self._entitlement = dataclasses.replace(
                approval[2], certificate_no=recorded.certificate_no or ""
            )
        if standard is not None and recorded.standard is not None:
            found = recorded.standard
            self._assessment = assess(standard[1], self._pack, found.standard, found.month)
        if t.procedure_deadline is not None:
            self._accepted = True
            self._accepted_at = t.change.entered_at
            if recorded.procedure_deadline is not None:
                self._procedure_days = t.procedure_deadline.working_days
                self._procedure_due = recorded.procedure_deadline
                self._procedure_overdue_since = None
        elif t.notices and t.notices[0].kind is NoticeKind.ACCEPTANCE:
            self._accepted = True
            self._accepted_at = t.change.entered_at
        if recorded.posting is not None:
            self._postings.append(recorded.posting)
        self._notices.extend(recorded.notices)
        self._unrecorded -= {a.step_key for a in t.audits}
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch_deadlines())

    async def _one_by_one(self, t: RecordTransition) -> TransitionRecorded:
        """The transition's parts as separate steps, each its own incident if it gives up."""
        for entry in t.audits:
            await self._act(
                case_steps.append_audit,
                entry,
            )
        closed = None
        if t.close_posting is not None:
            closed = await self._act(
                case_steps.close_posting,
                t.close_posting,
            )
        certificate_no = None
        if t.approval is not None:
            certificate: CertificateIssued = await self._act(
                case_steps.issue_certificate,
                IssueCertificate(case_id=self._case.case_id, issued_at=t.approval.issued_at),
            )
            certificate_no = certificate.certificate_no
            await self._act(
                case_steps.record_entitlement,
                dataclasses.replace(t.approval.entitlement, certificate_no=certificate_no),
            )
        spot = None
        if t.spot_check is not None:
            spot = await self._act(
                case_steps.draw_spot_check,
                t.spot_check,
            )
        stage: StageRecorded | None = await self._attempt(
            case_steps.record_stage,
            t.change,
        )
        if stage is None:  # skipped by ops: no projection row, so no deadline either
            stage = StageRecorded(due_at=None, due_warning=None)
        recorded = TransitionRecorded(stage=stage, spot_check=spot)
        self._entered(t, recorded)
        procedure = None
        if t.procedure_deadline is not None:
            procedure = await self._act(
                case_steps.record_procedure_deadline,
                t.procedure_deadline,
            )
        posting = None
        if t.open_posting is not None:
            posting = await self._act(
                case_steps.open_posting,
                t.open_posting,
            )
        standard = None
        if t.standard is not None:
            standard = await self._act(
                case_steps.standard_in_force,
                t.standard,
            )
        refs: list[NoticeRef] = []
        for notice in t.notices:
            if notice.kind is NoticeKind.APPROVAL and certificate_no is not None:
                notice = dataclasses.replace(notice, certificate_no=certificate_no)
            issued: NoticeIssued | None = await self._attempt(
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

    def _next_deadline(self) -> datetime | None:
        """The earliest deadline still open: the stage's until it is passed or left, the whole
        procedure's until it is passed or the case decided."""
        due: list[datetime] = []
        if (
            self._due_at is not None
            and self._overdue_since is None
            and self._status.is_open
            and not self._closed
            # The evidence period is the family's: its end moves the case on, no escalation.
            and self._stage is not Stage.EVIDENCE
        ):
            due.append(self._due_at)
        if (
            self._procedure_due is not None
            and self._procedure_overdue_since is None
            and not self._procedure_decided()
        ):
            due.append(self._procedure_due.due_at)
        return min(due) if due else None

    async def _watch_deadlines(self) -> None:
        """One durable timer at a time, on the earliest open deadline. A stage left before its
        deadline leaves the timer running (it wakes, finds nothing due, and sleeps on to the
        next); only a deadline earlier than the one slept on re-arms it."""
        while not self._closed:
            target = self._next_deadline()
            if target is None:
                await workflow.wait_condition(
                    lambda: self._next_deadline() is not None or self._closed
                )
                continue
            delay = target - workflow.now()
            if delay > timedelta(0):
                try:
                    await workflow.wait_condition(
                        functools.partial(self._earlier_than, target), timeout=delay
                    )
                    continue
                except TimeoutError:
                    pass
            await self._escalate_due()

    def _earlier_than(self, target: datetime) -> bool:
        due = self._next_deadline()
        return due is not None and due < target

    async def _escalate_due(self) -> None:
        now = workflow.now()
        if (
            self._due_at is not None
            and self._due_at <= now
            and self._overdue_since is None
            and self._status.is_open
            and not self._closed
        ):
            await self._escalate(self._seq, self._stage, self._due_at)
        procedure = self._procedure_due
        if (
            procedure is not None
            and procedure.due_at <= workflow.now()
            and self._procedure_overdue_since is None
            and not self._procedure_decided()
            and self._procedure_days is not None
        ):
            await self._escalate_procedure(self._procedure_days, procedure.due_at)

    async def _escalate(self, seq: int, stage: Stage, due_at: datetime) -> None:
        self._overdue_since = workflow.now()
        workflow.upsert_search_attributes([sa.OVERDUE.value_set(True)])
        await self._attempt(
            case_steps.record_overdue,
            RecordOverdue(
                case_id=self._case.case_id,
                step_key=f"overdue-{seq}",
                stage=stage,
                due_at=due_at,
                raised_at=self._overdue_since,
            ),
        )

    # --- the whole procedure's limit (mca-2021 Art. 22) -------------------------------------------

    def _procedure_decided(self) -> bool:
        return self._closed or self._closing() or self._decision is not None

    async def _arm_procedure_deadline(self, extended: bool) -> None:
        """Move the limit from acceptance to decision (it is set on acceptance, with the stage
        change); the watcher marks the case and alerts supervisors when it passes undecided."""
        days = self._pack.whole_procedure_limit(extended)
        if days is None or self._accepted_at is None:
            return
        due: ProcedureDeadline = await self._act(
            case_steps.record_procedure_deadline,
            RecordProcedureDeadline(
                case_id=self._case.case_id,
                step_key=f"procedure-deadline-{days}",
                accepted_at=self._accepted_at,
                working_days=days,
            ),
        )
        self._procedure_days, self._procedure_due = days, due
        self._procedure_overdue_since = None
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch_deadlines())

    async def _escalate_procedure(self, days: int, due_at: datetime) -> None:
        self._procedure_overdue_since = workflow.now()
        await self._attempt(
            case_steps.record_procedure_overdue,
            RecordProcedureOverdue(
                case_id=self._case.case_id,
                step_key=f"procedure-overdue-{days}",
                stage=self._stage,
                working_days=days,
                due_at=due_at,
                raised_at=self._procedure_overdue_since,
            ),
        )

    @action_update(Action.EXTEND_DEADLINE)
    async def extend_deadline(self, request: ExtendDeadline) -> CaseView:
        key = f"extend-deadline/{request.request_id}"
        if key not in self._handled_requests:
            # Checked again here: two extensions may both pass the validator in one task.
            if self._extension is not None:
                raise reject(Rejection.WRONG_STAGE, "the time limit was already extended, once")
            self._extension = request
        if await self._first_time(
            request.request_id,
            request.actor,
            AuditAction.EXTEND_DEADLINE,
            request,
            "extend-deadline",
        ):
            await self._arm_procedure_deadline(extended=True)
        return self.state()

    @extend_deadline.validator
    def _validate_extend_deadline(self, request: ExtendDeadline) -> None:
        if self._seen(f"extend-deadline/{request.request_id}", request.actor):
            return
        self._require_open()
        self._require_actor(
            request.actor, Action.EXTEND_DEADLINE, "extend the whole-procedure time limit"
        )
        extended = self._pack.whole_procedure_extended_working_days
        if extended is None or self._procedure_due is None:
            raise reject(
                Rejection.WRONG_STAGE,
                f"the rule pack {self._case.rule_pack_id} sets no whole-procedure limit that "
                "may be extended for this case",
            )
        if self._extension is not None:
            raise reject(
                Rejection.WRONG_STAGE,
                f"the time limit was already extended to {extended} working days, once",
            )
        if self._procedure_decided():
            raise reject(Rejection.WRONG_STAGE, "the case is decided; no time limit runs")
        if not request.reason.strip():
            raise reject(
                Rejection.INVALID, "reason: an extension is for special cases, with the reason"
            )

    # --- steps that give up become incidents -----------------------------------------------------

    async def _act(
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
        result = await self._attempt(step, arg, timeout=timeout, retry=retry, heartbeat=heartbeat)
        assert result is not None, f"{step.__name__} is not skippable"
        return result

    async def _attempt(
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
                    self._local_steps += 1
                    local_id = f"L{self._local_steps}"  # incidents match its failed attempts
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
                resolution = await self._incident(activity, key, arg, failure)
            except (ApplicationError, StepTimeout) as err:
                # A local activity that gave up: its error comes unwrapped.
                key = str(getattr(arg, "step_key", "") or activity)
                failure = Failed(local_id, err, str(err))
                resolution = await self._incident(activity, key, arg, failure)
            if isinstance(resolution, SkipStep):
                return None
            if isinstance(resolution, CloseCase):
                self._close_at(activity, resolution)
                return None
            arg = apply_corrections(arg, resolution.corrections_json)

    def _close_at(self, activity: str, resolution: CloseCase) -> None:
        """Ops closed the case at this step: it closes as terminated, with the ops reason on
        the household's notice. A step the closing does without is dropped; a needed one ends
        the main line (CaseClosing) or, inside an update, refuses that update."""
        if not self._closing():
            self._termination = Terminate(
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

    async def _incident(
        self, activity: str, step: str, arg: Any, err: Failed
    ) -> RetryStep | SkipStep | CloseCase:
        self._incident_no += 1
        info = workflow.info()
        incident_id = f"I-{info.run_id}-{self._incident_no}"
        cause = err.cause
        error = f"{type(cause).__name__}: {cause}" if cause is not None else err.message
        opened: IncidentOpened = await workflow.execute_activity(
            case_steps.open_incident,
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
                correctable_fields=correctable_fields(arg),
            ),
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
            options=incident_options(activity, correctable_fields(arg)),
        )
        self._incident_inputs[incident_id] = arg
        self._mark_incidents()
        await workflow.wait_condition(lambda: incident_id in self._resolutions)
        resolution = self._resolutions[incident_id]
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
        del self._resolutions[incident_id]
        self._claims.pop(f"incident/{incident_id}", None)
        del self._incidents[incident_id]
        del self._incident_inputs[incident_id]
        self._mark_incidents()
        return resolution

    async def _answer_when(self, condition: Callable[[], bool]) -> None:
        """Where an update waits to answer: until its effect shows, the case closes, or a step
        gave up and waits for ops (then it answers at once, showing the incident, rather than
        hold the caller until ops have acted)."""
        await workflow.wait_condition(lambda: condition() or self._closed or bool(self._incidents))

    def _mark_incidents(self) -> None:
        first = next(iter(self._incidents.values()), None)
        workflow.upsert_search_attributes(
            [sa.INCIDENT.value_set(first.activity_type) if first else sa.INCIDENT.value_unset()]
        )

    def _require_incident(self, incident_id: str, actor: Actor) -> IncidentRef:
        self._require_actor(actor, Action.OPERATE, "retry or skip a failed step, or close its case")
        incident = self._incidents.get(incident_id)
        if incident_id in self._resolutions or f"incident/{incident_id}" in self._claims:
            raise reject(Rejection.WRONG_STAGE, f"incident {incident_id} is being resolved")
        if incident is None:
            open_ids = ", ".join(i for i in self._incidents if i not in self._resolutions)
            open_ids = open_ids or "none"
            raise reject(
                Rejection.WRONG_STAGE,
                f"incident {incident_id} is not open on this case (open: {open_ids})",
            )
        return incident

    async def _resolve(
        self, request: RetryStep | SkipStep | CloseCase, action: AuditAction, prefix: str
    ) -> CaseView:
        """Hand the incident its resolution (once per request) and answer when it is closed."""
        if await self._first_time(
            request.request_id,
            request.actor,
            action,
            request,
            prefix,
            claim=f"incident/{request.incident_id}",
        ):
            self._resolutions[request.incident_id] = request
        await workflow.wait_condition(lambda: request.incident_id not in self._incidents)
        if isinstance(request, CloseCase):
            await self._answer_when(lambda: self._closed)
        return self.state()

    @workflow.update
    async def retry_step(self, request: RetryStep) -> CaseView:
        self._recheck(self._validate_retry_step, request)
        return await self._resolve(request, AuditAction.RETRY_STEP, "retry-step")

    @retry_step.validator
    def _validate_retry_step(self, request: RetryStep) -> None:
        self._require_actor(request.actor, Action.OPERATE, "retry or skip a failed step")
        if self._seen(f"retry-step/{request.request_id}", request.actor):
            return
        self._require_incident(request.incident_id, request.actor)
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: say why the step is retried")
        try:
            parse_corrections(self._incident_inputs[request.incident_id], request.corrections_json)
        except CorrectionError as err:
            raise reject(Rejection.INVALID, str(err)) from None

    @workflow.update
    async def skip_step(self, request: SkipStep) -> CaseView:
        self._recheck(self._validate_skip_step, request)
        return await self._resolve(request, AuditAction.SKIP_STEP, "skip-step")

    @skip_step.validator
    def _validate_skip_step(self, request: SkipStep) -> None:
        self._require_actor(request.actor, Action.OPERATE, "retry or skip a failed step")
        if self._seen(f"skip-step/{request.request_id}", request.actor):
            return
        incident = self._require_incident(request.incident_id, request.actor)
        if not incident.skippable:
            raise reject(
                Rejection.WRONG_STAGE,
                f"step {incident.step} ({incident.activity_type}) cannot be skipped: the case "
                "needs its result; retry it, with corrected input if the input was wrong",
            )
        if not request.reason.strip():
            raise reject(Rejection.INVALID, "reason: say why the step is skipped")

    @workflow.update
    async def close_case(self, request: CloseCase) -> CaseView:
        return await self._resolve(request, AuditAction.CLOSE_CASE, "close-case")

    @close_case.validator
    def _validate_close_case(self, request: CloseCase) -> None:
        if self._seen(f"close-case/{request.request_id}", request.actor):
            return
        self._require_incident(request.incident_id, request.actor)
        if not request.reason.strip():
            raise reject(
                Rejection.INVALID, "reason: the household's notice says why the case is closed"
            )

    async def _audit(
        self,
        step_key: str,
        actor: Actor,
        action: AuditAction,
        payload: Any,
        at: datetime | None = None,
    ) -> None:
        await self._write_audit(
            AuditEntry(
                case_id=self._case.case_id,
                step_key=step_key,
                actor=actor,
                action=action,
                payload_sha256=payload_sha256(payload),
                at=at or workflow.now(),
            )
        )

    async def _write_audit(self, entry: AuditEntry) -> None:
        await self._act(
            case_steps.append_audit,
            entry,
        )

    async def _notice(self, kind: NoticeKind, step_key: str, **details: Any) -> None:
        issued: NoticeIssued | None = await self._attempt(
            case_steps.issue_notice,
            self._notice_of(kind, step_key, **details),
            timeout=policies.NOTICE_RENDER_TIMEOUT,
            retry=policies.DB_RETRY,
        )
        if issued is not None:  # None: skipped by ops, with the reason in the audit log
            self._notices.append(issued.notice)

    def _notice_of(
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
            decided_at=decided_at,
            notice_working_days=(
                self._pack.refusal_notice_working_days if decided_at is not None else None
            ),
            assessment=self._assessment if kind in ASSESSED_NOTICES else None,
        )
