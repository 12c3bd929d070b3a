"""Activities of the case workflow: projection, audit log and notices.

Each writes under a unique (case, step) key, so a retry, a replay or a workflow reset finds
the first write instead of making a second one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.procedure_activities import posting_id_for
from dibao.db import (
    audit_repo,
    case_links_repo,
    cases_repo,
    notices_repo,
    ops_repo,
    procedure_repo,
    regions_repo,
    rulepacks_repo,
    transition_repo,
)
from dibao.domain.enums import Relation
from dibao.domain.materials import MATERIAL_LABELS
from dibao.domain.measures import remedy_text, states_remedy
from dibao.domain.money import format_yuan
from dibao.domain.rulepacks import get_rule_pack
from dibao.messages.case import (
    AuditEntry,
    AuditRecorded,
    IssueNotice,
    NoticeIssued,
    NoticeRef,
    ProcedureDeadline,
    RecordProcedureDeadline,
    RecordStage,
    RecordTransition,
    StageRecorded,
    TransitionRecorded,
)
from dibao.notices.render import content_sha256, render_notice
from dibao.settings import Settings


def notice_id_for(case_id: str, step_key: str) -> str:
    return "N-" + hashlib.sha256(f"{case_id}/{step_key}".encode()).hexdigest()[:20]


_working_days_after = transition_repo.working_days_after


def township_label(township_code: str, names: dict[str, str] | None = None) -> str:
    """示例镇人民政府 from the 行政区划 table; the code where the township has no name."""
    return regions_repo.township_office(names or {}, township_code)


class CaseActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="record_stage")
    async def record_stage(self, change: RecordStage) -> StageRecorded:
        async with self._sessions() as session:
            due_at, warning = await self._deadline(session, change)
            application = await cases_repo.get_application_payload(session, change.case_id)
            id_numbers = (
                [m["id_number"].upper() for m in application.payload["members"]]
                if application
                else []
            )
            recused = await procedure_repo.recused_staff_for(session, id_numbers)
            recorded = StageRecorded(
                due_at=due_at, due_warning=warning, recused_staff=tuple(recused)
            )
            await cases_repo.record_stage(
                session, change, recorded, closed=not change.status.is_open
            )
            info = activity.info()
            await ops_repo.supersede_other_runs(
                session,
                info.workflow_id or change.case_id,
                info.workflow_run_id or "",
                datetime.now(UTC),
            )
        return recorded

    async def _deadline(
        self, session: AsyncSession, change: RecordStage
    ) -> tuple[datetime | None, str | None]:
        days = change.working_days
        if days is None:
            return None, None
        deadline = await _working_days_after(
            session, change.counted_from or change.entered_at, days
        )
        return deadline.due_at, deadline.warning

    @activity.defn(name="record_procedure_deadline")
    async def record_procedure_deadline(
        self, request: RecordProcedureDeadline
    ) -> ProcedureDeadline:
        async with self._sessions() as session:
            deadline = await _working_days_after(session, request.accepted_at, request.working_days)
            await cases_repo.record_procedure_deadline(session, request.case_id, deadline.due_at)
        return ProcedureDeadline(due_at=deadline.due_at, due_warning=deadline.warning)

    @activity.defn(name="append_audit")
    async def append_audit(self, entry: AuditEntry) -> AuditRecorded:
        async with self._sessions() as session:
            audit_id = await audit_repo.append_once(session, entry)
        return AuditRecorded(audit_id=audit_id)

    @activity.defn(name="issue_notice")
    async def issue_notice(self, request: IssueNotice) -> NoticeIssued:
        async with self._sessions() as session:
            content = await self._render(session, request)
            row = await notices_repo.store_once(
                session,
                notice_id=notice_id_for(request.case_id, request.step_key),
                case_id=request.case_id,
                step_key=request.step_key,
                kind=request.kind.value,
                content=content,
                content_sha256=content_sha256(content),
                issued_at=request.issued_at,
            )
        return NoticeIssued(
            notice=NoticeRef(
                notice_id=row.notice_id,
                kind=request.kind,
                content_sha256=row.content_sha256,
            )
        )

    @activity.defn(name="record_transition")
    async def record_transition(self, transition: RecordTransition) -> TransitionRecorded:
        """A stage change with its audit entries, postings, approval and notices, written in
        one transaction (dibao/db/transition_repo.py)."""
        info = activity.info()
        async with self._sessions() as session:
            drilled = await transition_repo.drilled_parts(session, transition.change.case_id)
            if drilled:
                return TransitionRecorded(
                    stage=StageRecorded(due_at=None, due_warning=None), drilled=drilled
                )
            try:
                return await transition_repo.record_transition(
                    session,
                    transition,
                    workflow_id=info.workflow_id or transition.change.case_id,
                    run_id=info.workflow_run_id or "",
                    spot_check_seed=self._settings.spot_check_seed,
                    ids=transition_repo.Ids(notice_id=notice_id_for, posting_id=posting_id_for),
                    render=self._render,
                    content_sha256=content_sha256,
                    now=datetime.now(UTC),
                )
            except LookupError as err:
                raise ApplicationError(str(err), non_retryable=True) from None

    async def _render(self, session: AsyncSession, request: IssueNotice) -> str:
        case = await cases_repo.get_case(session, request.case_id)
        application = await cases_repo.get_application_payload(session, request.case_id)
        if case is None or application is None:
            raise ApplicationError(
                f"case {request.case_id} has no projection row", non_retryable=True
            )
        payload = application.payload
        # After a family change the notice addresses the household as it now is.
        members = await case_links_repo.current_members(session, request.case_id)
        if members is not None:
            payload = {**payload, "members": members}
        context = self._notice_context(request, payload)
        names = await regions_repo.names_of(session, [case.county_code, case.township_code])
        context.update(
            await _law_context(
                session,
                case.rule_pack_id,
                case.rule_pack_version,
                request,
                county_name=names.get(case.county_code, ""),
            )
        )
        decision_office = (
            # Art. 2: where the county delegated approval, the township decides, in its name.
            township_label(case.township_code, names)
            if context["approval_delegated"]
            else regions_repo.county_office(names, case.county_code)
        )
        context.update(
            reasons=list(request.reasons),
            certificate_no=request.certificate_no,
            monthly_amount=format_yuan(request.monthly_amount_fen),
            from_month=request.from_month,
            decided_at=request.decided_at,
            notice_working_days=request.notice_working_days,
            filed_at=case.filed_at,
            survey_due=case.due_at,
            rule_pack_title=get_rule_pack(case.rule_pack_id).title,
            township_label=township_label(case.township_code, names),
            # Decisions (approval, refusal) are issued in the deciding body's name: the county
            # bureau's, or the township's where approval is delegated to it (Art. 2).
            county_label=decision_office,
        )
        return render_notice(self._settings.templates_dir, request.kind, context)

    def _notice_context(self, request: IssueNotice, payload: dict[str, Any]) -> dict[str, Any]:
        """What every notice says of the household; `_law_context` adds the pack's rules."""
        members = payload["members"]
        head = next(m for m in members if m["relation"] == Relation.HEAD.value)
        return {
            "case_id": request.case_id,
            "head_name": head["name"],
            "household_size": len(members),
            "issued_at": request.issued_at,
            "missing": [MATERIAL_LABELS[m] for m in request.missing_materials],
            "reason": request.reason,
            "complaint_phone": self._settings.complaint_phone,
            "proxy": payload.get("proxy"),  # 委托申请 (Art. 6): recorded as such
        }

    def all(self) -> list[Any]:
        return [
            self.record_stage,
            self.record_procedure_deadline,
            self.append_audit,
            self.issue_notice,
            self.record_transition,
        ]


async def _law_context(
    session: AsyncSession, pack_id: str, version: int, request: IssueNotice, county_name: str
) -> dict[str, Any]:
    """What the pinned pack makes a notice say (issue 17): the remedies of an adverse decision
    (Arts. 21, 38), each deduction and exemption (Arts. 13–14), 单人保 (Art. 8)."""
    try:
        pack = await rulepacks_repo.get_pack(session, pack_id, version)
    except rulepacks_repo.UnknownRulePack:
        pack = get_rule_pack(pack_id)
    context: dict[str, Any] = {
        # The county's own government hears the review (行政复议): named from the region table.
        "remedy": remedy_text(pack, county_name)
        if states_remedy(request.kind, request.reason)
        else "",
        "income_notes": [],
        "single_person": "",
        "evidence_working_days": pack.evidence_working_days,  # Art. 18
        "approval_delegated": pack.approval_delegated,  # Art. 2
    }
    assessment = request.assessment
    if assessment is not None:
        context["income_notes"] = [n.text for n in assessment.income_notes]
        if assessment.single_person_members:
            context["single_person"] = assessment.single_person_basis
            context["household_size"] = assessment.covered_size
    return context
