"""Messages of the case workflow: its input, its queryable state, updates and activity payloads.

One frozen dataclass in and one out for every workflow, activity, update and query.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dibao.domain.actor import Actor as Actor
from dibao.domain.actor import Rejection as Rejection
from dibao.domain.application import Application, Payee
from dibao.domain.eligibility import Assessment, HouseholdCategory
from dibao.domain.enums import (
    AuditAction,
    CaseStatus,
    Material,
    NoticeKind,
    Opinion,
    PostingOutcome,
    Stage,
)
from dibao.domain.ops import IncidentRef
from dibao.domain.recipient import CircumstanceKind, PaymentChange, RecipientState
from dibao.domain.rulepacks import RulePack
from dibao.domain.standards import StandardInForce, StandardQuery
from dibao.domain.survey import SurveyReport
from dibao.domain.verification import VerificationOutcome


@dataclass(frozen=True)
class CaseInput:
    case_id: str
    application: Application
    rule_pack_id: str
    rule_pack_version: int
    filed_at: datetime
    filed_by: Actor
    request_id: str
    # The pack's parameters as they were when the case was filed; None in cases filed before
    # packs were pinned by value (the built-in pack of that id applies).
    rule_pack: RulePack | None = None
    # Set when the recipient phase continued as new before the whole state was carried
    # (`carried`): the case resumes there with what RecipientState holds.
    recipient: RecipientState | None = None
    # Set when the recipient phase continues as new: everything the last run held. Also the
    # way to start a case directly in its recipient phase (a household imported from a
    # ledger): a CarriedState with `recipient` set, stage RECIPIENT and status RECEIVING; the
    # run restores it and goes straight into the recipient phase.
    carried: "CarriedState | None" = None


@dataclass(frozen=True)
class NoticeRef:
    notice_id: str
    kind: NoticeKind
    content_sha256: str


@dataclass(frozen=True)
class CaseView:
    """The whole state of a case, as the `state` query returns it."""

    case_id: str
    stage: Stage
    status: CaseStatus
    rule_pack_id: str
    rule_pack_version: int
    application: Application
    filed_at: datetime
    stage_entered_at: datetime
    due_at: datetime | None
    due_warning: str | None
    provided_materials: tuple[Material, ...]
    missing_materials: tuple[Material, ...]
    notices: tuple[NoticeRef, ...]
    withdrawal_reason: str | None = None
    procedure: "ProcedureView" = field(default_factory=lambda: ProcedureView())
    recipient: RecipientState | None = None
    review_due: bool = False
    # Supervision and operations (issue 5): since when the stage is past its deadline, and
    # the step that gave up, which the case waits on until ops retry or skip it.
    overdue_since: datetime | None = None
    incidents: tuple[IncidentRef, ...] = ()
    # The account the benefit is paid into: the application's, or the one recorded since.
    payee: Payee | None = None
    # The whole procedure's limit from acceptance to decision (mca-2021 Art. 22), when the pack
    # sets one: its working days (30, or 45 once the county extended it with the reason given),
    # the due moment, and since when it has passed with no decision.
    procedure_working_days: int | None = None
    procedure_due_at: datetime | None = None
    procedure_due_warning: str | None = None
    procedure_extension_reason: str | None = None
    procedure_overdue_since: datetime | None = None


@dataclass(frozen=True)
class ChangePayee:
    """Record (or change) the account the household's benefit is paid into."""

    request_id: str
    actor: Actor
    payee: Payee


@dataclass(frozen=True)
class RecordPayee:
    case_id: str
    step_key: str
    payee: Payee
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class PayeeRecorded:
    payee_id: int
    # The payee as written: ops may have corrected the requested one (dibao.domain.ops).
    # None in results recorded before corrections of records existed.
    payee: Payee | None = None


@dataclass(frozen=True)
class ExtendDeadline:
    """The county extends the whole procedure's limit (mca-2021 Art. 22: to 45 working days in
    special cases), once, for the reason recorded."""

    request_id: str
    actor: Actor
    reason: str


@dataclass(frozen=True)
class RecordProcedureDeadline:
    """Compute the whole procedure's due date on the working-day calendar and project it."""

    case_id: str
    step_key: str
    accepted_at: datetime
    working_days: int


