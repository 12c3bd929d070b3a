"""CaseState: everything a case workflow holds, as one object.

Every phase reads and changes this one object: the shared steps (workflows/case_shared.py),
the procedure (workflows/case_procedure.py), the recipient phase (workflows/case_recipient.py)
and family changes (workflows/case_household.py); `CaseWorkflow` (workflows/case.py) composes
them. Its whole carried part goes, as one `CarriedState`, into the next run's input when a
review cycle continues as new, and comes back out of it here; what is not carried is declared
in `TRANSIENT`, with why (tests/workflows/test_carried_state.py holds both to it).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.application import Member, Payee
    from dibao.domain.eligibility import Assessment, HouseholdFacts, posted_category
    from dibao.domain.enums import CaseStatus, Material, Stage
    from dibao.domain.materials import missing_materials, provided_materials
    from dibao.domain.measures import SubmitEvidence
    from dibao.domain.ops import IncidentRef
    from dibao.domain.recipient import PaymentChange, RecipientState
    from dibao.domain.rulepacks import RulePack, get_rule_pack
    from dibao.domain.standards import StandardQuery
    from dibao.domain.verification import VerificationOutcome
    from dibao.messages.case import (
        AuditEntry,
        CarriedState,
        CaseInput,
        CloseCase,
        ClosePosting,
        Entitlement,
        ExtendDeadline,
        IssueNotice,
        NoticeRef,
        ObjectionRef,
        PostingRef,
        ProcedureDeadline,
        RecordApproval,
        RetryStep,
        SkipStep,
        SubmitCountyDecision,
        SubmitCountyVisit,
        SubmitEvaluation,
        SubmitSurvey,
        SubmitTownshipReview,
        Terminate,
        Withdraw,
    )


class CaseState:
    """The case workflow's state: one attribute per fact, nothing else of the run."""

    # Attributes not carried to the next run, and why: the case input itself (`case`, and the
    # pack it pins, `pack`); a wake-up flag and the deadline watcher of this run's loop;
    # what a stage change of the procedure writes with it (empty in the recipient phase); claims of
    # stages already answered; incidents, which are open only while a step waits, never when a
    # review cycle ends (all handlers have finished and no step is running then); the count
    # of local activities, which names them within one run only.
    TRANSIENT = frozenset(
        {
            "case",
            "pack",
            "rewake",
            "watcher",
            "pending_audits",
            "unrecorded",
            "leaving_posting",
            "pending_approval",
            "pending_standard",
            "claims",
            "incidents",
            "incident_inputs",
            "resolutions",
            "local_steps",
            # Set only while a payment change of the recipient phase is posted, which ends
            # before a review cycle continues as new.
            "change_posting_until",
            # Answered before approval (the audit log keeps the evidence); the recipient
            # phase, the only one that continues as new, never reads them.
            "evidence",
            "evidence_heard",
        }
    )
    # Idempotency keys kept for the next run: enough for any retry a client still sends.
    CARRIED_REQUESTS = 200

    def __init__(self, case: CaseInput) -> None:
        app = case.application
        self.case = case
        self.pack: RulePack = case.rule_pack or get_rule_pack(case.rule_pack_id)
        self.stage = Stage.APPLICATION
        self.status = CaseStatus.FILED
        self.seq = 0
        self.stage_entered_at: datetime = case.filed_at
        self.due_at: datetime | None = None
        self.due_warning: str | None = None
        self.provided = provided_materials(
            app.materials, app.declaration_signed, app.verification_authorised
        )
        self.notices: list[NoticeRef] = []
        self.withdrawal: Withdraw | None = None
        self.termination: Terminate | None = None
        self.accepted = False
        self.closed = False
        self.handled_requests: set[str] = set()
        # The one request that answers each step (stage slot -> request key), claimed by its
        # handler before the first await: the first accepted action of a stage wins.
        self.claims: dict[str, str] = {}
        # procedure
        self.survey: SubmitSurvey | None = None
        self.verification: VerificationOutcome | None = None
        self.assessment: Assessment | None = None
        self.evaluation: SubmitEvaluation | None = None
        # Art. 18: the family's evidence on a failed check, and whether its period was held.
        self.evidence: SubmitEvidence | None = None
        self.evidence_heard = False
        self.township: SubmitTownshipReview | None = None
        self.county_visit: SubmitCountyVisit | None = None
        self.visit_reasons: list[str] = []
        self.decision: SubmitCountyDecision | None = None
        self.entitlement: Entitlement | None = None
        self.postings: list[PostingRef] = []
        self.objections: list[ObjectionRef] = []
        self.pending_objection: ObjectionRef | None = None
        self.recused: tuple[str, ...] = ()
        self.approved: dict[Stage, bool] = {}
        self.after_objection = False
        # recipient phase
        self.recipient: RecipientState | None = None
        self.changes: list[PaymentChange] = []
        self.change_no = 0
        self.review_due = False
        self.review_survey: SubmitSurvey | None = None
        # Set by a handler that moves a wake-up time (e.g. a gradual exit's end).
        self.rewake = False
        # supervision and operations
        self.overdue_since: datetime | None = None
        # One task watches every open deadline (the stage's, the whole procedure's).
        self.watcher: asyncio.Task[None] | None = None
        # What the next stage change writes with it: the audit entries of the actions that
        # cause it (their updates answer once written), the posting the stage leaves, the
        # approval, the standard to assess on (with the facts assessed).
        self.pending_audits: list[AuditEntry] = []
        self.unrecorded: set[str] = set()
        self.leaving_posting: ClosePosting | None = None
        self.pending_approval: tuple[RecordApproval, IssueNotice, Entitlement] | None = None
        self.pending_standard: tuple[StandardQuery, HouseholdFacts] | None = None
        # The whole procedure's limit (mca-2021 Art. 22), from acceptance to decision.
        self.accepted_at: datetime | None = None
        self.procedure_days: int | None = None
        self.procedure_due: ProcedureDeadline | None = None
        self.procedure_overdue_since: datetime | None = None
        self.extension: ExtendDeadline | None = None
        self.incident_no = 0
        self.local_steps = 0  # local activities started by this run, for their IDs
        self.incidents: dict[str, IncidentRef] = {}
        self.incident_inputs: dict[str, Any] = {}
        self.resolutions: dict[str, RetryStep | SkipStep | CloseCase] = {}
        self.payee: Payee | None = case.application.payee
        # Until when the recipient phase posts a payment change (set while it does): the next
        # change's ledger entry is written only after it (a linked new case waits for it).
        self.change_posting_until: datetime | None = None
        if case.carried is not None:
            self.restore(case.carried)

    # --- continue-as-new: the whole state, carried --------------------------------------------

    def carried(self) -> CarriedState:
        assert self.recipient is not None
        return CarriedState(
            recipient=self.recipient,
            stage=self.stage,
            status=self.status,
            seq=self.seq,
            stage_entered_at=self.stage_entered_at,
            due_at=self.due_at,
            due_warning=self.due_warning,
            provided=tuple(sorted(self.provided)),
            notices=tuple(self.notices),
            withdrawal=self.withdrawal,
            termination=self.termination,
            accepted=self.accepted,
            closed=self.closed,
            handled_requests=tuple(sorted(self.handled_requests))[-self.CARRIED_REQUESTS :],
            survey=self.survey,
            verification=self.verification,
            assessment=self.assessment,
            evaluation=self.evaluation,
            township=self.township,
            county_visit=self.county_visit,
            visit_reasons=tuple(self.visit_reasons),
            decision=self.decision,
            entitlement=self.entitlement,
            postings=tuple(self.postings),
            objections=tuple(self.objections),
            pending_objection=self.pending_objection,
            recused=self.recused,
            approved=tuple(self.approved.items()),
            after_objection=self.after_objection,
            changes=tuple(self.changes),
            change_no=self.change_no,
            review_due=self.review_due,
            review_survey=self.review_survey,
            overdue_since=self.overdue_since,
            incident_no=self.incident_no,
            payee=self.payee,
            accepted_at=self.accepted_at,
            procedure_days=self.procedure_days,
            procedure_due=self.procedure_due,
            procedure_overdue_since=self.procedure_overdue_since,
            extension=self.extension,
        )

    def restore(self, carried: CarriedState) -> None:
        self.recipient = carried.recipient
        self.stage, self.status, self.seq = carried.stage, carried.status, carried.seq
        self.stage_entered_at = carried.stage_entered_at
        self.due_at, self.due_warning = carried.due_at, carried.due_warning
        self.provided = frozenset(carried.provided)
        self.notices = list(carried.notices)
        self.withdrawal, self.termination = carried.withdrawal, carried.termination
        self.accepted, self.closed = carried.accepted, carried.closed
        self.handled_requests = set(carried.handled_requests)
        self.survey = carried.survey
        self.verification = carried.verification
        self.assessment = carried.assessment
        self.evaluation = carried.evaluation
        self.township = carried.township
        self.county_visit = carried.county_visit
        self.visit_reasons = list(carried.visit_reasons)
        self.decision = carried.decision
        self.entitlement = carried.entitlement
        self.postings = list(carried.postings)
        self.objections = list(carried.objections)
        self.pending_objection = carried.pending_objection
        self.recused = carried.recused
        self.approved = dict(carried.approved)
        self.after_objection = carried.after_objection
        self.changes = list(carried.changes)
        self.change_no = carried.change_no
        self.review_due = carried.review_due
        self.review_survey = carried.review_survey
        self.overdue_since = carried.overdue_since
        self.incident_no = carried.incident_no
        self.payee = carried.payee
        self.accepted_at = carried.accepted_at
        self.procedure_days, self.procedure_due = carried.procedure_days, carried.procedure_due
        self.procedure_overdue_since = carried.procedure_overdue_since
        self.extension = carried.extension

    def stage_slot(self, step: str) -> str:
        """A step answered once per entry into its stage (an objection's re-run is another)."""
        return f"{step}@{self.seq}"

    # --- what the state says (read by every phase) ----------------------------------------------

    def closing(self) -> bool:
        return self.withdrawal is not None or self.termination is not None

    def missing(self) -> tuple[Material, ...]:
        return missing_materials(self.case.application, self.provided)

    def members(self) -> tuple[Member, ...]:
        """The household as last established: the recipient's, the survey's, or as filed."""
        if self.recipient is not None:
            return self.recipient.members
        if self.survey is not None:
            return self.survey.report.members
        return self.case.application.members

    def household_size(self) -> int:
        if self.assessment is not None and self.assessment.single_person_members:
            return self.assessment.covered_size  # 单人保 (Art. 8): the amount is theirs
        if self.survey is not None:
            return len(self.survey.report.members)
        return len(self.case.application.members)

    def proposed_amount(self) -> tuple[int, str]:
        # An approval being written with this stage change states what is posted.
        entitlement = self.pending_approval[2] if self.pending_approval else self.entitlement
        if entitlement is not None:
            category = entitlement.category.value
            if self.assessment is not None and self.assessment.single_person_members:
                category = posted_category(self.assessment)
            return entitlement.monthly_amount_fen, category
        if self.township is not None and self.township.proposed_amount_fen is not None:
            category = self.assessment.category.value if self.assessment else ""
            return self.township.proposed_amount_fen, category
        if self.assessment is not None:
            return self.assessment.monthly_amount_fen, posted_category(self.assessment)
        return 0, ""

    def procedure_decided(self) -> bool:
        return self.closed or self.closing() or self.decision is not None
