"""Queries of the payroll: the roster of a county and period, runs, lines and release.

The roster is computed in one SQL statement (window functions over entitlement_changes,
aggregation over released lines), so a county of 100,000 households is one round trip;
`dibao.domain.payroll.household_lines` is the reference it must agree with. A build goes
further: the run's lines, bank file and roster page are written by PostgreSQL from that
statement, and the files are sent by downloads as they are read (StoredFile).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise, permutations
from typing import Any, Protocol

import psycopg
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from dibao.db.payroll_models import PayrollDiscardRow, PayrollLineRow, PayrollRunRow
from dibao.domain.enums import CaseStatus
from dibao.domain.payroll import (
    BANK_FILE_HEADER,
    DETAIL_SEPARATOR,
    KINDS_SEPARATOR,
    LINE_LABELS,
    HouseholdPay,
    Line,
    LineKind,
    PayrollRun,
    RosterSection,
    RunStatus,
    assemble_run,
    bank_csv_row,
    bank_file_signature,
    bank_file_total_row,
    month_index,
    period_months,
    run_id_for,
)
from dibao.domain.spreadsheet import FORMULA_STARTS
from dibao.messages.case import Rejection


class RosterWriter(Protocol):
    """The roster page (花名册) in pieces: `head`; the paid table's rows, then `section_end`;
    each other section with households in it, `section_start`, its rows, `section_end`;
    `tail`. The rows are filled in by PostgreSQL from each section's `row_markup`."""

    def head(self) -> str: ...

    def section_start(self, section: RosterSection) -> str: ...

    def row_markup(self, section: RosterSection) -> RowTemplate: ...

    def section_end(self, section: RosterSection, households: int, total_fen: int) -> str: ...

    def tail(self, bank_file_sha256: str) -> str: ...


# render(run, bank_file_sha256) -> the roster page. The build first passes an empty run of its
# county and period: a page with a `writer` (RosterWriter) has its rows written by PostgreSQL
# (the activity's Jinja renderer); a plain page is rendered once more with the whole run, read
# back into memory, at the end (small runs and tests).
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

_ROSTER_CTES = f"""
WITH households AS MATERIALIZED (
    -- hk numbers the households in case_id order: what follows groups, sorts and joins on
    -- this integer, not on the case ID's text.
    SELECT c.case_id, (row_number() OVER (ORDER BY c.case_id))::int AS hk
    FROM cases c
    WHERE c.county_code = :county AND c.status IN (:receiving, :exited)
),
changes AS MATERIALIZED (
    -- Each change holds from its month until the next change of the case (two changes of one
    -- month: the later row wins, the earlier gets an empty range).
    SELECT h.hk, e.certificate_no, e.monthly_amount_fen::bigint AS amount, m.mi,
           lead(m.mi) OVER (PARTITION BY h.hk ORDER BY e.effective_month, e.id) AS next_mi
    FROM entitlement_changes e
    JOIN households h ON h.case_id = e.case_id
    CROSS JOIN LATERAL (SELECT {_MONTH_INDEX.format("e.effective_month")} AS mi) m
    WHERE e.effective_month <= :last_month
),
events AS (
    -- What is owed as steps, never month by month: +amount from the month a change holds,
    -- −amount from the month it ends; − what released runs paid, as their ranges of months
    -- (payroll_paid_ranges, cut at the period's last month); + what the bank returned.
    SELECT ch.hk, v.at, v.d
    FROM changes ch
    CROSS JOIN LATERAL (VALUES (ch.mi, ch.amount),
                               (coalesce(ch.next_mi, :after_last), -ch.amount)) AS v (at, d)
    UNION ALL
    SELECT h.hk, v.at, v.d
    FROM payroll_paid_ranges p
    JOIN households h ON h.case_id = p.case_id
    CROSS JOIN LATERAL (VALUES (p.from_mi, -p.amount_fen),
                               (least(p.to_mi + 1, :after_last), p.amount_fen)) AS v (at, d)
    WHERE p.from_mi < :after_last
    UNION ALL
    -- 退票 (bank_return_lines): what the bank returned is owed again, as arrears, once the
    -- household's account was corrected (an account recorded after the return).
    SELECT h.hk, r.mi, r.amount
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
    SELECT hk, at, sum(d) AS d FROM events GROUP BY hk, at HAVING sum(d) <> 0
),
stretches AS (
    -- Between two points the amount owed is the same every month: the running sum.
    SELECT hk, at AS from_mi, lead(at) OVER w AS until_mi, sum(d) OVER w AS amount
    FROM points
    WINDOW w AS (PARTITION BY hk ORDER BY at)
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
    SELECT h.case_id, s.hk, m AS mi, s.amount
    FROM stretches s
    JOIN households h ON h.hk = s.hk
    CROSS JOIN LATERAL generate_series(s.from_mi, s.until_mi - 1) AS m
    WHERE s.amount <> 0 AND s.until_mi IS NOT NULL
)
"""

