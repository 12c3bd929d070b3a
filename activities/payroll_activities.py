"""Activities of the payroll workflow: build a county's run for a period, release it.

Both are idempotent under the unique run ID (PR-{county}-{period}): a retried build returns
the run stored first, with the same bank file; a retried release returns the released run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from dibao.db import payroll_repo
from dibao.db.payroll_models import PayrollRunRow
from dibao.domain.money import format_yuan
from dibao.domain.payroll import (
    LINE_LABELS,
    BuildPayroll,
    DiscardPayroll,
    HouseholdPay,
    PayrollDiscarded,
    PayrollRun,
    PayrollRunRef,
    ReleasePayroll,
    RunStatus,
    period_label,
)
from dibao.notices.render import render_page
from dibao.settings import Settings

ROSTER_TEMPLATE = "payroll/roster.html.j2"


def run_ref(row: PayrollRunRow) -> PayrollRunRef:
    return PayrollRunRef(
        run_id=row.run_id,
        county_code=row.county_code,
        period=row.period,
        status=RunStatus(row.status),
        maker=row.maker,
        checker=row.checker,
        households=row.households,
        total_fen=row.total_fen,
        bank_file_sha256=row.bank_file_sha256,
        built_at=row.built_at,
        released_at=row.released_at,
    )


def _row(household: HouseholdPay, seq: int = 0) -> dict[str, Any]:
    return {
        "seq": seq,
        "holder": household.account_holder,
        "agent_reason": household.agent_reason if household.agent else "",
        "bank": household.bank,
        "account_no": household.account_no,
        "certificate_no": household.certificate_no,
        "amount": format_yuan(household.net_fen),
        "kinds": "、".join(dict.fromkeys(LINE_LABELS[line.kind] for line in household.lines)),
        "detail": "；".join(
            f"{line.month} {LINE_LABELS[line.kind]} {format_yuan(line.amount_fen)}"
            for line in household.lines
        ),
    }


def roster_page(
    templates_dir: Path, run: PayrollRun, bank_file_sha256: str, maker: str, built_at: datetime
) -> str:
    """The 花名册 for printing and signing: households paid, those netting zero, and those
    to be recovered outside the bank file."""
    paid = run.paid
    return render_page(
        templates_dir,
        ROSTER_TEMPLATE,
        {
            "run_id": run.run_id,
            "county_code": run.county_code,
            "period": run.period,
            "period_label": period_label(run.period),
            "rows": [_row(h, seq) for seq, h in enumerate(paid, start=1)],
            "offset_rows": [_row(h) for h in run.households if h.net_fen == 0],
            "outstanding_rows": [
                {**_row(h), "amount": format_yuan(-h.net_fen)} for h in run.outstanding
            ],
            "held_rows": [_row(h) for h in run.held],
            "households": len(paid),
            "total": format_yuan(run.total_fen),
            "bank_file_sha256": bank_file_sha256,
            "maker": maker,
            "built_at": built_at,
        },
    )


class PayrollActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="build_payroll")
    async def build_payroll(self, request: BuildPayroll) -> PayrollRunRef:
        async with heartbeating(), self._sessions() as session:
            try:
                row = await payroll_repo.build_run(
                    session,
                    request.county_code,
                    request.period,
                    request.maker,
                    request.built_at,
                    lambda run, sha: roster_page(
                        self._settings.templates_dir, run, sha, request.maker, request.built_at
                    ),
                )
            except payroll_repo.PendingDraft as err:
                # Retried: the build waits, visibly, until the earlier run is released.
                raise ApplicationError(str(err), type="PendingDraft") from err
        return run_ref(row)

    @activity.defn(name="release_payroll")
    async def release_payroll(self, request: ReleasePayroll) -> PayrollRunRef:
        async with self._sessions() as session:
            try:
                row = await payroll_repo.release_run(
                    session, request.run_id, request.checker, request.released_at
                )
            except payroll_repo.PayrollError as err:
                # The workflow's validator refuses these before they get here; a refusal now
                # means the run was changed outside the workflow, which a retry cannot mend.
                raise ApplicationError(
                    str(err), type=err.rejection.value, non_retryable=True
                ) from err
        return run_ref(row)

    @activity.defn(name="discard_payroll")
    async def discard_payroll(self, request: DiscardPayroll) -> PayrollDiscarded:
        async with self._sessions() as session:
            try:
                await payroll_repo.discard_run(
                    session,
                    request.run_id,
                    request.discarded_by,
                    request.reason,
                    request.discarded_at,
                )
            except payroll_repo.PayrollError as err:
                raise ApplicationError(
                    str(err), type=err.rejection.value, non_retryable=True
                ) from err
        return PayrollDiscarded(run_id=request.run_id)

    def all(self) -> list[Any]:
        return [self.build_payroll, self.release_payroll, self.discard_payroll]
