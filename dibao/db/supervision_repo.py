"""The supervisors' stuck list, read from the cases projection in one statement.

Three kinds of open case are stuck: past the stage's deadline (partial index on due_at),
with a step failing or given up (partial index on open step_failures), or sitting in a stage
that waits for a person longer than the given days (partial index on stage_entered_at).
Their union is small however many cases there are, so the list stays fast at 100,000 cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.domain.enums import Role, Stage
from dibao.domain.ops import WAITING_FOR, StuckReason


@dataclass(frozen=True)
class StuckFilter:
    now: datetime
    idle_days: int = 10
    county_code: str | None = None
    township_code: str | None = None
    village_code: str | None = None
    stage: Stage | None = None
    assignee: Role | None = None
    reason: StuckReason | None = None


@dataclass(frozen=True)
class FailingStep:
    activity_type: str
    status: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    last_error: str
    incident_id: str | None
    step: str | None


@dataclass(frozen=True)
class StuckCase:
    case_id: str
    county_code: str
    township_code: str
    village_code: str
    stage: Stage
    status: str
    reasons: tuple[StuckReason, ...]
    waiting_for: str
    waiting_role: Role | None
    since: datetime
    due_at: datetime | None
    overdue_since: datetime | None
    failing: FailingStep | None


# Each kind of stuck case is read from its own partial index with the case's columns, so the
# (small) union needs no second look-up of the cases: joined back to every open case, the
# planner, unable to foresee how few candidates there are, hashes all of them.
_CASE_COLUMNS = (
    "c.case_id, c.county_code, c.township_code, c.village_code, c.stage, c.status, "
    "c.waiting_role, c.stage_entered_at, c.due_at, c.overdue_since"
)

_STUCK = (
    """
WITH failing AS (
    SELECT DISTINCT ON (case_id)
           case_id, activity_type, status AS failure_status, attempts, first_failed_at,
           last_failed_at, last_error, incident_id, step
      FROM step_failures
     WHERE status IN ('retrying', 'incident') AND case_id IS NOT NULL
     ORDER BY case_id, (status = 'incident') DESC, first_failed_at
), candidates AS (
    SELECT """
    + _CASE_COLUMNS
    + """ FROM cases c
     WHERE c.closed_at IS NULL AND c.due_at IS NOT NULL AND c.due_at < :now {filters}
    UNION
    SELECT """
    + _CASE_COLUMNS
    + """ FROM failing f JOIN cases c ON c.case_id = f.case_id
     WHERE c.closed_at IS NULL {filters}
    UNION
    SELECT """
    + _CASE_COLUMNS
    + """ FROM cases c
     WHERE c.closed_at IS NULL AND c.waiting_role IS NOT NULL
       AND c.stage_entered_at < :idle_before {filters}
), stuck AS (
    SELECT c.case_id, c.county_code, c.township_code, c.village_code, c.stage, c.status,
           c.waiting_role, c.stage_entered_at, c.due_at, c.overdue_since,
           f.activity_type, f.failure_status, f.attempts, f.first_failed_at, f.last_failed_at,
           f.last_error, f.incident_id, f.step,
           (c.due_at IS NOT NULL AND c.due_at < :now) AS is_overdue,
           (c.stage_entered_at < :idle_before AND c.waiting_role IS NOT NULL) AS is_idle
      FROM candidates c
      LEFT JOIN failing f ON f.case_id = c.case_id
)
"""
)

_REASON_FILTERS = {
    StuckReason.OVERDUE: "is_overdue",
    StuckReason.FAILING: "failure_status = 'retrying'",
    StuckReason.INCIDENT: "failure_status = 'incident'",
    StuckReason.IDLE: "is_idle",
}


def _query(flt: StuckFilter) -> tuple[str, str, dict[str, Any]]:
    params: dict[str, Any] = {
        "now": flt.now,
        "idle_before": flt.now - timedelta(days=flt.idle_days),
    }
    filters = []
    for column, value in (
        ("county_code", flt.county_code),
        ("township_code", flt.township_code),
        ("village_code", flt.village_code),
        ("stage", flt.stage.value if flt.stage else None),
        ("waiting_role", flt.assignee.value if flt.assignee else None),
    ):
        if value is not None:
            filters.append(f"AND c.{column} = :{column}")
            params[column] = value
    where = f"WHERE {_REASON_FILTERS[flt.reason]}" if flt.reason else ""
    return _STUCK.format(filters=" ".join(filters)), where, params


# The list's order: longest waiting first (the failing step's first failure, else the earlier
# of the deadline and the stage's entry), then case ID; a page goes on after the last (key, id).
_SINCE = "COALESCE(first_failed_at, LEAST(due_at, stage_entered_at))"


async def stuck_cases(
    session: AsyncSession,
    flt: StuckFilter,
    limit: int = 100,
    offset: int = 0,
    after: tuple[datetime, str] | None = None,
) -> tuple[list[StuckCase], list[tuple[str, int]]]:
    """The page of stuck cases (longest waiting first) and the count per township, from one
    statement: the candidate set is computed once for both. `after` (the `page_key` of the
    last case of the previous page) pages by key; the counts are of the whole list."""
    cte, where, params = _query(flt)
    order = f"{_SINCE}, case_id"
    keyed = ""
    if after is not None:
        keyed = f"WHERE ({_SINCE}, case_id) > (:after_since, :after_case)"
        params = {**params, "after_since": after[0], "after_case": after[1]}
    rows = (
        await session.execute(
            text(
                f"""{cte}, found AS MATERIALIZED (SELECT * FROM stuck {where})
                SELECT * FROM (
                    (SELECT 0 AS part, row_number() OVER (ORDER BY {order}) AS ord, found.*,
                            NULL::text AS count_township, NULL::bigint AS n
                       FROM found {keyed} ORDER BY {order} LIMIT :limit OFFSET :offset)
                    UNION ALL
                    -- The count rows carry found's columns as NULLs (a join on no row) so
                    -- both parts share one shape.
                    SELECT 1, row_number() OVER (ORDER BY t.n DESC, t.township_code), none.*,
                           t.township_code, t.n
                      FROM (SELECT township_code, count(*) AS n FROM found
                             GROUP BY township_code) t
                      LEFT JOIN (SELECT * FROM found WHERE false) none ON true
                ) answer ORDER BY part, ord"""
            ),
            {**params, "limit": limit, "offset": offset},
        )
    ).mappings()
    items: list[StuckCase] = []
    counts: list[tuple[str, int]] = []
    for row in rows:
        if row["part"] == 0:
            items.append(_stuck(row))
        else:
            counts.append((str(row["count_township"]), int(row["n"])))
    return items, counts


def page_key(case: StuckCase) -> tuple[datetime, str]:
    """The key of a case in the list's order, for the `after` of the next page."""
    if case.failing is not None:
        return case.failing.first_failed_at, case.case_id
    return (case.since if case.due_at is None else min(case.due_at, case.since)), case.case_id


