"""Activities of the payroll workflow: build a county's run for a period, release it.

Both are idempotent under the unique run ID (PR-{county}-{period}): a retried build returns
the run stored first, with the same bank file; a retried release returns the released run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from dibao.db import payroll_repo
from dibao.db.payroll_models import PayrollRunRow
from dibao.db.payroll_repo import RowMarkup, RowTemplate
from dibao.domain.money import format_yuan
from dibao.domain.payroll import (
    BuildPayroll,
    DiscardPayroll,
    HouseholdPay,
    PayrollDiscarded,
    PayrollRun,
    PayrollRunRef,
    ReleasePayroll,
    RosterSection,
    RunStatus,
    period_label,
    roster_detail,
    roster_kinds,
    roster_section,
)
from dibao.notices.render import environment
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


@dataclass(frozen=True, slots=True)
class _RosterRow:
    """One household's row of the roster (attributes, not a dict: the template reads a
    county's rows by the hundred thousand, and attribute lookup is Jinja's fast path)."""

    seq: int
    holder: str
    agent_reason: str
    bank: str
    account_no: str
    certificate_no: str
    amount: str
    kinds: str
    detail: str


def _row(household: HouseholdPay, seq: int, amount_fen: int) -> _RosterRow:
    return _RosterRow(
        seq=seq,
        holder=household.account_holder,
        agent_reason=household.agent_reason if household.agent else "",
        bank=household.bank,
        account_no=household.account_no,
        certificate_no=household.certificate_no,
        amount=format_yuan(amount_fen),
        kinds=roster_kinds(household.lines),
        detail=roster_detail(household.lines),
    )


# --- a row macro as markup for PostgreSQL to fill in ----------------------------------------
#
# A county's roster has a row per household: rendered here, 100,000 rows take seconds of
# Jinja, so the build has PostgreSQL write them. The markup stays the template's: its row
# macro is rendered for one row whose fields are marks, and the text between the marks is
# what SQL puts between the escaped fields (payroll_repo.sql_roster_row). A field the macro
# tests (`{% if row.agent_reason %}`) is found by rendering it empty, and gives a variant for
# each case. compile_rows checks its work against Jinja on awkward values, so a macro that
# does more with a field (a filter, a comparison, the loop's index) fails the build loudly
# instead of writing a different page.

_FIELDS = tuple(f.name for f in fields(_RosterRow))
_MARKS = {name: f"\ue000{n}\ue001" for n, name in enumerate(_FIELDS)}
_MARK = re.compile("\ue000(\\d+)\ue001")
# More fields tested than this and the variants multiply past use.
_MAX_SWITCHES = 3


class RosterTemplateError(ValueError):
    """The roster template's row macro does something PostgreSQL cannot repeat."""


def _escapes() -> tuple[tuple[str, str], ...]:
    """What autoescape does to a value (markupsafe.escape), `&` first so that the entities
    put in after it stay as they are."""
    found = [(c, str(escape(c))) for c in map(chr, range(1, 128)) if str(escape(c)) != c]
    return tuple(sorted(found, key=lambda pair: pair[0] != "&"))


def _fill(template: RowTemplate, values: dict[str, Any]) -> str:
    """What PostgreSQL writes for a row of these values (payroll_repo.sql_roster_row)."""
    mask = sum(1 << bit for bit, name in enumerate(template.switches) if values[name])
    variant = template.variants[mask]
    out = [variant.literals[0]]
    for name, after in zip(variant.fields, variant.literals[1:], strict=True):
        value = values[name]
        for char, replacement in template.escapes:
            value = value.replace(char, replacement)
        out += [value, after]
    return "".join(out)