# A line of the roster, from a month owed o.
_ROSTER_LINE = """
       -- Plain arithmetic: to_char of a date costs a microsecond a line.
       (o.mi / 12)::text || '-' || lpad((mod(o.mi, 12) + 1)::text, 2, '0') AS month,
       CASE WHEN o.amount < 0 THEN 'recovery'
            WHEN o.mi >= :first THEN 'regular'
            ELSE 'arrears' END AS kind,
       o.amount::bigint AS amount
"""

# Whom and where a household of the roster is paid, from the joins below (on o.case_id).
_ROSTER_PAYEE = """
       coalesce(newest.certificate_no, cert.certificate_no, '') AS certificate_no,
       coalesce(pay.account_holder, a.payload -> 'payee' ->> 'account_holder',
                -- Asked only of a household without a holder: coalesce stops at the first.
                (SELECT m ->> 'name'
                 FROM jsonb_array_elements(a.payload -> 'members') AS m
                 WHERE m ->> 'relation' = 'head'
                 LIMIT 1),
                '') AS account_holder,
       coalesce(pay.bank, a.payload -> 'payee' ->> 'bank', '') AS bank,
       coalesce(pay.account_no, a.payload -> 'payee' ->> 'account_no', '') AS account_no,
       -- The agent marks belong to the account they came with, never mixed across sources.
       CASE WHEN pay.case_id IS NOT NULL THEN pay.agent
            ELSE coalesce((a.payload -> 'payee' ->> 'agent')::boolean, false) END AS agent,
       CASE WHEN pay.case_id IS NOT NULL THEN pay.agent_reason
            ELSE coalesce(a.payload -> 'payee' ->> 'agent_reason', '') END AS agent_reason
"""

_ROSTER_PAYEE_JOINS = """
LEFT JOIN payees pay ON pay.case_id = o.case_id
-- The newest change is the one no later change follows (one window, one sort).
LEFT JOIN changes newest ON newest.hk = o.hk AND newest.next_mi IS NULL
LEFT JOIN certificates cert ON cert.case_id = o.case_id
LEFT JOIN applications a ON a.case_id = o.case_id
"""

_ROSTER_SELECT = (
    f"{_ROSTER_CTES}\nSELECT o.case_id, {_ROSTER_LINE},\n{_ROSTER_PAYEE}\n"
    f"FROM owed o\n{_ROSTER_PAYEE_JOINS}\n"
)


def _driver_sql(sql: str) -> str:
    """A statement for the driver's cursor: %(name)s placeholders (the casts' :: stay)."""
    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql)


_ROSTER_DRIVER_SQL = _driver_sql(_ROSTER_SELECT + "ORDER BY o.case_id, o.mi\n")


async def roster(session: AsyncSession, county_code: str, period: str) -> list[HouseholdPay]:
    """Every receiving household of the county with something to pay or recover for the
    period, with its lines, in case_id order."""
    return [h async for h in roster_stream(session, county_code, period)]


