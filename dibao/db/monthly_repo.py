"""The monthly statistics (月报) from the month's released payroll run and the ledger's
changes of the month."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.ledger_repo import IMPORT_STEP
from dibao.db.payroll_models import PayrollRunRow
from dibao.domain.monthly import ChangeGroup, MonthlyReport, PaidGroup, monthly_report
from dibao.domain.payroll import RunStatus, run_id_for

_PAID_SQL = text(
    """
WITH paid AS (
    -- What the month's released run booked per household; a household netting 0 is no
    -- recipient of the month (and adds 0 to the total).
    SELECT l.case_id, sum(l.amount_fen) AS amount
    FROM payroll_lines l
    JOIN payroll_runs r ON r.run_id = l.run_id
    WHERE r.run_id = :run_id AND r.status = :released
    GROUP BY l.case_id
    HAVING sum(l.amount_fen) <> 0
),
in_force AS (
    SELECT DISTINCT ON (e.case_id) e.case_id, e.category, e.paid_members
    FROM entitlement_changes e
    JOIN paid p ON p.case_id = e.case_id
    WHERE e.effective_month <= :month
    ORDER BY e.case_id, e.effective_month DESC, e.id DESC
)
SELECT c.township_code, c.area_type, coalesce(i.category, ''),
       count(*),
       sum(coalesce(nullif(i.paid_members, 0), jsonb_array_length(a.payload -> 'members'))),
       sum(p.amount)
FROM paid p
JOIN cases c ON c.case_id = p.case_id
LEFT JOIN in_force i ON i.case_id = p.case_id
LEFT JOIN applications a ON a.case_id = p.case_id
GROUP BY 1, 2, 3
"""
)

_CHANGES_SQL = text(
    """
SELECT c.township_code, e.change_kind, e.reason, count(DISTINCT e.case_id)
FROM entitlement_changes e
JOIN cases c ON c.case_id = e.case_id
WHERE c.county_code = :county AND e.effective_month = :month
  -- A household imported from the old ledger is no new household of the month.
  AND e.step_key <> :import_step
GROUP BY 1, 2, 3
"""
)


async def report(session: AsyncSession, county_code: str, month: str) -> MonthlyReport:
    run_id = run_id_for(county_code, month)
    run = await session.get(PayrollRunRow, run_id)
    released = run is not None and run.status == RunStatus.RELEASED.value
    paid = [
        PaidGroup(t, area, category, int(h), int(p or 0), int(amount))
        for t, area, category, h, p, amount in await session.execute(
            _PAID_SQL, {"run_id": run_id, "released": RunStatus.RELEASED.value, "month": month}
        )
    ]
    changes = [
        ChangeGroup(t, kind, reason, int(n))
        for t, kind, reason, n in await session.execute(
            _CHANGES_SQL, {"county": county_code, "month": month, "import_step": IMPORT_STEP}
        )
    ]
    return monthly_report(county_code, month, run_id, released, paid, changes)
