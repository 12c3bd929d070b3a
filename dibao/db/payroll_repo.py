"""Queries of the payroll: the roster of a county and period, runs, lines and release.

The roster is computed in one SQL statement (window functions over entitlement_changes,
aggregation over released lines), so a county of 100,000 households is one round trip;
`dibao.domain.payroll.household_lines` is the reference it must agree with.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import psycopg
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from dibao.db.payroll_models import PayrollDiscardRow, PayrollLineRow, PayrollRunRow
from dibao.domain.enums import CaseStatus
from dibao.domain.payroll import (
    BankFileWriter,
    HouseholdPay,
    Line,
    LineKind,
    PayrollRun,
    RosterSection,
    RunStatus,
    assemble_run,
    is_booked,
    month_index,
    period_months,
    roster_section,
    run_id_for,
)
from dibao.messages.case import Rejection


class RosterWriter(Protocol):
    """The roster page (花名册) in pieces, as a build streams its households through: `head`,
    the paid rows in batches, then each other section's rows; each section's end; `tail`."""

    def head(self) -> str: ...

    def section_start(self, section: RosterSection) -> str: ...

    def rows(
        self, section: RosterSection, households: Sequence[HouseholdPay], first_seq: int
    ) -> str: ...

    def section_end(self, section: RosterSection, households: int, total_fen: int) -> str: ...

    def tail(self, bank_file_sha256: str) -> str: ...


# render(run, bank_file_sha256) -> the roster page. The build first passes an empty run of its
# county and period: a page with a `writer` (RosterWriter) is written through it as the
# households stream by (the activity's Jinja renderer); a plain page is rendered once more
# with the whole run at the end.
RenderRoster = Callable[[PayrollRun, str], str]


class PayrollError(Exception):
    """A refusal; `rejection` says which HTTP status / update rejection it is."""

    rejection = Rejection.INVALID


class PendingDraft(PayrollError):
    """Another run of the county is still a draft. Building on top of it would count its
    months as unpaid and pay them twice once both are released, so it is released first."""

    rejection = Rejection.WRONG_STAGE

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"payroll run {run_id} of this county is still a draft; it must be released "
            "before another period is built"
        )
        self.run_id = run_id


class UnknownRun(PayrollError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"payroll run {run_id} does not exist")


class AlreadyReleased(PayrollError):
    rejection = Rejection.WRONG_STAGE

    def __init__(self, run_id: str, checker: str | None) -> None:
        super().__init__(f"payroll run {run_id} was already released by {checker}")


class SameMakerChecker(PayrollError):
    rejection = Rejection.RECUSED

    def __init__(self, maker: str) -> None:
        super().__init__(
            f"{maker} prepared this roster (制表人) and may not also check it (审核人)"
        )


async def _lock(session: AsyncSession, key: str) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


async def _end(session: AsyncSession) -> None:
    """End a transaction that wrote nothing, releasing its locks. A commit, not a rollback:
    a rollback would expire every row the session loaded, including rows already returned."""
    await session.commit()


# --- the roster ----------------------------------------------------------------------------

# Months are numbered (year * 12 + month - 1) so that a change's range is an integer series.
_MONTH_INDEX = "left({0}, 4)::int * 12 + right({0}, 2)::int - 1"

_ROSTER_SQL = text(
    f"""
