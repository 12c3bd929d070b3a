"""What the console's 发放 page reads of a payroll besides the run itself: the roster's
households a page at a time (by case ID, over uq_payroll_lines_run_case), and the county's
receiving households held back from the bank file, with why.

Reads only; the build and release stay in payroll_repo.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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


# Set-based (hash joins over the county), the holder's name only for the page found: a county
# with nobody held back is read once, not row by row.
_HELD = text(
    f"""
WITH h AS MATERIALIZED (
    SELECT c.case_id, c.village_code
    FROM cases c
    WHERE c.county_code = :county AND c.status = :receiving AND c.case_id > :after
),
pay AS MATERIALIZED (
    SELECT DISTINCT ON (p.case_id) p.case_id, p.account_no, p.agent, p.agent_reason
    FROM payee_accounts p JOIN h ON h.case_id = p.case_id
    ORDER BY p.case_id, p.id DESC
),
found AS (
    SELECT h.case_id, h.village_code,
           coalesce(pay.account_no, a.payload -> 'payee' ->> 'account_no', '') AS account_no,
           CASE WHEN pay.case_id IS NOT NULL THEN pay.agent
                ELSE coalesce((a.payload -> 'payee' ->> 'agent')::boolean, false) END AS agent,
           CASE WHEN pay.case_id IS NOT NULL THEN pay.agent_reason
                ELSE coalesce(a.payload -> 'payee' ->> 'agent_reason', '') END AS agent_reason
    FROM h
    LEFT JOIN pay ON pay.case_id = h.case_id
    LEFT JOIN applications a ON a.case_id = h.case_id
),
page AS (
    SELECT * FROM found
    WHERE account_no = '' OR (agent AND btrim(agent_reason) = '')
    ORDER BY case_id
    LIMIT :limit
)
SELECT page.case_id, page.village_code, {_HOLDER} AS holder, page.account_no
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
            "receiving": CaseStatus.RECEIVING.value,
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
