"""What the console's 发放 page reads of a payroll besides the run itself: the roster's
households a page at a time (by case ID, over pk_payroll_lines), and the county's
receiving households held back from the bank file, with why; and the county's runs a page at
a time, for GET /payroll/runs.

Reads only; the build and release stay in payroll_repo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from dibao.db.payroll_models import PayrollRunRow
from dibao.domain.enums import CaseStatus
from dibao.domain.payroll import Line, LineKind

PAGE = 50


@dataclass(frozen=True)
class RosterRow:
    case_id: str
    village_code: str
    holder: str
    net_fen: int
    lines: tuple[Line, ...]


# The holder as the roster names it: the newest payee account's, else the application's, else
# the head of household.
_HOLDER = """
    coalesce(
        (SELECT p.account_holder FROM payee_accounts p WHERE p.case_id = c.case_id
         ORDER BY p.id DESC LIMIT 1),
        nullif(a.payload -> 'payee' ->> 'account_holder', ''),
        (SELECT m ->> 'name' FROM jsonb_array_elements(a.payload -> 'members') AS m
         WHERE m ->> 'relation' = 'head' LIMIT 1),
        '')
"""

_ROSTER_PAGE = text(
    f"""
WITH page AS (
    SELECT l.case_id, sum(l.amount_fen) AS net,
           array_agg(l.month || ':' || l.kind || ':' || l.amount_fen ORDER BY l.month, l.kind)
               AS lines
    FROM payroll_lines l
    WHERE l.run_id = :run AND l.case_id > :after
    GROUP BY l.case_id
    ORDER BY l.case_id
    LIMIT :limit
)
SELECT page.case_id, c.village_code, {_HOLDER} AS holder, page.net, page.lines
FROM page
JOIN cases c ON c.case_id = page.case_id
LEFT JOIN applications a ON a.case_id = page.case_id
ORDER BY page.case_id
"""
)


async def roster_page(
    session: AsyncSession, run_id: str, after: str = "", limit: int = PAGE
) -> list[RosterRow]:
    """The run's households after `after` in case ID order, with their lines and net."""
    result = await session.execute(_ROSTER_PAGE, {"run": run_id, "after": after, "limit": limit})
    rows = []
    for case_id, village, holder, net, lines in result:
        parsed = []
        for item in lines:
            month, kind, amount = item.split(":")
            parsed.append(Line(month, LineKind(kind), int(amount)))
        rows.append(RosterRow(case_id, village, holder, int(net), tuple(parsed)))
    return rows


class HeldReason:
    NO_ACCOUNT = "no_account"
    AGENT_WITHOUT_REASON = "agent_without_reason"


@dataclass(frozen=True)
class HeldRow:
    case_id: str
    village_code: str
    holder: str
    reason: str  # HeldReason


# Over ix_cases_payee_held: cases.payee_held is kept with the payee by triggers (migration
# 0039), so a county with nobody held back reads an empty index, not every household's payee.
# The account is read again for the page found, to say why each is held. The status is
# written out, as in the index's condition, so that the planner matches the two.
_HELD = text(
    f"""
WITH page AS (
    SELECT c.case_id, c.village_code
    FROM cases c
    WHERE c.county_code = :county AND c.payee_held AND c.status = '{CaseStatus.RECEIVING.value}'
      AND c.case_id > :after
    ORDER BY c.case_id
    LIMIT :limit
)
SELECT page.case_id, page.village_code, {_HOLDER} AS holder,
       coalesce((SELECT p.account_no FROM payee_accounts p WHERE p.case_id = page.case_id
                 ORDER BY p.id DESC LIMIT 1),
                a.payload -> 'payee' ->> 'account_no', '') AS account_no
FROM page
JOIN cases c ON c.case_id = page.case_id
LEFT JOIN applications a ON a.case_id = page.case_id
ORDER BY page.case_id
"""
)


async def held_back(
    session: AsyncSession, county_code: str, after: str = "", limit: int = PAGE
) -> list[HeldRow]:
    """Receiving households of the county the bank file cannot pay as they stand: no account
    to pay into (the build holds them back until one is recorded), or an agent (代领人)
    recorded without the reason the roster must state."""
    result = await session.execute(
        _HELD,
        {
            "county": county_code,
            "after": after,
            "limit": limit,
        },
    )
    return [
        HeldRow(
            case_id,
            village,
            holder,
            HeldReason.NO_ACCOUNT if not account_no else HeldReason.AGENT_WITHOUT_REASON,
        )
        for case_id, village, holder, account_no in result
    ]


async def runs_page(
    session: AsyncSession,
    county_code: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[PayrollRunRow]:
    """The county's runs newest first, by key (built_at, run_id) < the last of the page
    before: one range of ix_payroll_runs_county_built. Without the bank file and roster page
    (megabytes for a large county)."""
    query = (
        select(PayrollRunRow)
        .options(defer(PayrollRunRow.bank_file), defer(PayrollRunRow.roster_html))
        .where(PayrollRunRow.county_code == county_code)
    )
    if after is not None:
        query = query.where(tuple_(PayrollRunRow.built_at, PayrollRunRow.run_id) < tuple_(*after))
    rows = await session.execute(
        query.order_by(PayrollRunRow.built_at.desc(), PayrollRunRow.run_id.desc()).limit(limit)
    )
    return list(rows.scalars())