@dataclass(frozen=True)
class ProcedureDeadline:
    due_at: datetime
    due_warning: str | None = None


@dataclass(frozen=True)
class RecordProcedureOverdue:
    """The whole procedure's limit passed with no decision: mark the case, alert supervisors."""

    case_id: str
    step_key: str
    stage: Stage
    working_days: int
    due_at: datetime
    raised_at: datetime


@dataclass(frozen=True)
class RecuseStaff:
    """Signal: staff just registered as near relatives of a member of this household (近亲属备案)
    recuse at once, not at the next stage change. Staff IDs only: no relative's name or ID."""

    staff_ids: tuple[str, ...]


@dataclass(frozen=True)
class RetryStep:
    """Ops: run the failed step again, optionally with corrected input fields (a JSON object)."""

    request_id: str
    actor: Actor
    incident_id: str
    reason: str
    corrections_json: str = ""


@dataclass(frozen=True)
class SkipStep:
    """Ops: go on without the failed step; only for steps the case can do without."""

    request_id: str
    actor: Actor
    incident_id: str
    reason: str


@dataclass(frozen=True)
class CloseCase:
    """Ops: close the case at a failed step that can neither be run (even corrected) nor
    skipped; the household gets a termination notice with the reason."""

    request_id: str
    actor: Actor
    incident_id: str
    reason: str


@dataclass(frozen=True)
class SupplementMaterials:
    request_id: str
    actor: Actor
    materials: tuple[Material, ...] = ()
    declaration_signed: bool = False
    verification_authorised: bool = False


@dataclass(frozen=True)
class Withdraw:
    request_id: str
    actor: Actor
    reason: str


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    status: CaseStatus


# --- activity payloads ---------------------------------------------------------------------


@dataclass(frozen=True)
class RecordStage:
    case_id: str
    seq: int  # increases with every change, so a late retry never overwrites a newer stage
    stage: Stage
    status: CaseStatus
    entered_at: datetime
    rule_pack_id: str
    working_days: int | None = None  # the stage's limit from the pinned pack
    # When those working days start, where not on entering the stage (seed-default's township
    # review counts from receipt of the application, 陕西 第十条(一)).
    counted_from: datetime | None = None


@dataclass(frozen=True)
class StageRecorded:
    due_at: datetime | None
    due_warning: str | None
    # Staff registered as near relatives of a household member (近亲属备案), checked afresh at
    # every stage so a registration made after filing still takes effect.
    recused_staff: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEntry:
    case_id: str
    step_key: str  # unique per case: a retried or replayed step never writes a second row
    actor: Actor
    action: AuditAction
    payload_sha256: str
    at: datetime


@dataclass(frozen=True)
class AuditRecorded:
    audit_id: int


@dataclass(frozen=True)
class IssueNotice:
    case_id: str
    step_key: str
    kind: NoticeKind
    issued_at: datetime
    missing_materials: tuple[Material, ...] = ()
    reason: str = ""
    reasons: tuple[str, ...] = ()
    certificate_no: str = ""
    monthly_amount_fen: int = 0
    from_month: str = ""
    # A refusal states when it was decided and the limit for telling the household in
    # writing (mca-2021 Art. 21: 3 working days), which this notice, issued at once, meets.
    decided_at: datetime | None = None
    notice_working_days: int | None = None
    # The assessment a decision notice states: each deduction and exemption in words
    # (mca-2021 Arts. 13–14) and 单人保 (Art. 8); None on the other notices.
    assessment: Assessment | None = None


# The notices that state the assessment they decide on.
ASSESSED_NOTICES = frozenset({NoticeKind.APPROVAL, NoticeKind.REFUSAL})


@dataclass(frozen=True)
class NoticeIssued:
    notice: NoticeRef


# --- the procedure (issue 3) ---------------------------------------------------------------


@dataclass(frozen=True)
class SubmitSurvey:
    request_id: str
    actor: Actor
    report: SurveyReport


@dataclass(frozen=True)
class EvaluationComposition:
    township_staff: int = 0
    village_committee: int = 0
    group_leaders: int = 0
    villager_representatives: int = 0

    @property
    def total(self) -> int:
        return (
            self.township_staff
            + self.village_committee
            + self.group_leaders
            + self.villager_representatives
        )