def compile_rows(render: Callable[[list[_RosterRow]], str]) -> RowTemplate:
    """The markup of the rows `render` writes (a row macro over a list of rows)."""

    def one(values: dict[str, Any]) -> str:
        return render([_RosterRow(**values)])

    full = one(_MARKS)
    switches = tuple(
        name for name in _FIELDS if one(_MARKS | {name: ""}) != full.replace(_MARKS[name], "")
    )
    if len(switches) > _MAX_SWITCHES:
        raise RosterTemplateError(f"the roster's row macro tests {len(switches)} fields")
    variants = []
    for mask in range(1 << len(switches)):
        values = dict(_MARKS)
        for bit, name in enumerate(switches):
            if not mask >> bit & 1:
                values[name] = ""
        pieces = _MARK.split(one(values))
        variants.append(
            RowMarkup(tuple(pieces[0::2]), tuple(_FIELDS[int(n)] for n in pieces[1::2]))
        )
    template = RowTemplate(switches, tuple(variants), _escapes())
    # The check: rows of awkward values, every variant, two rows at a time, against Jinja.
    for mask in range(1 << len(switches)):
        probes: list[dict[str, Any]] = []
        for n in range(2):
            probe: dict[str, Any] = {name: f'<&\'"{name}{n}">' for name in _FIELDS}
            for bit, name in enumerate(switches):
                if not mask >> bit & 1:
                    probe[name] = ""
            probes.append(probe)
        expected = render([_RosterRow(**probe) for probe in probes])
        if expected != "".join(_fill(template, probe) for probe in probes):
            raise RosterTemplateError(
                "the roster's row macro does more with a row than print its fields "
                "(escaped) and test them for being empty: PostgreSQL cannot write its rows"
            )
    return template


class RosterParts:
    """The 花名册 for printing and signing, in pieces (payroll_repo.RosterWriter) from the
    macros of its template: households paid, those netting zero, and those to be recovered
    outside the bank file or held back for want of an account. A build has PostgreSQL write
    the rows (`row_markup`); `whole` renders a run in memory, row by row, with Jinja."""

    def __init__(
        self, templates_dir: Path, run: PayrollRun, maker: str, built_at: datetime
    ) -> None:
        self._macros: Any = environment(templates_dir).get_template(ROSTER_TEMPLATE).module
        self._run = run
        self._maker = maker
        self._built_at = built_at

    def head(self) -> str:
        run = self._run
        return str(
            self._macros.head(run.run_id, run.county_code, run.period, period_label(run.period))
        )

    def section_start(self, section: RosterSection) -> str:
        return str(self._macros.section_start(section.value))

    def rows(
        self, section: RosterSection, households: Sequence[HouseholdPay], first_seq: int
    ) -> str:
        # Outstanding: what is to be recovered, a positive amount.
        sign = -1 if section is RosterSection.OUTSTANDING else 1
        rows = [_row(h, seq, sign * h.net_fen) for seq, h in enumerate(households, start=first_seq)]
        if section is RosterSection.PAID:
            return str(self._macros.paid_rows(rows))
        return str(self._macros.section_rows(section.value, rows))

    def row_markup(self, section: RosterSection) -> RowTemplate:
        """The markup of one row of the section, for PostgreSQL to fill in for every
        household (payroll_repo.RowTemplate)."""
        if section is RosterSection.PAID:
            return compile_rows(lambda rows: str(self._macros.paid_rows(rows)))
        return compile_rows(lambda rows: str(self._macros.section_rows(section.value, rows)))

    def section_end(self, section: RosterSection, households: int, total_fen: int) -> str:
        if section is RosterSection.PAID:
            return str(self._macros.paid_end(households, format_yuan(total_fen)))
        return str(self._macros.section_end())

    def tail(self, bank_file_sha256: str) -> str:
        return str(self._macros.tail(bank_file_sha256, self._built_at, self._maker))

    def whole(self, bank_file_sha256: str) -> str:
        """The page of the run's households as held in memory."""
        run = self._run
        by_section: dict[RosterSection, list[HouseholdPay]] = {}
        for household in (*run.households, *run.outstanding, *run.held):
            by_section.setdefault(roster_section(household), []).append(household)
        out = [self.head()]
        for section in RosterSection:
            households = by_section.get(section, [])
            if section is not RosterSection.PAID:
                if not households:
                    continue
                out.append(self.section_start(section))
            out.append(self.rows(section, households, 1))
            out.append(
                self.section_end(section, len(households), sum(h.net_fen for h in households))
            )
        out.append(self.tail(bank_file_sha256))
        return "".join(out)


class RosterPage(str):
    """The 花名册 of a run as given (the text), and the writer a build streams a county's
    households through (`writer`, payroll_repo.RenderRoster)."""

    writer: RosterParts

    def __new__(cls, parts: RosterParts, bank_file_sha256: str) -> RosterPage:
        page = super().__new__(cls, parts.whole(bank_file_sha256))
        page.writer = parts
        return page


def roster_page(
    templates_dir: Path, run: PayrollRun, bank_file_sha256: str, maker: str, built_at: datetime
) -> RosterPage:
    """The run's 花名册; a build passes an empty run of its county and period, and streams the
    households and, at the end, the bank file's checksum through the page's `writer`."""
    return RosterPage(RosterParts(templates_dir, run, maker, built_at), bank_file_sha256)


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