async def roster_stream(
    session: AsyncSession, county_code: str, period: str
) -> AsyncIterator[HouseholdPay]:
    """The roster one household at a time, read through a server-side cursor: the rows of a
    county's 100,000 households are never all in this process at once."""
    # The planner cannot see how many months a change spans and overestimates the query by
    # orders of magnitude; JIT-compiling it for that estimate costs more than it saves.
    await session.execute(text("SET LOCAL jit = off"))
    # Every row is read: planned for its first rows (a cursor's default, 10%), the joins on
    # the household number become nested loops over whole CTEs.
    await session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    params = _roster_params(county_code, period)
    # The driver's own server-side cursor, in the session's transaction: rows come as plain
    # tuples, without the ORM's per-row work (a county's roster is 100,000s of rows).
    driver = await _driver(session)
    async with driver.cursor(name="payroll_roster") as cursor:
        await cursor.execute(_ROSTER_DRIVER_SQL, params)
        async for household in _households(cursor):
            yield household


def _roster_params(county_code: str, period: str) -> dict[str, Any]:
    months = period_months(period)
    return {
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


class RunFile(StrEnum):
    """A file stored with a run (its column of payroll_runs)."""

    BANK = "bank_file"
    ROSTER = "roster_html"


class FileChanged(Exception):
    """The file changed while being sent (a draft discarded and built again meanwhile)."""


@dataclass(frozen=True)
class StoredFile:
    """A run's stored file, to be sent as it is read: `chunks()` reads it a few thousand
    lines at a time through a server-side cursor, in a session of its own, so a county's
    file is never whole in the process that sends it."""

    sessions: async_sessionmaker[AsyncSession]
    run_id: str
    file: RunFile
    built_at: datetime
    size: int | None  # bytes in UTF-8 (None on a server whose encoding is not UTF-8)
    bank_file_sha256: str

    async def chunks(self) -> AsyncIterator[bytes]:
        sent, first = 0, True
        async with self.sessions() as session:
            driver = await _driver(session)
            async with driver.cursor(name="payroll_file") as cursor:
                # The file's lines in order, joined again by the line feeds the split took
                # out: the bytes as stored.
                await cursor.execute(
                    "SELECT t.line FROM payroll_runs r CROSS JOIN LATERAL "
                    f"string_to_table(r.{self.file.value}, E'\\n') WITH ORDINALITY AS t (line, n) "
                    "WHERE r.run_id = %(run_id)s AND r.built_at = %(built_at)s ORDER BY t.n",
                    {"run_id": self.run_id, "built_at": self.built_at},
                )
                while lines := await cursor.fetchmany(_FILE_LINES):
                    text_ = "\n".join(line for (line,) in lines)
                    data = (text_ if first else "\n" + text_).encode("utf-8")
                    first = False
                    sent += len(data)
                    if data:
                        yield data
            await session.commit()
        if self.size is not None and sent != self.size:
            # Sent short or long: the client sees a broken download, never a wrong file.
            raise FileChanged(f"payroll run {self.run_id}: its {self.file.value} changed")


# Lines of a stored file read at a time (a bank file's line is ~120 bytes, a roster's ~250).
_FILE_LINES = 2000


async def open_file(
    sessions: async_sessionmaker[AsyncSession], run_id: str, file: RunFile
) -> StoredFile | None:
    """The run's file as it can be sent (its size and checksum first), or None."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    f"SELECT built_at, octet_length({file.value}), bank_file_sha256, "
                    "current_setting('server_encoding') = 'UTF8' "
                    "FROM payroll_runs WHERE run_id = :run_id"
                ),
                {"run_id": run_id},
            )
        ).first()
    if row is None:
        return None
    built_at, size, checksum, utf8 = row
    return StoredFile(sessions, run_id, file, built_at, int(size) if utf8 else None, checksum)


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

    The county's rows never pass through this process: the roster, its lines, the bank file
    and the roster page are computed and written by PostgreSQL in a few statements
    (_sql_build), so this process's memory is the same however large the county.
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
        await _sql_build(session, run_id, county_code, period, render_roster)
    await session.commit()
    stored = await get_run(session, run_id)
    assert stored is not None
    return stored


# --- the build, in PostgreSQL --------------------------------------------------------------
#
# A county's run is a few statements, each over every household at once: the roster into a
# scratch table; its households (net, section, number in the section, bank file row, roster
# row) into another; the booked lines by INSERT ... SELECT; each file joined by string_agg
# into the run's row. No row of the county passes through this process. The text is written
# by SQL that follows the domain's rules (format_yuan, text_cell, bank_csv_row,
# describe_lines, roster_section, roster_kinds, roster_detail; tests/db/test_payroll_sql_text.py
# holds them to it) and the roster's rows by the markup its template renders for one row
# (RowTemplate, compiled by the activity from the template's row macros).

_YUAN = (
    "(CASE WHEN {0} < 0 THEN '-' ELSE '' END || (abs({0}) / 100)::text || '.' "
    "|| lpad(mod(abs({0}), 100)::text, 2, '0'))"
)


def sql_yuan(expr: str) -> str:
    """format_yuan in SQL: bigint fen as yuan with two decimals, by integer division. Exact:
    a payroll never rounds (every amount is whole fen), so there is nothing to round."""
    return _YUAN.format(f"({expr})")


def _quoted_by_csv() -> tuple[str, ...]:
    """The characters that make the bank file's CSV writer quote a cell, asked of the writer
    itself (Python 3.11: comma, double quote, line feed), so the SQL follows its version."""
    return tuple(
        c for c in map(chr, range(1, 128)) if bank_csv_row(("a" + c + "a", "")).startswith('"')
    )


_CSV_QUOTED = _quoted_by_csv()
assert all(len(start) == 1 for start in FORMULA_STARTS)


class _Params:
    """The parameters of a statement built in pieces: each text once, named by its position."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._keys: dict[str, str] = {}

    def text(self, value: str) -> str:
        if value not in self._keys:
            self._keys[value] = f"p{len(self._keys)}"
            self.values[self._keys[value]] = value
        return f"%({self._keys[value]})s::text"

    def any_in(self, value: str, chars: Sequence[str]) -> str:
        """SQL: `value` holds one of `chars`."""
        return " OR ".join(f"strpos({value}, {self.text(c)}) > 0" for c in chars) or "false"


def sql_text_cell(value: str, params: _Params) -> str:
    """text_cell in SQL: an apostrophe before a value a spreadsheet would run."""
    starts = ", ".join(params.text(c) for c in FORMULA_STARTS)
    return (
        f"(CASE WHEN left({value}, 1) = ANY (ARRAY[{starts}]) "
        f"THEN '''' || {value} ELSE {value} END)"
    )


def sql_csv_cell(value: str, params: _Params) -> str:
    """A cell as bank_csv_row writes it: quoted, its quotes doubled, when it holds one of
    _CSV_QUOTED (`value` is evaluated up to five times: a column, not an expression)."""
    return (
        f"(CASE WHEN {params.any_in(value, _CSV_QUOTED)} "
        f"THEN '\"' || replace({value}, '\"', '\"\"') || '\"' ELSE {value} END)"
    )


@dataclass(frozen=True)
class RowMarkup:
    """One roster row's markup as its template renders it: `literals[0]`, the row's field
    `fields[0]` escaped, `literals[1]`, ... (one literal more than fields)."""

    literals: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class RowTemplate:
    """A section's row markup, for PostgreSQL to fill in row by row: a variant for each
    combination of the `switches` (fields the template tests) being empty or not, indexed by
    the bits of the non-empty ones (switches[0] is bit 0); the fields escaped by `escapes`
    (character, replacement; applied in order) as the template's autoescape does."""

    switches: tuple[str, ...]
    variants: tuple[RowMarkup, ...]
    escapes: tuple[tuple[str, str], ...]


# The fields of a roster row (activities.payroll_activities._RosterRow) in SQL, over the
# households h of _households_sql.
ROSTER_ROW_FIELDS: dict[str, str] = {
    "seq": "h.seq::text",
    "holder": "h.account_holder",
    "agent_reason": "h.agent_reason",
    "bank": "h.bank",
    "account_no": "h.account_no",
    "certificate_no": "h.certificate_no",
    "amount": "h.roster_amount",
    "kinds": "h.kinds",
    "detail": "h.detail",
}


# The roster fields PostgreSQL writes from digits, '-', '.', ':', spaces, months and the
# domain's labels and separators only: nothing in them for autoescape to change, as long as
# no label holds a character it escapes (_needs_escape asks).
_COMPOSED_FIELDS = frozenset({"seq", "amount", "kinds", "detail"})
_COMPOSED_TEXT = (
    "0123456789-.: " + KINDS_SEPARATOR + DETAIL_SEPARATOR + "".join(LINE_LABELS.values())
)


def _needs_escape(field: str, escapes: Sequence[tuple[str, str]]) -> bool:
    return field not in _COMPOSED_FIELDS or any(char in _COMPOSED_TEXT for char, _ in escapes)


def sql_escaped(value: str, escapes: Sequence[tuple[str, str]], params: _Params) -> str:
    """The value as autoescape writes it (`value` a column: it is evaluated several times)."""
    replaced = value
    for char, replacement in escapes:
        replaced = f"replace({replaced}, {params.text(char)}, {params.text(replacement)})"
    # Most values hold nothing to escape: asked first, they are not copied once per character.
    needs = params.any_in(value, [char for char, _ in escapes])
    return f"(CASE WHEN {needs} THEN {replaced} ELSE {value} END)"


def sql_roster_row(template: RowTemplate, params: _Params, column: Callable[[str], str]) -> str:
    """The SQL of a roster row of `template`, each field the escaped value `column(field)`."""

    def markup(variant: RowMarkup) -> str:
        parts = [params.text(variant.literals[0])]
        for field, after in zip(variant.fields, variant.literals[1:], strict=True):
            parts += [column(field), params.text(after)]
        return "(" + " || ".join(parts) + ")"

    if not template.switches:
        return markup(template.variants[0])
    cases = []
    for mask, variant in enumerate(template.variants):
        tests = [
            f"{column(field)} {'<>' if mask >> bit & 1 else '='} ''"
            for bit, field in enumerate(template.switches)
        ]
        cases.append(f"WHEN {' AND '.join(tests)} THEN {markup(variant)}")
    return "(CASE " + " ".join(cases) + " END)"


def sql_kinds(params: _Params) -> str:
    """roster_kinds in SQL, from the first month of each kind of line (g.first_<kind>, NULL
    without one): the labels in the order of those months. An ordering of the kinds per
    branch, so that no subquery runs per household."""
    last = "'9999-99'"  # after every month; the kinds without a line are left out anyway
    first = {k: f'coalesce(g.first_{k.value}, {last}) COLLATE "C"' for k in LineKind}
    branches = []
    for order in permutations(LineKind):
        test = " AND ".join(f"{first[a]} <= {first[b]}" for a, b in pairwise(order))
        labels = ", ".join(
            f"CASE WHEN g.first_{k.value} IS NOT NULL THEN {params.text(LINE_LABELS[k])} END"
            for k in order
        )
        branches.append(f"WHEN {test} THEN concat_ws({params.text(KINDS_SEPARATOR)}, {labels})")
    return "(CASE " + " ".join(branches) + " END)"


_SCRATCH = """
CREATE TEMPORARY TABLE payroll_build_households (
    case_id text, section text, seq int, net bigint, months text[], line_kinds text[],
    amounts bigint[], bank_row text, roster_row text
) ON COMMIT DROP
"""

_BANK_TEXT_COLUMNS = ("case_id", "certificate_no", "account_holder", "bank", "account_no")


# What a household's own texts are tested for at once: a character that the bank file's CSV
# writer quotes or autoescape replaces, or a spreadsheet formula's first character at the
# start of a text (each text follows _PLAIN_SEPARATOR).
_PLAIN_SEPARATOR = "\x01"
_PLAIN_TEXTS = (
    "case_id",
    "certificate_no",
    "account_holder",
    "bank",
    "account_no",
    "agent_reason",
    "bank_lines",
)


def _sql_bracket(chars: Sequence[str]) -> str:
    return "[" + "".join(f"\\u{ord(char):04x}" for char in sorted(set(chars))) + "]"


def sql_plain(
    params: _Params, escapes: Sequence[tuple[str, str]], column: Callable[[str], str]
) -> str:
    """SQL: none of the household's texts needs a quote, an escape or a formula's apostrophe,
    so each is written as it is. One regular expression over all of them instead of a test
    per character per text: nearly every household is plain, and the tests cost more than
    the rest of its row (NULL, not plain, if a text is NULL)."""
    special = _sql_bracket([*_CSV_QUOTED, *(char for char, _ in escapes)])
    formula = _sql_bracket(FORMULA_STARTS)
    joined = " || ".join(
        f"{params.text(_PLAIN_SEPARATOR)} || {column(name)}" for name in _PLAIN_TEXTS
    )
    pattern = f"{special}|\\u{ord(_PLAIN_SEPARATOR):04x}{formula}"
    return f"(({joined}) !~ {params.text(pattern)})"


def _households_sql(params: _Params, rows: Mapping[RosterSection, RowTemplate]) -> str:
    """Each household of the roster once: its net, section (roster_section), number in its
    section (case_id order), its bank file row (bank_file_row) and its roster row (one of
    `rows`, or none).

    Layered so that each value is computed once: g sums a household's lines; h numbers it in
    its section and makes its bank file cells safe; c escapes the roster's fields and quotes
    the cells (OFFSET 0 keeps PostgreSQL from folding c into the statement, which would
    compute each escape once per use)."""
    label = (
        "CASE r.kind "
        + " ".join(f"WHEN '{k.value}' THEN {params.text(LINE_LABELS[k])}" for k in LineKind)
        + " END"
    )
    firsts = ", ".join(
        f"min(r.month) FILTER (WHERE r.kind = '{k.value}') AS first_{k.value}" for k in LineKind
    )
    fields = ROSTER_ROW_FIELDS if rows else {}
    outstanding = RosterSection.OUTSTANDING.value
    escapes = next(iter(rows.values())).escapes if rows else ()
    if any(row.escapes != escapes for row in rows.values()):
        raise ValueError("the roster's sections escape differently")
    # A plain household's texts are written as they are (sql_plain): the same, since quoting,
    # escaping and the apostrophe change nothing in them.
    h_columns = "".join(
        f",\n           CASE WHEN s.plain THEN s.{c} ELSE {sql_text_cell(f's.{c}', params)} END"
        f" AS tc_{c}"
        for c in _BANK_TEXT_COLUMNS
    )
    c_columns = "".join(
        f",\n           CASE WHEN h.plain THEN {sql} ELSE {sql_escaped(sql, escapes, params)} END"
        f" AS html_{name}"
        if _needs_escape(name, escapes)
        else f",\n           {sql} AS html_{name}"
        for name, sql in fields.items()
    )
    c_columns += "".join(
        f",\n           CASE WHEN h.plain THEN h.tc_{c} ELSE {sql_csv_cell(f'h.tc_{c}', params)} END"
        f" AS cell_{c}"
        for c in _BANK_TEXT_COLUMNS
    )
    bank_row = " || ',' || ".join(
        [
            "c.seq::text",
            *(f"c.cell_{column}" for column in _BANK_TEXT_COLUMNS),
            sql_yuan("c.net"),
            f"CASE WHEN c.plain THEN c.bank_lines ELSE {sql_csv_cell('c.bank_lines', params)} END",
        ]
    )
    roster_row = (
        "CASE c.section "
        + " ".join(
            f"WHEN '{section.value}' THEN "
            f"{sql_roster_row(row, params, lambda name: f'c.html_{name}')}"
            for section, row in rows.items()
        )
        + " END"
        if rows
        else "NULL"
    )
    return f"""
INSERT INTO payroll_build_households (case_id, section, seq, net, months, line_kinds, amounts,
    bank_row, roster_row)
{_driver_sql(_ROSTER_CTES)},
lines AS (SELECT o.case_id, o.hk, {_driver_sql(_ROSTER_LINE)} FROM owed o),
sums AS (
    SELECT r.hk, sum(r.amount)::bigint AS net,
           string_agg(r.month || ':' || r.kind || ':' || {sql_yuan("r.amount")}, ';'
                      ORDER BY r.month) AS bank_lines,
           string_agg(r.month || ' ' || {label} || ' ' || {sql_yuan("r.amount")},
                      {params.text(DETAIL_SEPARATOR)} ORDER BY r.month) AS detail,
           {firsts},
           array_agg(r.month ORDER BY r.month) AS months,
           array_agg(r.kind ORDER BY r.month) AS line_kinds,
           array_agg(r.amount ORDER BY r.month) AS amounts
    FROM lines r
    GROUP BY r.hk
),
-- Whom to pay, once per household (the roster reads it once per line).
g AS (
    SELECT o.*, {_ROSTER_PAYEE}
    FROM (SELECT hh.case_id, su.* FROM sums su JOIN households hh ON hh.hk = su.hk) o
    {_ROSTER_PAYEE_JOINS}
),
s AS (
    SELECT g.case_id, g.hk, g.net, g.bank_lines, g.detail, g.months, g.line_kinds, g.amounts,
           g.certificate_no, g.account_holder, g.bank, g.account_no,
           CASE WHEN g.agent THEN coalesce(g.agent_reason, '') ELSE '' END AS agent_reason,
           CASE WHEN g.net < 0 THEN '{RosterSection.OUTSTANDING.value}'
                WHEN g.net = 0 THEN '{RosterSection.OFFSET.value}'
                WHEN g.account_no <> '' THEN '{RosterSection.PAID.value}'
                ELSE '{RosterSection.HELD.value}' END AS section,
           {sql_kinds(params)} AS kinds
    FROM g
),
-- Its own layer (OFFSET 0): folded into h, the test would run once for each use of plain.
p AS (
    SELECT s.*, {sql_plain(params, escapes, lambda name: f"s.{name}")} AS plain
    FROM s
    OFFSET 0
),
h AS (
    SELECT s.*, row_number() OVER (PARTITION BY s.section ORDER BY s.hk) AS seq,
           -- To recover: a positive amount.
           {sql_yuan(f"CASE WHEN s.section = '{outstanding}' THEN -s.net ELSE s.net END")}
               AS roster_amount{h_columns}
    FROM p AS s
),
c AS (
    SELECT h.*{c_columns}
    FROM h
    OFFSET 0
)
SELECT c.case_id, c.section, c.seq, c.net, c.months, c.line_kinds, c.amounts,
       CASE WHEN c.section = '{RosterSection.PAID.value}' THEN {bank_row} || E'\\n' END,
       {roster_row}
FROM c
"""


# Booked: the lines of a household netting zero or paid into its account (is_booked).
_BOOKED = [RosterSection.PAID.value, RosterSection.OFFSET.value]

_BOOK_LINES = """
INSERT INTO payroll_lines (run_id, case_id, month, kind, amount_fen)
SELECT %(run_id)s, h.case_id, l.month, l.kind, l.amount
FROM payroll_build_households h
CROSS JOIN LATERAL unnest(h.months, h.line_kinds, h.amounts) AS l (month, kind, amount)
WHERE h.section = ANY(%(booked)s::text[])
ORDER BY h.case_id, l.month
"""

_SECTIONS = """
SELECT section, count(*), coalesce(sum(net), 0)::bigint
FROM payroll_build_households GROUP BY section
"""


def _section_rows(section: RosterSection, column: str) -> str:
    return (
        f"coalesce((SELECT string_agg({column}, '' ORDER BY seq) FROM payroll_build_households "
        f"WHERE section = '{section.value}'), '')"
    )


_SIGNATURE_BEFORE, _SIGNATURE_AFTER = bank_file_signature("{}").split("{}")

# The bank file: header, rows, TOTAL; then the SHA-256 of those bytes (bank_file).
_BANK_FILE = f"""
WITH body AS MATERIALIZED (
    SELECT %(header)s::text || {_section_rows(RosterSection.PAID, "bank_row")}
           || %(total_row)s::text AS text
),
-- Materialized: inlined, the file's rows would be joined once for each use of its text.
signed AS MATERIALIZED (
    SELECT text, encode(sha256(convert_to(text, 'UTF8')), 'hex') AS sha FROM body
)
UPDATE payroll_runs SET
    households = %(households)s, total_fen = %(total_fen)s, bank_file_sha256 = signed.sha,
    bank_file = signed.text || %(before)s::text || signed.sha || %(after)s::text
FROM signed
WHERE run_id = %(run_id)s
RETURNING signed.sha
"""


async def _sql_build(
    session: AsyncSession, run_id: str, county_code: str, period: str, render: RenderRoster
) -> None:
    driver = await _driver(session)
    # A renderer of whole pages only (a plain string back) gets the whole run at the end, the
    # roster read again into memory: for small runs and tests, never the activity's.
    writer: RosterWriter | None = getattr(
        render(PayrollRun(county_code, period, ()), ""), "writer", None
    )
    rows = {s: writer.row_markup(s) for s in RosterSection} if writer is not None else {}
    async with driver.cursor() as cursor:
        # Sorts and hashes of a county's rows in memory rather than in temporary files.
        await cursor.execute("SET LOCAL work_mem = '64MB'")
        await cursor.execute("SET LOCAL jit = off")  # see roster_stream
        # The files are megabytes: lz4 compresses them several times faster than pglz.
        await cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        lz4 = await cursor.fetchone()
        if lz4 is not None and lz4[0]:
            await cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
        await cursor.execute(_SCRATCH)
        params = _Params()
        params.values.update(_roster_params(county_code, period))
        await cursor.execute(_households_sql(params, rows), params.values)
        await cursor.execute(_BOOK_LINES, {"run_id": run_id, "booked": _BOOKED})
        await cursor.execute(_SECTIONS)
        counts = {RosterSection(s): (int(n), int(total)) for s, n, total in await cursor.fetchall()}
        households, total_fen = counts.get(RosterSection.PAID, (0, 0))
        await cursor.execute(
            _BANK_FILE,
            {
                "header": bank_csv_row(BANK_FILE_HEADER),
                "total_row": bank_file_total_row(households, total_fen),
                "households": households,
                "total_fen": total_fen,
                "before": _SIGNATURE_BEFORE,
                "after": _SIGNATURE_AFTER,
                "run_id": run_id,
            },
        )
        signed = await cursor.fetchone()
        assert signed is not None
        checksum = str(signed[0])
    if writer is not None:
        await _store_roster(driver, run_id, writer, counts, checksum)
    else:
        # The roster again (the draft's lines just booked are not paid: it reads the same).
        whole = [h async for h in roster_stream(session, county_code, period)]
        page = render(assemble_run(county_code, period, whole), checksum)
        async with driver.cursor() as cursor:
            await cursor.execute(
                "UPDATE payroll_runs SET roster_html = %(page)s WHERE run_id = %(run_id)s",
                {"page": str(page), "run_id": run_id},
            )
    async with driver.cursor() as cursor:
        # Dropped at commit anyway; dropped now so that a session going on to build another
        # run in the same transaction could create them again.
        await cursor.execute("DROP TABLE payroll_build_households")


async def _store_roster(
    driver: psycopg.AsyncConnection[Any],
    run_id: str,
    writer: RosterWriter,
    counts: Mapping[RosterSection, tuple[int, int]],
    checksum: str,
) -> None:
    """The roster page: head, the paid table, each other table with households in it, tail;
    the rows joined by PostgreSQL."""
    params: dict[str, Any] = {"run_id": run_id}
    parts: list[str] = []

    def literal(value: str) -> None:
        key = f"part_{len(params)}"
        params[key] = value
        parts.append(f"%({key})s::text")

    literal(writer.head())
    for section in RosterSection:
        households, total_fen = counts.get(section, (0, 0))
        if section is not RosterSection.PAID:
            if not households:
                continue
            literal(writer.section_start(section))
        parts.append(_section_rows(section, "roster_row"))
        literal(writer.section_end(section, households, total_fen))
    literal(writer.tail(checksum))
    async with driver.cursor() as cursor:
        await cursor.execute(
            f"UPDATE payroll_runs SET roster_html = {' || '.join(parts)} WHERE run_id = %(run_id)s",
            params,
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