@dataclass(frozen=True)
class SubmitEvaluation:
    request_id: str
    actor: Actor
    held_on: str  # ISO date
    attendees: int
    composition: EvaluationComposition
    votes_for: int
    votes_against: int
    votes_abstain: int
    notes: str = ""

    @property
    def approved(self) -> bool:
        """Secret ballot: more than half of the votes cast are in favour."""
        cast = self.votes_for + self.votes_against + self.votes_abstain
        return cast > 0 and self.votes_for * 2 > cast


@dataclass(frozen=True)
class RaiseObjection:
    request_id: str
    actor: Actor
    objection_id: str  # the objector's identity and contact stay in PostgreSQL, never here
    summary: str


@dataclass(frozen=True)
class SubmitTownshipReview:
    request_id: str
    actor: Actor
    opinion: Opinion
    reasons: tuple[str, ...] = ()
    proposed_amount_fen: int | None = None


@dataclass(frozen=True)
class SubmitCountyVisit:
    request_id: str
    actor: Actor
    visited_on: str  # ISO date
    visitors: tuple[str, ...]
    findings: str


@dataclass(frozen=True)
class SubmitCountyDecision:
    request_id: str
    actor: Actor
    opinion: Opinion
    category: HouseholdCategory | None = None  # default: the assessed category
    monthly_amount_fen: int | None = None  # default: the assessed amount
    override_reason: str = ""  # required when the amount or category differs from assessed
    reasons: tuple[str, ...] = ()  # required for a refusal; default: the failed rules


@dataclass(frozen=True)
class Terminate:
    request_id: str
    actor: Actor
    reason: str


@dataclass(frozen=True)
class PostingRef:
    posting_id: str
    stage: Stage
    opens_at: datetime
    closes_at: datetime
    outcome: PostingOutcome = PostingOutcome.OPEN


@dataclass(frozen=True)
class ObjectionRef:
    objection_id: str
    posting_id: str
    summary: str
    received_at: datetime


@dataclass(frozen=True)
class SpotCheckResult:
    selected: bool
    seed: str
    draw: float
    reason: str


@dataclass(frozen=True)
class Entitlement:
    certificate_no: str
    from_month: str  # "YYYY-MM"
    monthly_amount_fen: int
    category: HouseholdCategory


@dataclass(frozen=True)
class ProcedureView:
    """Everything the procedure has gathered; part of the `state` query."""

    survey: SurveyReport | None = None
    verification: VerificationOutcome | None = None
    assessment: Assessment | None = None
    evaluation: SubmitEvaluation | None = None
    township_review: SubmitTownshipReview | None = None
    county_visit_required: bool = False
    county_visit_reasons: tuple[str, ...] = ()
    county_visit: SubmitCountyVisit | None = None
    decision: SubmitCountyDecision | None = None
    entitlement: Entitlement | None = None
    postings: tuple[PostingRef, ...] = ()
    objections: tuple[ObjectionRef, ...] = ()
    recused_staff: tuple[str, ...] = ()
    closure_reason: str | None = None
    waiting_for: str = ""


# --- activity payloads of the procedure ----------------------------------------------------


@dataclass(frozen=True)
class OpenPosting:
    case_id: str
    step_key: str
    stage: Stage
    opens_at: datetime
    closes_at: datetime
    household_size: int
    monthly_amount_fen: int
    category: str


@dataclass(frozen=True)
class ClosePosting:
    case_id: str
    posting_id: str
    outcome: PostingOutcome
    closed_at: datetime


@dataclass(frozen=True)
class PostingClosed:
    posting_id: str
    outcome: PostingOutcome


@dataclass(frozen=True)
class DrawSpotCheck:
    case_id: str
    share: float
    decided_on: str  # ISO date; the selection is counted per county and year


@dataclass(frozen=True)
class IssueCertificate:
    case_id: str
    issued_at: datetime


@dataclass(frozen=True)
class CertificateIssued:
    certificate_no: str