WITH households AS MATERIALIZED (
    SELECT c.case_id
    FROM cases c
    WHERE c.county_code = :county AND c.status IN (:receiving, :exited)
),
changes AS MATERIALIZED (
    -- Each change holds from its month until the next change of the case (two changes of one
    -- month: the later row wins, the earlier gets an empty range).
    SELECT e.case_id, e.certificate_no, e.monthly_amount_fen,
           {_MONTH_INDEX.format("e.effective_month")} AS mi,
           lead({_MONTH_INDEX.format("e.effective_month")}) OVER (
               PARTITION BY e.case_id ORDER BY e.effective_month, e.id) AS next_mi
    FROM entitlement_changes e
    JOIN households h ON h.case_id = e.case_id
    WHERE e.effective_month <= :last_month
),
events AS (
    -- What is owed as steps, never month by month: +amount from the month a change holds,
    -- −amount from the month it ends; − what released runs paid, as their ranges of months
    -- (payroll_paid_ranges, cut at the period's last month); + what the bank returned.
    SELECT ch.case_id, ch.mi AS at, ch.monthly_amount_fen::bigint AS d
    FROM changes ch
    UNION ALL
    SELECT ch.case_id, coalesce(ch.next_mi, :after_last), -ch.monthly_amount_fen::bigint
    FROM changes ch
    UNION ALL
    SELECT p.case_id, p.from_mi, -p.amount_fen
    FROM payroll_paid_ranges p
    JOIN households h ON h.case_id = p.case_id
    WHERE p.from_mi < :after_last
    UNION ALL
    SELECT p.case_id, least(p.to_mi + 1, :after_last), p.amount_fen
    FROM payroll_paid_ranges p
    JOIN households h ON h.case_id = p.case_id
    WHERE p.from_mi < :after_last
    UNION ALL
    -- 退票 (bank_return_lines): what the bank returned is owed again, as arrears, once the
    -- household's account was corrected (an account recorded after the return).
    SELECT b.case_id, r.mi, r.amount
    FROM bank_return_lines b
    JOIN households h ON h.case_id = b.case_id
    CROSS JOIN LATERAL (VALUES ({_MONTH_INDEX.format("b.month")}, b.amount_fen::bigint),
                               ({_MONTH_INDEX.format("b.month")} + 1, -b.amount_fen::bigint))
        AS r (mi, amount)
    WHERE b.month <= :last_month
      AND EXISTS (SELECT 1 FROM payee_accounts p
                  WHERE p.case_id = b.case_id AND p.id > b.payee_id_at_return)
),
points AS (
    SELECT case_id, at, sum(d) AS d FROM events GROUP BY case_id, at HAVING sum(d) <> 0
),
stretches AS (
    -- Between two points the amount owed is the same every month: the running sum.
    SELECT case_id, at AS from_mi, lead(at) OVER w AS until_mi, sum(d) OVER w AS amount
    FROM points
    WINDOW w AS (PARTITION BY case_id ORDER BY at)
),
payees AS MATERIALIZED (
    -- The newest account recorded after filing; without one, the application's (below).
    SELECT DISTINCT ON (p.case_id)
           p.case_id, p.account_holder, p.bank, p.account_no, p.agent, p.agent_reason
    FROM payee_accounts p
    JOIN households h ON h.case_id = p.case_id
    ORDER BY p.case_id, p.id DESC
),
owed AS MATERIALIZED (
    -- Only the months with something owed are spelled out.
    SELECT s.case_id, m AS mi, s.amount
    FROM stretches s
    CROSS JOIN LATERAL generate_series(s.from_mi, s.until_mi - 1) AS m
    WHERE s.amount <> 0 AND s.until_mi IS NOT NULL
)
SELECT o.case_id,
       to_char(make_date(o.mi / 12, mod(o.mi, 12) + 1, 1), 'YYYY-MM') AS month,
       CASE WHEN o.amount < 0 THEN 'recovery'
            WHEN o.mi >= :first THEN 'regular'
            ELSE 'arrears' END AS kind,
       o.amount,
       coalesce(newest.certificate_no, cert.certificate_no, '') AS certificate_no,
       coalesce(pay.account_holder, a.payload -> 'payee' ->> 'account_holder', holder.name, '')
           AS account_holder,
       coalesce(pay.bank, a.payload -> 'payee' ->> 'bank', '') AS bank,
       coalesce(pay.account_no, a.payload -> 'payee' ->> 'account_no', '') AS account_no,
       -- The agent marks belong to the account they came with, never mixed across sources.
       CASE WHEN pay.case_id IS NOT NULL THEN pay.agent
            ELSE coalesce((a.payload -> 'payee' ->> 'agent')::boolean, false) END AS agent,
       CASE WHEN pay.case_id IS NOT NULL THEN pay.agent_reason
            ELSE coalesce(a.payload -> 'payee' ->> 'agent_reason', '') END AS agent_reason
FROM owed o
LEFT JOIN payees pay ON pay.case_id = o.case_id
-- The newest change is the one no later change follows (one window, one sort).
LEFT JOIN changes newest ON newest.case_id = o.case_id AND newest.next_mi IS NULL
LEFT JOIN certificates cert ON cert.case_id = o.case_id
LEFT JOIN applications a ON a.case_id = o.case_id
LEFT JOIN LATERAL (
    SELECT m ->> 'name' AS name
    FROM jsonb_array_elements(a.payload -> 'members') AS m
    WHERE m ->> 'relation' = 'head'
    LIMIT 1
) holder ON true
ORDER BY o.case_id, o.mi
"""
)

# The same for the driver's cursor: %(name)s placeholders (the casts' :: stay as they are).
_ROSTER_DRIVER_SQL = re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", _ROSTER_SQL.text)


async def roster(session: AsyncSession, county_code: str, period: str) -> list[HouseholdPay]:
    """Every receiving household of the county with something to pay or recover for the
    period, with its lines, in case_id order."""
    return [h async for h in roster_stream(session, county_code, period)]


async def roster_stream(
    session: AsyncSession, county_code: str, period: str
) -> AsyncIterator[HouseholdPay]:
    """The roster one household at a time, read through a server-side cursor: the rows of a
    county's 100,000 households are never all in this process at once."""
    months = period_months(period)
    # The planner cannot see how many months a change spans and overestimates the query by
    # orders of magnitude; JIT-compiling it for that estimate costs more than it saves.
    await session.execute(text("SET LOCAL jit = off"))
    params = {
        "county": county_code,
        "receiving": CaseStatus.RECEIVING.value,
        # A household whose benefit stopped may still be owed arrears or owe a recovery
        # for the months before the stop.
        "exited": CaseStatus.EXITED.value,
        "released": RunStatus.RELEASED.value,
        "first": month_index(months[0]),
        "last_month": months[-1],
        "after_last": month_index(months[-1]) + 1,
    }
    # The driver's own server-side cursor, in the session's transaction: rows come as plain
    # tuples, without the ORM's per-row work (a county's roster is 100,000s of rows).
    driver = await _driver(session)
    async with driver.cursor(name="payroll_roster") as cursor:
        await cursor.execute(_ROSTER_DRIVER_SQL, params)
        async for household in _households(cursor):
            yield household


async def _households(cursor: psycopg.AsyncServerCursor[Any]) -> AsyncIterator[HouseholdPay]:
    current: tuple[str, str, str, str, str, bool, str] | None = None
    lines: list[Line] = []
    while rows := await cursor.fetchmany(_CURSOR_ROWS):
        for case_id, month, kind, amount, cert, name, bank, account_no, agent, reason in rows:
            if current is None or case_id != current[0]:
                if current is not None:
                    yield _household(current, lines)
                current, lines = (case_id, cert, name, bank, account_no, bool(agent), reason), []
            lines.append(Line(month, LineKind(kind), int(amount)))
    if current is not None:
        yield _household(current, lines)


async def _driver(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the session, in its transaction (for COPY and cursors)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


# Rows fetched from the roster's cursor at a time.
_CURSOR_ROWS = 5000


def _household(head: tuple[str, str, str, str, str, bool, str], lines: list[Line]) -> HouseholdPay:
    case_id, certificate_no, holder, bank, account_no, agent, agent_reason = head
    return HouseholdPay(
        case_id,
        certificate_no,
        holder,
        tuple(lines),
        bank=bank,
        account_no=account_no,
        agent=agent,
        agent_reason=agent_reason if agent else "",
    )


# --- runs ----------------------------------------------------------------------------------


def _summary() -> tuple[Any, ...]:
    """Load a run without its bank file and roster page (megabytes for a large county)."""
    return (defer(PayrollRunRow.bank_file), defer(PayrollRunRow.roster_html))


async def get_run(session: AsyncSession, run_id: str) -> PayrollRunRow | None:
    rows = await session.execute(
        select(PayrollRunRow)
        .where(PayrollRunRow.run_id == run_id)
        .options(*_summary())
        .execution_options(populate_existing=True)
    )
    return rows.scalar_one_or_none()


async def bank_file_of(session: AsyncSession, run_id: str) -> tuple[str, str] | None:
    """The stored bank file and its checksum."""
    row = (
        await session.execute(
            select(PayrollRunRow.bank_file, PayrollRunRow.bank_file_sha256).where(
                PayrollRunRow.run_id == run_id
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def roster_of(session: AsyncSession, run_id: str) -> str | None:
    return (
        await session.execute(
            select(PayrollRunRow.roster_html).where(PayrollRunRow.run_id == run_id)
        )
    ).scalar_one_or_none()


async def list_runs(
    session: AsyncSession, county_code: str | None = None, limit: int = 100
) -> list[PayrollRunRow]:
    query = select(PayrollRunRow).options(*_summary())
    if county_code is not None:
        query = query.where(PayrollRunRow.county_code == county_code)
    rows = await session.execute(
        query.order_by(PayrollRunRow.built_at.desc(), PayrollRunRow.run_id).limit(limit)
    )
    return list(rows.scalars())


async def pending_draft(
    session: AsyncSession, county_code: str, except_period: str | None = None
) -> str | None:
    """The county's run still waiting for release, other than the period's own."""
    query = select(PayrollRunRow.run_id).where(
        PayrollRunRow.county_code == county_code,
        PayrollRunRow.status == RunStatus.DRAFT.value,
    )
    if except_period is not None:
        query = query.where(PayrollRunRow.period != except_period)
    return (await session.execute(query.limit(1))).scalar_one_or_none()


async def build_run(
    session: AsyncSession,
    county_code: str,
    period: str,
    maker: str,
    built_at: datetime,
    render_roster: RenderRoster,
) -> PayrollRunRow:
    """Store the draft run of the county and period with its lines, bank file and roster.

    Idempotent: a run that exists already, draft or released, is returned exactly as stored
    (the same file), so a retried or repeated build never pays twice.

    The roster streams through: households are read by a server-side cursor, their lines go
    out by COPY a batch at a time, and the bank file and roster page are written in chunks to
    a scratch table and joined into the run's row by PostgreSQL, so this process holds one
    batch of households however large the county.
    """
    run_id = run_id_for(county_code, period)
    existing = await get_run(session, run_id)
    if existing is not None:
        return existing
    # One builder per county at a time: the check for other drafts and the insert below must
    # not interleave with another build of the county.
    await _lock(session, f"payroll:{county_code}")
    existing = await get_run(session, run_id)
    if existing is not None:
        await session.commit()
        return existing
    other = await pending_draft(session, county_code, except_period=period)
    if other is not None:
        await _end(session)
        raise PendingDraft(other)
    # The run's row first (its lines refer to it), completed at the end of the transaction:
    # nobody sees it before, and a failed build leaves nothing.
    inserted = await session.execute(
        insert(PayrollRunRow)
        .values(
            run_id=run_id,
            county_code=county_code,
            period=period,
            status=RunStatus.DRAFT.value,
            maker=maker,
            checker=None,
            built_at=built_at,
            released_at=None,
            households=0,
            total_fen=0,
            bank_file="",
            bank_file_sha256="",
            roster_html="",
        )
        .on_conflict_do_nothing()
        .returning(PayrollRunRow.run_id)
    )
    # Under the county lock nobody else can have stored the run; if someone did regardless,
    # theirs stands and gets no lines of ours.
    if inserted.first() is not None:
        await _stream_build(session, run_id, county_code, period, render_roster)
    await session.commit()
    stored = await get_run(session, run_id)
    assert stored is not None
    return stored


# Households handled at a time: their lines are one COPY, their rows one piece of each file.
_BATCH = 5000

# Parts of the scratch text, joined in this order: the bank file alone; the roster page from
# its head and paid rows through its other tables to its signatures.
_BANK_PART = 0
_ROSTER_PARTS = {
    RosterSection.PAID: 1,
    RosterSection.OFFSET: 2,
    RosterSection.OUTSTANDING: 3,
    RosterSection.HELD: 4,
}
_TAIL_PART = 5


class _Chunks:
    """Text written to the transaction's scratch table in pieces of about `_CHUNK` characters."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._pending: dict[int, list[str]] = {}
        self._sizes: dict[int, int] = {}
        self._seq = 0

    async def write(self, part: int, piece: str) -> None:
        if not piece:
            return
        self._pending.setdefault(part, []).append(piece)
        self._sizes[part] = self._sizes.get(part, 0) + len(piece)
        if self._sizes[part] >= _CHUNK:
            await self._flush(part)

    async def close(self) -> None:
        for part in list(self._pending):
            await self._flush(part)

    async def _flush(self, part: int) -> None:
        pieces = self._pending.pop(part, [])
        self._sizes.pop(part, None)
        if not pieces:
            return
        self._seq += 1
        await self._session.execute(
            text("INSERT INTO payroll_build_text (part, seq, chunk) VALUES (:part, :seq, :chunk)"),
            {"part": part, "seq": self._seq, "chunk": "".join(pieces)},
        )


_CHUNK = 256 * 1024


class _NoPage:
    """The roster writer of a renderer of whole pages: it writes nothing while streaming."""

    def head(self) -> str:
        return ""

    def section_start(self, section: RosterSection) -> str:
        return ""

    def rows(
        self, section: RosterSection, households: Sequence[HouseholdPay], first_seq: int
    ) -> str:
        return ""

    def section_end(self, section: RosterSection, households: int, total_fen: int) -> str:
        return ""

    def tail(self, bank_file_sha256: str) -> str:
        return ""


_NO_PAGE = _NoPage()


async def _stream_build(
    session: AsyncSession, run_id: str, county_code: str, period: str, render: RenderRoster
) -> None:
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE payroll_build_text (part int, seq int, chunk text) "
            "ON COMMIT DROP"
        )
    )
    # A renderer of whole pages only (a plain string back) gets the whole run at the end, as
    # before streaming: for small runs and tests, never the activity's.
    writer = getattr(render(PayrollRun(county_code, period, ()), ""), "writer", None)
    roster: RosterWriter = writer if writer is not None else _NO_PAGE
    whole: list[HouseholdPay] | None = None if writer is not None else []
    chunks = _Chunks(session)
    bank = BankFileWriter()
    counts = dict.fromkeys(RosterSection, 0)
    totals = dict.fromkeys(RosterSection, 0)
    await chunks.write(_BANK_PART, bank.start())
    await chunks.write(_ROSTER_PARTS[RosterSection.PAID], roster.head())

    async def flush(batch: list[HouseholdPay]) -> None:
        await _copy_lines(session, run_id, [h for h in batch if is_booked(h)])
        sections: dict[RosterSection, list[HouseholdPay]] = {}
        for household in batch:
            sections.setdefault(roster_section(household), []).append(household)
        await chunks.write(_BANK_PART, bank.rows(sections.get(RosterSection.PAID, [])))
        for section, households in sections.items():
            part = _ROSTER_PARTS[section]
            if counts[section] == 0 and section is not RosterSection.PAID:
                await chunks.write(part, roster.section_start(section))
            await chunks.write(part, roster.rows(section, households, counts[section] + 1))
            counts[section] += len(households)
            totals[section] += sum(h.net_fen for h in households)

    batch: list[HouseholdPay] = []
    async for household in roster_stream(session, county_code, period):
        if not household.lines:
            continue
        if whole is not None:
            whole.append(household)
        batch.append(household)
        if len(batch) >= _BATCH:
            await flush(batch)
            batch = []
    await flush(batch)
    await chunks.write(_BANK_PART, bank.end())
    for section, part in _ROSTER_PARTS.items():
        if counts[section] or section is RosterSection.PAID:
            await chunks.write(part, roster.section_end(section, counts[section], totals[section]))
    await chunks.write(_TAIL_PART, roster.tail(bank.checksum))
    if whole is not None:
        page = render(assemble_run(county_code, period, whole), bank.checksum)
        await chunks.write(_TAIL_PART, str(page))
    await chunks.close()
    await session.execute(
        text(
            """
            UPDATE payroll_runs SET
                households = :households, total_fen = :total_fen, bank_file_sha256 = :sha,
                bank_file = coalesce((SELECT string_agg(chunk, '' ORDER BY seq)
                                        FROM payroll_build_text WHERE part = :bank_part), ''),
                roster_html = coalesce((SELECT string_agg(chunk, '' ORDER BY part, seq)
                                          FROM payroll_build_text WHERE part <> :bank_part), '')
            WHERE run_id = :run_id
            """
        ),
        {
            "households": bank.households,
            "total_fen": bank.total_fen,
            "sha": bank.checksum,
            "bank_part": _BANK_PART,
            "run_id": run_id,
        },
    )
    # Dropped at commit anyway; dropped now so that a session going on to build another run
    # in the same transaction could create it again.
    await session.execute(text("DROP TABLE payroll_build_text"))


async def _copy_lines(session: AsyncSession, run_id: str, households: list[HouseholdPay]) -> None:
    """A batch of the run's lines by COPY, in the build's transaction: the run was inserted
    just now under the county lock, so it has no lines a COPY could collide with (COPY has no
    ON CONFLICT)."""
    if not households:
        return
    driver = await _driver(session)
    async with (
        driver.cursor() as cursor,
        cursor.copy(
            "COPY payroll_lines (run_id, case_id, month, kind, amount_fen) FROM STDIN"
        ) as copy,
    ):
        for household in households:
            for line in household.lines:
                await copy.write_row(
                    (run_id, household.case_id, line.month, line.kind.value, line.amount_fen)
                )


async def _locked_run(session: AsyncSession, run_id: str) -> PayrollRunRow | None:
    """The run, locked for the rest of the transaction (release and discard race otherwise)."""
    result = await session.execute(
        select(PayrollRunRow)
        .where(PayrollRunRow.run_id == run_id)
        .options(*_summary())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def release_run(
    session: AsyncSession, run_id: str, checker: str, released_at: datetime
) -> PayrollRunRow:
    """Mark a draft released by its checker (审核人), who must not be its maker (制表人).

    A retry of the same release returns the released run; from here on triggers refuse any
    change to the run and its lines.
    """
    row = await _locked_run(session, run_id)
    if row is None:
        await _end(session)
        raise UnknownRun(run_id)
    if row.status == RunStatus.RELEASED.value:
        await _end(session)
        if row.checker == checker:
            return row
        raise AlreadyReleased(run_id, row.checker)
    if row.maker == checker:
        await _end(session)
        raise SameMakerChecker(checker)
    row.status = RunStatus.RELEASED.value
    row.checker = checker
    row.released_at = released_at
    await session.commit()
    return row


async def discard_run(
    session: AsyncSession, run_id: str, discarded_by: str, reason: str, discarded_at: datetime
) -> None:
    """Set a draft aside: record what it held and why, then delete its rows (it was never
    paid). A retry after the deletion finds the record and does nothing more."""
    row = await _locked_run(session, run_id)
    if row is None:
        done = await session.execute(
            select(PayrollDiscardRow.id).where(PayrollDiscardRow.run_id == run_id).limit(1)
        )
        await _end(session)
        if done.first() is None:
            raise UnknownRun(run_id)
        return
    if row.status == RunStatus.RELEASED.value:
        await _end(session)
        raise AlreadyReleased(run_id, row.checker)
    await session.execute(
        insert(PayrollDiscardRow)
        .values(
            run_id=row.run_id,
            county_code=row.county_code,
            period=row.period,
            maker=row.maker,
            built_at=row.built_at,
            households=row.households,
            total_fen=row.total_fen,
            bank_file_sha256=row.bank_file_sha256,
            discarded_by=discarded_by,
            reason=reason,
            discarded_at=discarded_at,
        )
        .on_conflict_do_nothing(constraint="uq_payroll_discards_build")
    )
    await session.execute(delete(PayrollLineRow).where(PayrollLineRow.run_id == run_id))
    await session.execute(delete(PayrollRunRow).where(PayrollRunRow.run_id == run_id))
    await session.commit()


async def discards(session: AsyncSession, run_id: str) -> list[PayrollDiscardRow]:
    rows = await session.execute(
        select(PayrollDiscardRow)
        .where(PayrollDiscardRow.run_id == run_id)
        .order_by(PayrollDiscardRow.discarded_at)
    )
    return list(rows.scalars())


# --- a household's payments ----------------------------------------------------------------


@dataclass(frozen=True)
class CaseLine:
    run_id: str
    period: str
    run_status: str
    month: str
    kind: str
    amount_fen: int


async def lines_for_case(session: AsyncSession, case_id: str) -> list[CaseLine]:
    rows = await session.execute(
        select(
            PayrollLineRow.run_id,
            PayrollRunRow.period,
            PayrollRunRow.status,
            PayrollLineRow.month,
            PayrollLineRow.kind,
            PayrollLineRow.amount_fen,
        )
        .join(PayrollRunRow, PayrollRunRow.run_id == PayrollLineRow.run_id)
        .where(PayrollLineRow.case_id == case_id)
        .order_by(PayrollRunRow.built_at, PayrollLineRow.month, PayrollLineRow.kind)
    )
    return [CaseLine(*r) for r in rows]
