"""Activities of the procedure: postings, county spot checks, certificates and entitlements.

Each is keyed by (case, step) or by case under a unique constraint: a retry or replay returns
the first result and never posts, draws, numbers or pays twice.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dibao.db import case_links_repo, cases_repo, procedure_repo
from dibao.db.procedure_models import EntitlementRow, PayeeAccountRow, PostingRow
from dibao.domain.calendar import china_date
from dibao.domain.enums import PostingOutcome, Relation, Stage
from dibao.messages.case import (
    CertificateIssued,
    ClosePosting,
    DrawSpotCheck,
    EntitlementRecorded,
    IssueCertificate,
    OpenPosting,
    PayeeRecorded,
    PostingClosed,
    PostingRef,
    RecordEntitlement,
    RecordPayee,
    SpotCheckResult,
)
from dibao.settings import Settings


def posting_id_for(case_id: str, step_key: str) -> str:
    return "P-" + hashlib.sha256(f"{case_id}/{step_key}".encode()).hexdigest()[:20]


class ProcedureActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="open_posting")
    async def open_posting(self, request: OpenPosting) -> PostingRef:
        async with self._sessions() as session:
            case = await cases_repo.get_case(session, request.case_id)
            application = await cases_repo.get_application_payload(session, request.case_id)
            if case is None or application is None:
                raise ApplicationError(f"case {request.case_id} is unknown", non_retryable=True)
            # After a family change the posting names the household's head as it now is.
            members = await case_links_repo.current_members(session, request.case_id)
            head = next(
                m
                for m in (members or application.payload["members"])
                if m["relation"] == Relation.HEAD.value
            )
            row = await procedure_repo.open_posting(
                session,
                PostingRow(
                    posting_id=posting_id_for(request.case_id, request.step_key),
                    case_id=request.case_id,
                    step_key=request.step_key,
                    stage=request.stage.value,
                    village_code=case.village_code,
                    township_code=case.township_code,
                    # Only what may be posted: the head's name, household size, category and
                    # amount. No ID numbers, addresses, or anything about the children.
                    head_name=head["name"],
                    household_size=request.household_size,
                    category=request.category,
                    monthly_amount_fen=request.monthly_amount_fen,
                    opens_at=request.opens_at,
                    closes_at=request.closes_at,
                    outcome=PostingOutcome.OPEN.value,
                    closed_at=None,
                ),
            )
        return PostingRef(
            posting_id=row.posting_id,
            stage=Stage(row.stage),
            opens_at=row.opens_at,
            closes_at=row.closes_at,
            outcome=PostingOutcome(row.outcome),
        )

    @activity.defn(name="close_posting")
    async def close_posting(self, request: ClosePosting) -> PostingClosed:
        async with self._sessions() as session:
            outcome = await procedure_repo.close_posting(
                session, request.posting_id, request.outcome, request.closed_at
            )
        return PostingClosed(posting_id=request.posting_id, outcome=outcome)

    @activity.defn(name="draw_spot_check")
    async def draw_spot_check(self, request: DrawSpotCheck) -> SpotCheckResult:
        async with self._sessions() as session:
            case = await cases_repo.get_case(session, request.case_id)
            if case is None:
                raise ApplicationError(f"case {request.case_id} is unknown", non_retryable=True)
            year = date.fromisoformat(request.decided_on).year
            row = await procedure_repo.draw_spot_check(
                session,
                request.case_id,
                case.county_code,
                year,
                f"{self._settings.spot_check_seed}:{case.county_code}:{year}",
                request.share,
            )
        return SpotCheckResult(
            selected=row.selected, seed=row.seed, draw=row.draw, reason=row.reason
        )

    @activity.defn(name="issue_certificate")
    async def issue_certificate(self, request: IssueCertificate) -> CertificateIssued:
        async with self._sessions() as session:
            case = await cases_repo.get_case(session, request.case_id)
            if case is None:
                raise ApplicationError(f"case {request.case_id} is unknown", non_retryable=True)
            row = await procedure_repo.issue_certificate(
                session,
                request.case_id,
                case.county_code,
                china_date(request.issued_at).year,
                request.issued_at,
            )
        return CertificateIssued(certificate_no=row.certificate_no)

    @activity.defn(name="record_entitlement")
    async def record_entitlement(self, request: RecordEntitlement) -> EntitlementRecorded:
        async with self._sessions() as session:
            entitlement_id = await procedure_repo.record_entitlement(
                session,
                EntitlementRow(
                    case_id=request.case_id,
                    step_key=request.step_key,
                    certificate_no=request.certificate_no,
                    effective_month=request.from_month,
                    monthly_amount_fen=request.monthly_amount_fen,
                    category=request.category.value,
                    reason=request.reason,
                    recorded_at=request.recorded_at,
                    change_kind=request.change_kind,
                    paid_members=request.paid_members or None,
                ),
            )
        return EntitlementRecorded(entitlement_id=entitlement_id)

    @activity.defn(name="record_payee")
    async def record_payee(self, request: RecordPayee) -> PayeeRecorded:
        async with self._sessions() as session:
            payee_id = await procedure_repo.record_payee(
                session,
                PayeeAccountRow(
                    case_id=request.case_id,
                    step_key=request.step_key,
                    account_holder=request.payee.account_holder,
                    bank=request.payee.bank,
                    account_no=request.payee.account_no,
                    agent=request.payee.agent,
                    agent_reason=request.payee.agent_reason,
                    recorded_by=request.recorded_by,
                    recorded_at=request.recorded_at,
                ),
            )
        return PayeeRecorded(payee_id=payee_id, payee=request.payee)

    def all(self) -> list[Any]:
        return [
            self.record_payee,
            self.open_posting,
            self.close_posting,
            self.draw_spot_check,
            self.issue_certificate,
            self.record_entitlement,
        ]