@dataclass(frozen=True)
class RecordEntitlement:
    case_id: str
    step_key: str
    certificate_no: str
    from_month: str
    monthly_amount_fen: int
    category: HouseholdCategory
    reason: str
    recorded_at: datetime
    change_kind: str = "start"  # start, increase, decrease, unchanged, stop, suspend, resume
    # Members the amount is paid for (a member whose own portion stopped is not); the ledger's
    # per-member amounts are derived from it. 0: not recorded (cases recorded before it was).
    paid_members: int = 0


@dataclass(frozen=True)
class EntitlementRecorded:
    entitlement_id: int


# --- the recipient phase (issue 4) ---------------------------------------------------------


@dataclass(frozen=True)
class ReportSignIn:
    request_id: str
    actor: Actor
    month: str  # "YYYY-MM"
    done: bool


@dataclass(frozen=True)
class ReportLabourAbsence:
    request_id: str
    actor: Actor
    on: str  # ISO date
    justified: bool
    note: str = ""


@dataclass(frozen=True)
class ReportCircumstance:
    request_id: str
    actor: Actor
    kind: CircumstanceKind
    details: str


@dataclass(frozen=True)
class ApplyStandard:
    """A county's new standard, applied to this recipient from `effective_month`."""

    request_id: str
    actor: Actor
    urban_standard_fen_month: int
    rural_standard_fen_year: int
    effective_month: str  # "YYYY-MM"


class SkipReason(StrEnum):
    """Why a case of a batch was passed over; the first three are the case's own refusals."""

    WRONG_STAGE = "WrongStage"  # closed or not receiving any more
    INVALID = "InvalidAction"  # the case's pack refuses the standard or month
    RECUSED = "Recused"
    NO_WORKFLOW = "NoWorkflow"  # a receiving row whose workflow Temporal does not know
    OTHER = "Other"


@dataclass(frozen=True)
class SkippedCount:
    reason: SkipReason
    count: int


@dataclass(frozen=True)
class BatchProgress:
    """What a paged batch has done so far, carried whole into its next run."""

    after_case_id: str  # every case up to this one (by key) has been reached
    total: int  # receiving cases of the county when the batch began
    applied: int
    skipped_count: int
    skipped_by_reason: tuple[SkippedCount, ...]
    skipped: tuple[str, ...]  # the first SKIPPED_SHOWN "case_id: reason", not all of them
    runs: int  # runs before this one (continued as new)


@dataclass(frozen=True)
class StandardChangeInput:
    batch_id: str
    county_code: str
    urban_standard_fen_month: int
    rural_standard_fen_year: int
    effective_month: str
    requested_by: Actor
    # Paging of the batch: defaulted so that inputs of runs started before paging still decode.
    page_size: int = 500
    concurrency: int = 20
    cases_per_run: int = 2000  # continue as new after this many cases: history stays bounded
    carried: BatchProgress | None = None  # set when the batch continues as new


@dataclass(frozen=True)
class StandardChangeProgress:
    batch_id: str
    county_code: str
    effective_month: str
    total: int
    applied: int
    skipped: tuple[str, ...]  # "case_id: reason" for cases that refused the change (first ones)
    finished: bool
    skipped_count: int = 0
    skipped_by_reason: tuple[SkippedCount, ...] = ()
    runs: int = 1  # runs of the batch so far (it continues as new every cases_per_run)
    in_flight: int = 0

    @property
    def done(self) -> int:
        return self.applied + self.skipped_count


@dataclass(frozen=True)
class ListReceiving:
    county_code: str


@dataclass(frozen=True)
class ReceivingCases:
    case_ids: tuple[str, ...]


@dataclass(frozen=True)
class ReceivingPage:
    """One page of a county's receiving cases by key: case_id > after, at most limit."""

    county_code: str
    after: str
    limit: int


@dataclass(frozen=True)
class ReceivingCount:
    county_code: str
    total: int


@dataclass(frozen=True)
class ApplyStandardToCase:
    case_id: str
    update: ApplyStandard


@dataclass(frozen=True)
class StandardApplied:
    case_id: str
    skipped: str = ""  # why the case refused it (e.g. approved before the recipient phase)
    reason: SkipReason | None = None  # set with `skipped` (None in results of older runs)


