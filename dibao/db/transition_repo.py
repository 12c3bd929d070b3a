"""A case's stage change, written whole in one transaction (workflows' `record_transition`).

Every part is keyed by (case, step) or by case under a unique constraint, so a retried
activity, a replayed workflow or a reset finds the first write instead of making a second
one; the transaction commits once, at the end, so a failed attempt leaves nothing half done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import (
    audit_repo,
    calendar_repo,
    cases_repo,
    notices_repo,
    ops_repo,
    procedure_repo,
    standards_repo,
)
from dibao.db.models import NoticeRow
from dibao.db.procedure_models import EntitlementRow, PostingRow
from dibao.domain.calendar import Deadline, add_working_days, china_date
from dibao.domain.enums import NoticeKind, PostingOutcome, Relation, Stage
from dibao.domain.standards import StandardInForce
from dibao.messages.case import (
    IssueNotice,
    NoticeRef,
    PostingRef,
    ProcedureDeadline,
    RecordTransition,
    SpotCheckResult,
    StageRecorded,
    TransitionRecorded,
)

# The activities a transition stands in for: a failure drill on one of them applies to it.
PARTS = (
    "append_audit",
    "close_posting",
    "issue_certificate",
    "record_entitlement",
    "record_stage",
    "record_procedure_deadline",
    "open_posting",
    "draw_spot_check",
    "standard_in_force",
    "issue_notice",
)

# What a notice says, rendered from the case as this transaction has written it so far.
Render = Callable[[AsyncSession, IssueNotice], Awaitable[str]]


@dataclasses.dataclass(frozen=True)
class Ids:
    """How the stored rows of a transition are named (activities/ owns the schemes)."""

    notice_id: Callable[[str, str], str]
    posting_id: Callable[[str, str], str]


async def working_days_after(session: AsyncSession, start: datetime, days: int) -> Deadline:
    day = china_date(start)
    is_working_day = await calendar_repo.working_day_function(
        session, day, calendar_repo.horizon(day, days)
    )
    return add_working_days(day, days, is_working_day)


async def drilled_parts(session: AsyncSession, case_id: str) -> tuple[str, ...]:
    drills = await ops_repo.list_drills(session)
    return tuple(
        d.activity_type for d in drills if d.activity_type in PARTS and d.case_id in (None, case_id)
    )


async def record_transition(
    session: AsyncSession,
    t: RecordTransition,
    *,
    workflow_id: str,
    run_id: str,
    spot_check_seed: str,
    ids: Ids,
    render: Render,
    content_sha256: Callable[[str], str],
    now: datetime,
) -> TransitionRecorded:
    change = t.change
    case_id = change.case_id
    case = await cases_repo.get_case(session, case_id)
    application = await cases_repo.get_application_payload(session, case_id)
    if case is None or application is None:
        raise LookupError(f"case {case_id} has no projection row")
    members = application.payload["members"]

    for entry in t.audits:
        await audit_repo.append_once(session, entry, commit=False)

    posting_closed = None
    if t.close_posting is not None:
        posting_closed = await procedure_repo.close_posting(
            session,
            t.close_posting.posting_id,
            t.close_posting.outcome,
            t.close_posting.closed_at,
            commit=False,
        )

    # The stage itself: its deadline on the working-day calendar, the staff to recuse.
    due_at, warning = None, None
    if change.working_days is not None:
        deadline = await working_days_after(
            session, change.counted_from or change.entered_at, change.working_days
        )
        due_at, warning = deadline.due_at, deadline.warning
    id_numbers = [m["id_number"].upper() for m in members]
    recused = await procedure_repo.recused_staff_for(session, id_numbers)
    stage = StageRecorded(due_at=due_at, due_warning=warning, recused_staff=tuple(recused))
    await cases_repo.record_stage(
        session, change, stage, closed=not change.status.is_open, commit=False
    )
    await ops_repo.supersede_other_runs(session, workflow_id, run_id, now, commit=False)

    procedure = None
    if t.procedure_deadline is not None:
        limit = await working_days_after(
            session, t.procedure_deadline.accepted_at, t.procedure_deadline.working_days
        )
        await cases_repo.record_procedure_deadline(session, case_id, limit.due_at, commit=False)
        procedure = ProcedureDeadline(due_at=limit.due_at, due_warning=limit.warning)

    posting = None
    if t.open_posting is not None:
        o = t.open_posting
        head = next(m for m in members if m["relation"] == Relation.HEAD.value)
        row = await procedure_repo.open_posting(
            session,
            PostingRow(
                posting_id=ids.posting_id(case_id, o.step_key),
                case_id=case_id,
                step_key=o.step_key,
                stage=o.stage.value,
                village_code=case.village_code,
                township_code=case.township_code,
                # Only what may be posted: the head's name, household size, category and
                # amount. No ID numbers, addresses, or anything about the children.
                head_name=head["name"],
                household_size=o.household_size,
                category=o.category,
                monthly_amount_fen=o.monthly_amount_fen,
                opens_at=o.opens_at,
                closes_at=o.closes_at,
                outcome=PostingOutcome.OPEN.value,
                closed_at=None,
            ),
            commit=False,
        )
        posting = PostingRef(
            posting_id=row.posting_id,
            stage=Stage(row.stage),
            opens_at=row.opens_at,
            closes_at=row.closes_at,
            outcome=PostingOutcome(row.outcome),
        )

    standard = None
    if t.standard is not None:
        q = t.standard
        found = await standards_repo.standard_in_force(session, q.county_code, q.area_type, q.month)
        standard = StandardInForce(standard=found, month=q.month)

    # Last, and briefly: the county-year counters (spot checks, certificate numbers) are
    # serialised by advisory locks held until the commit.
    spot = None
    if t.spot_check is not None:
        year = date.fromisoformat(t.spot_check.decided_on).year
        drawn = await procedure_repo.draw_spot_check(
            session,
            case_id,
            case.county_code,
            year,
            f"{spot_check_seed}:{case.county_code}:{year}",
            t.spot_check.share,
            commit=False,
        )
        spot = SpotCheckResult(
            selected=drawn.selected, seed=drawn.seed, draw=drawn.draw, reason=drawn.reason
        )

    certificate_no = None
    notices = t.notices
    if t.approval is not None:
        issued_at = t.approval.issued_at
        certificate = await procedure_repo.issue_certificate(
            session, case_id, case.county_code, china_date(issued_at).year, issued_at, commit=False
        )
        certificate_no = certificate.certificate_no
        e = t.approval.entitlement
        await procedure_repo.record_entitlement(
            session,
            EntitlementRow(
                case_id=e.case_id,
                step_key=e.step_key,
                certificate_no=certificate_no,
                effective_month=e.from_month,
                monthly_amount_fen=e.monthly_amount_fen,
                category=e.category.value,
                reason=e.reason,
                recorded_at=e.recorded_at,
                change_kind=e.change_kind,
                paid_members=e.paid_members or None,
            ),
            commit=False,
        )
        notices = tuple(
            dataclasses.replace(n, certificate_no=certificate_no)
            if n.kind is NoticeKind.APPROVAL
            else n
            for n in notices
        )

    # Rendered last: a notice states the stage's due date and the certificate as written.
    await session.flush()
    await session.refresh(case)
    refs = []
    for n in notices:
        existing = (
            await session.execute(
                select(NoticeRow).where(
                    NoticeRow.case_id == case_id, NoticeRow.step_key == n.step_key
                )
            )
        ).scalar_one_or_none()
        if existing is None:
            content = await render(session, n)
            existing = await notices_repo.store_once(
                session,
                notice_id=ids.notice_id(case_id, n.step_key),
                case_id=case_id,
                step_key=n.step_key,
                kind=n.kind.value,
                content=content,
                content_sha256=content_sha256(content),
                issued_at=n.issued_at,
                commit=False,
            )
        refs.append(
            NoticeRef(
                notice_id=existing.notice_id, kind=n.kind, content_sha256=existing.content_sha256
            )
        )
    await session.commit()
    return TransitionRecorded(
        stage=stage,
        posting_closed=posting_closed,
        certificate_no=certificate_no,
        procedure_deadline=procedure,
        posting=posting,
        spot_check=spot,
        standard=standard,
        notices=tuple(refs),
    )