def _stuck(row: Any) -> StuckCase:
    stage = Stage(row["stage"])
    role = Role(row["waiting_role"]) if row["waiting_role"] else None
    reasons: list[StuckReason] = []
    if row["is_overdue"]:
        reasons.append(StuckReason.OVERDUE)
    failing = None
    if row["failure_status"]:
        reasons.append(
            StuckReason.INCIDENT if row["failure_status"] == "incident" else StuckReason.FAILING
        )
        failing = FailingStep(
            activity_type=row["activity_type"],
            status=row["failure_status"],
            attempts=row["attempts"],
            first_failed_at=row["first_failed_at"],
            last_failed_at=row["last_failed_at"],
            last_error=row["last_error"],
            incident_id=row["incident_id"],
            step=row["step"],
        )
    if row["is_idle"]:
        reasons.append(StuckReason.IDLE)
    if failing is not None:
        what = (
            "运维处理 (ops: retry or skip the failed step)"
            if failing.status == "incident"
            else "系统重试中 (system: retrying)"
        )
        waiting_for = (
            f"{what}: {failing.activity_type} failed {failing.attempts}× — {failing.last_error}"
        )
        since = failing.first_failed_at
    else:
        waiting_for = WAITING_FOR[stage]
        since = row["stage_entered_at"]
    return StuckCase(
        case_id=row["case_id"],
        county_code=row["county_code"],
        township_code=row["township_code"],
        village_code=row["village_code"],
        stage=stage,
        status=row["status"],
        reasons=tuple(reasons),
        waiting_for=waiting_for,
        waiting_role=role,
        since=since,
        due_at=row["due_at"],
        overdue_since=row["overdue_since"],
        failing=failing,
    )


async def case_counts(session: AsyncSession, now: datetime) -> dict[str, Any]:
    """Numbers for /metrics: open cases by stage and status, overdue, failing, incidents."""
    by_stage = (
        await session.execute(
            text(
                "SELECT stage, status, count(*) FROM cases WHERE closed_at IS NULL "
                "GROUP BY stage, status"
            )
        )
    ).all()
    overdue = (
        await session.execute(
            text(
                "SELECT count(*) FROM cases "
                "WHERE closed_at IS NULL AND due_at IS NOT NULL AND due_at < :now"
            ),
            {"now": now},
        )
    ).scalar_one()
    failures: dict[str, int] = dict(
        (
            await session.execute(
                text(
                    "SELECT status, count(*) FROM step_failures "
                    "WHERE status IN ('retrying', 'incident') GROUP BY status"
                )
            )
        ).all()
    )
    return {
        "by_stage": [(str(s), str(st), int(n)) for s, st, n in by_stage],
        "overdue": int(overdue),
        "incidents": int(failures.get("incident", 0)),
        "failing": int(failures.get("retrying", 0)),
    }