@dataclass(frozen=True)
class ReportReemployment:
    """A member found work: 渐退 — the wage is not counted for the pack's gradual-exit months."""

    request_id: str
    actor: Actor
    member_id_number: str
    monthly_wage_fen: int
    started_on: str  # ISO date


@dataclass(frozen=True)
class ReportWorkRefusal:
    """A work-able member refused suitable work offered by the labour office (mca-2021 Art. 34)."""

    request_id: str
    actor: Actor
    member_id_number: str
    on: str  # ISO date
    justified: bool
    note: str = ""


# --- continue-as-new -----------------------------------------------------------------------


@dataclass(frozen=True)
class CarriedState:
    """Everything a case workflow accepted and holds, passed whole to its next run when a
    review cycle continues as new, so no report, notice or answer is dropped there.

    The workflow keeps these as attributes of its one state object (workflows/case_state.py);
    `CaseState.carried` and `restore` map them, and tests/workflows/test_carried_state.py fails
    when an attribute is neither carried nor declared transient."""

    recipient: RecipientState
    stage: Stage
    status: CaseStatus
    seq: int
    stage_entered_at: datetime
    due_at: datetime | None
    due_warning: str | None
    provided: tuple[Material, ...]
    notices: tuple[NoticeRef, ...]
    withdrawal: Withdraw | None
    termination: Terminate | None
    accepted: bool
    closed: bool
    handled_requests: tuple[str, ...]
    survey: SubmitSurvey | None
    verification: VerificationOutcome | None
    assessment: Assessment | None
    evaluation: SubmitEvaluation | None
    township: SubmitTownshipReview | None
    county_visit: SubmitCountyVisit | None
    visit_reasons: tuple[str, ...]
    decision: SubmitCountyDecision | None
    entitlement: Entitlement | None
    postings: tuple[PostingRef, ...]
    objections: tuple[ObjectionRef, ...]
    pending_objection: ObjectionRef | None
    recused: tuple[str, ...]
    approved: tuple[tuple[Stage, bool], ...]
    after_objection: bool
    changes: tuple[PaymentChange, ...]
    change_no: int
    review_due: bool
    review_survey: SubmitSurvey | None
    overdue_since: datetime | None
    incident_no: int
    payee: Payee | None
    # The whole-procedure limit (mca-2021 Art. 22), over once decided but part of the record.
    accepted_at: datetime | None = None
    procedure_days: int | None = None
    procedure_due: ProcedureDeadline | None = None
    procedure_overdue_since: datetime | None = None
    extension: ExtendDeadline | None = None


@dataclass(frozen=True)
class RecordApproval:
    """The county's approval as written with the stage change it causes: the certificate is
    numbered and the entitlement recorded under it (`entitlement.certificate_no` is filled in
    then, as is an approval notice's)."""

    issued_at: datetime
    entitlement: RecordEntitlement


@dataclass(frozen=True)
class RecordTransition:
    """One stage change and everything written with it, in one transaction keyed by (case,
    step): the stage event and projection, the audit entries of the actions that caused it,
    what the stage left behind (a posting closed, an approval) and what the new stage opens
    with (a posting, the county's spot check, the whole procedure's time limit), and the
    notices it issues. A retry, replay or reset writes nothing twice."""

    change: RecordStage
    audits: tuple[AuditEntry, ...] = ()
    close_posting: ClosePosting | None = None
    approval: RecordApproval | None = None
    procedure_deadline: RecordProcedureDeadline | None = None
    open_posting: OpenPosting | None = None
    spot_check: DrawSpotCheck | None = None
    standard: StandardQuery | None = None
    notices: tuple[IssueNotice, ...] = ()


@dataclass(frozen=True)
class TransitionRecorded:
    stage: StageRecorded
    posting_closed: PostingOutcome | None = None
    certificate_no: str | None = None
    procedure_deadline: ProcedureDeadline | None = None
    posting: PostingRef | None = None
    spot_check: SpotCheckResult | None = None
    standard: StandardInForce | None = None
    notices: tuple[NoticeRef, ...] = ()
    # Steps of the transition under a failure drill (`dibao ops drill`): nothing was written;
    # the workflow writes the parts one by one, so the drilled step fails as rehearsed.
    drilled: tuple[str, ...] = ()
