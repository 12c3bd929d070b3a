"""The supervisors' stuck list, read from the cases projection in one statement.

Three kinds of open case are stuck: past the stage's deadline (ix_cases_open_due), with a step
failing or given up (the state step_failures' triggers keep on the case's row, by
ix_cases_open_failing), or sitting in a stage that waits for a person longer than the given
days (ix_cases_open_waiting_entered). A case, open or closed, is also stuck while a complaint
about it is past its working-day deadline unanswered (mca-2021 Art. 37; partial index
ix_complaints_open_due; its open cases by ix_cases_open_key).
The case indexes carry the columns the list filters, flags, sorts and counts by (0043, 0046),
so every stuck case is counted from them and only the page's cases, and their failing steps,
are read from the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db.models import STUCK_CARRIED
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
    sort_at: datetime | None = None  # the list's order: the key of a page ending here


# The columns a candidate carries: enough to filter, flag, sort and count it. For the open
# cases they are read from covering partial indexes alone (migration 0043), so however many
# cases are stuck, only the page's rows are read from the table.
_KEY_COLUMNS = ", ".join(STUCK_CARRIED)

# Past the stage's deadline (never NULL: a case without a deadline is not overdue).
_OVERDUE = "COALESCE(due_at < :now, false)"
# Waiting for a person since before the idle limit.
_IDLE = "(waiting_role IS NOT NULL AND waiting_role <> '' AND stage_entered_at < :idle_before)"

_STUCK = f"""
WITH complaints_overdue AS (
    SELECT case_id, min(due_at) AS complaint_due_at
      FROM complaints
     WHERE status IN ('received', 'assigned', 'investigating') AND due_at < :now
       AND case_id IS NOT NULL
     GROUP BY case_id
), candidates AS (
    -- Each case once: every branch leaves out the cases of the branches before it, so
    -- nothing is hashed to drop duplicates.
    -- Open and past the deadline: ix_cases_open_due.
    SELECT {_KEY_COLUMNS}, true AS open FROM cases
     WHERE closed_at IS NULL AND due_at IS NOT NULL AND due_at < :now {{filters}}
    UNION ALL
    -- Open, waiting for a person, idle: ix_cases_open_waiting_entered.
    SELECT {_KEY_COLUMNS}, true FROM cases
     WHERE closed_at IS NULL AND {_IDLE} AND NOT {_OVERDUE} {{filters}}
    UNION ALL
    -- Open, with a failing step: ix_cases_open_failing (the state step_failures' triggers
    -- keep on the row, 0046).
    SELECT {_KEY_COLUMNS}, true FROM cases
     WHERE closed_at IS NULL AND failure_status IS NOT NULL AND NOT {_OVERDUE}
       AND NOT {_IDLE} {{filters}}
    UNION ALL
    -- Open, with only an overdue complaint: ix_cases_open_key, a few.
    SELECT {_KEY_COLUMNS}, true FROM cases
     WHERE closed_at IS NULL
       AND case_id = ANY (ARRAY(SELECT case_id FROM complaints_overdue))
       AND failure_status IS NULL AND NOT {_OVERDUE} AND NOT {_IDLE} {{filters}}
    UNION ALL
    -- Closed, with an overdue complaint: by primary key, a few.
    SELECT {_KEY_COLUMNS}, false FROM cases
     WHERE closed_at IS NOT NULL
       AND case_id = ANY (ARRAY(SELECT case_id FROM complaints_overdue)) {{filters}}
), stuck AS (
    SELECT k.*, o.complaint_due_at,
           (k.open AND COALESCE(k.due_at < :now, false)) AS is_overdue,
           (k.open AND k.stage_entered_at < :idle_before
            AND k.waiting_role IS NOT NULL) AS is_idle,
           (o.case_id IS NOT NULL) AS is_complaint_overdue
      FROM candidates k
      LEFT JOIN complaints_overdue o ON o.case_id = k.case_id
)
"""

_REASON_FILTERS = {
    StuckReason.OVERDUE: "is_overdue",
    StuckReason.FAILING: "failure_status = 'retrying'",
    StuckReason.INCIDENT: "failure_status = 'incident'",
    StuckReason.IDLE: "is_idle",
    StuckReason.COMPLAINT_OVERDUE: "is_complaint_overdue",
}


def _query(flt: StuckFilter) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The columns the filter narrows by, and the statement's parameters."""
    params: dict[str, Any] = {
        "now": flt.now,
        "idle_before": flt.now - timedelta(days=flt.idle_days),
    }
    filtered: list[str] = []
    for column, value in (
        ("county_code", flt.county_code),
        ("township_code", flt.township_code),
        ("village_code", flt.village_code),
        ("stage", flt.stage.value if flt.stage else None),
        ("waiting_role", flt.assignee.value if flt.assignee else None),
    ):
        if value is not None:
            filtered.append(column)
            params[column] = value
    return tuple(filtered), params


# What the list is ordered by (longest waiting first), and so what a page's key holds.
_SORT = "COALESCE(failure_since, LEAST(due_at, stage_entered_at, complaint_due_at))"


@dataclass(frozen=True)
class StuckKey:
    """Where a page of the stuck list ends: the next page starts after it."""

    sort_at: datetime
    case_id: str


def page_key(case: StuckCase) -> StuckKey:
    """The key of a page ending at this case: the next page starts after it."""
    assert case.sort_at is not None
    return StuckKey(case.sort_at, case.case_id)


@dataclass(frozen=True)
class LastOutage:
    """The last database outage a worker recorded (db_outages), as read with the list."""

    first_seen_at: datetime
    last_seen_at: datetime
    unrecorded_failures: int
    activity_types: str


@dataclass(frozen=True)
class StuckAnswer:
    items: list[StuckCase]
    counts: list[tuple[str, int]]  # (township, stuck cases), most first
    outage: LastOutage | None = None  # asked for with `with_outage`


async def stuck_cases(
    session: AsyncSession,
    flt: StuckFilter,
    limit: int = 100,
    offset: int = 0,
    *,
    after: StuckKey | None = None,
) -> tuple[list[StuckCase], list[tuple[str, int]]]:
    """The page of stuck cases (longest waiting first) and the count per township, from one
    statement: the candidate set is computed once for both. `after` pages by key (the
    console); `offset` is the API's."""
    answer = await stuck_answer(session, flt, limit, offset, after=after)
    return answer.items, answer.counts


# The newest outage, joined to the answer's rows (and to a row of its own when the list is
# empty), so that the API's page is still one statement.
_OUTAGE_JOIN = """
    LEFT JOIN (SELECT first_seen_at AS outage_first_seen_at,
                      last_seen_at AS outage_last_seen_at,
                      unrecorded_failures AS outage_unrecorded_failures,
                      activity_types AS outage_activity_types
                 FROM db_outages ORDER BY last_seen_at DESC LIMIT 1) outage ON true
"""


@lru_cache(maxsize=512)
def _statement(
    filtered: tuple[str, ...], reason: StuckReason | None, keyed: bool, with_outage: bool
) -> TextClause:
    """The statement of a stuck list so filtered: built (and its parameters parsed) once per
    shape, not on every request."""
    cte = _STUCK.format(filters=" ".join(f"AND {c} = :{c}" for c in filtered))
    where = f"WHERE {_REASON_FILTERS[reason]}" if reason else ""
    page_where = "WHERE (sort_at, case_id) > (:after_at, :after_id)" if keyed else ""
    outage = _OUTAGE_JOIN if with_outage else ""
    return text(
        f"""{cte}, found AS MATERIALIZED (
                    SELECT case_id, township_code, {_SORT} AS sort_at, failure_status,
                           complaint_due_at, is_overdue, is_idle, is_complaint_overdue
                      FROM stuck {where}
                ), page AS (
                    SELECT * FROM found {page_where}
                     ORDER BY sort_at, case_id LIMIT :limit OFFSET :offset
                ), answer AS (
                    -- Only the page's cases are read whole, by primary key.
                    SELECT 0 AS part, row_number() OVER (ORDER BY p.sort_at, p.case_id) AS ord,
                           c.case_id, c.county_code, c.township_code, c.village_code, c.stage,
                           c.status, c.waiting_role, c.stage_entered_at, c.due_at,
                           c.overdue_since, f.activity_type, f.failure_status, f.attempts,
                           f.first_failed_at, f.last_failed_at, f.last_error, f.incident_id,
                           f.step, p.complaint_due_at, p.is_overdue, p.is_idle,
                           p.is_complaint_overdue, NULL::text AS count_township,
                           NULL::bigint AS n
                      FROM page p
                      JOIN cases c ON c.case_id = p.case_id
                      -- The failure the row's state names: ix_step_failures_open.
                      LEFT JOIN LATERAL (
                          SELECT activity_type, status AS failure_status, attempts,
                                 first_failed_at, last_failed_at, last_error, incident_id, step
                            FROM step_failures
                           WHERE p.failure_status IS NOT NULL AND case_id = p.case_id
                             AND status IN ('retrying', 'incident')
                           ORDER BY (status = 'incident') DESC, first_failed_at LIMIT 1
                      ) f ON true
                    UNION ALL
                    SELECT 1, row_number() OVER (ORDER BY count(*) DESC, township_code),
                           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                           township_code, count(*)
                      FROM found GROUP BY township_code
                )
                SELECT * FROM (SELECT) one LEFT JOIN answer ON true {outage}
                 ORDER BY part, ord"""
    )


async def stuck_answer(
    session: AsyncSession,
    flt: StuckFilter,
    limit: int = 100,
    offset: int = 0,
    *,
    after: StuckKey | None = None,
    with_outage: bool = False,
) -> StuckAnswer:
    """As `stuck_cases`, and with `with_outage` the last database outage too, all in one
    statement. Only the page's cases are read from the table: the others are filtered,
    sorted and counted from the partial indexes' columns."""
    filtered, params = _query(flt)
    if after is not None:
        params = {**params, "after_at": after.sort_at, "after_id": after.case_id}
    rows = (
        await session.execute(
            _statement(filtered, flt.reason, after is not None, with_outage),
            {**params, "limit": limit, "offset": offset},
        )
    ).mappings()
    items: list[StuckCase] = []
    counts: list[tuple[str, int]] = []
    last_outage = None
    for row in rows:
        if with_outage and last_outage is None and row["outage_last_seen_at"] is not None:
            last_outage = LastOutage(
                first_seen_at=row["outage_first_seen_at"],
                last_seen_at=row["outage_last_seen_at"],
                unrecorded_failures=int(row["outage_unrecorded_failures"]),
                activity_types=str(row["outage_activity_types"]),
            )
        if row["part"] == 0:
            items.append(_stuck(row))
        elif row["part"] == 1:
            counts.append((str(row["count_township"]), int(row["n"])))
    return StuckAnswer(items, counts, last_outage)


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
    if row["is_complaint_overdue"]:
        reasons.append(StuckReason.COMPLAINT_OVERDUE)
    sort_at = min(
        (
            t
            for t in (row["due_at"], row["stage_entered_at"], row["complaint_due_at"])
            if t is not None
        ),
        default=row["stage_entered_at"],
    )
    if failing is not None:
        sort_at = failing.first_failed_at
        what = (
            "运维处理 (ops: retry or skip the failed step)"
            if failing.status == "incident"
            else "系统重试中 (system: retrying)"
        )
        waiting_for = (
            f"{what}: {failing.activity_type} failed {failing.attempts}× — {failing.last_error}"
        )
        since = failing.first_failed_at
    elif reasons == [StuckReason.COMPLAINT_OVERDUE]:
        waiting_for = "乡镇或县级核查、书面答复举报投诉 (township or county: answer the complaint)"
        since = row["complaint_due_at"]
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
        sort_at=sort_at,
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


def _area(
    county: str | None, township: str | None, village: str | None
) -> tuple[str, dict[str, Any]]:
    filters: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (
        ("county_code", county),
        ("township_code", township),
        ("village_code", village),
    ):
        if value is not None:
            filters.append(f"AND {column} = :{column}")
            params[column] = value
    return " ".join(filters), params


async def overdue_by_stage(
    session: AsyncSession,
    now: datetime,
    *,
    county_code: str | None = None,
    township_code: str | None = None,
    village_code: str | None = None,
) -> list[tuple[Stage, int]]:
    """Open cases past their stage's deadline, counted per stage (the partial index on due_at
    holds exactly these), most first."""
    area, params = _area(county_code, township_code, village_code)
    rows = await session.execute(
        text(
            "SELECT stage, count(*) AS n FROM cases "
            f"WHERE closed_at IS NULL AND due_at IS NOT NULL AND due_at < :now {area} "
            "GROUP BY stage ORDER BY n DESC, stage"
        ),
        {**params, "now": now},
    )
    return [(Stage(stage), int(n)) for stage, n in rows.all()]


@dataclass(frozen=True)
class WeekCounts:
    week_start: datetime  # Monday 00:00 China time
    filed: int
    closed: int
    overdue: int  # stage or procedure deadlines that passed in the week (their alerts)


WEEKS_SHOWN = 12


async def weekly_counts(
    session: AsyncSession,
    now: datetime,
    *,
    weeks: int = WEEKS_SHOWN,
    county_code: str | None = None,
    township_code: str | None = None,
    village_code: str | None = None,
) -> list[WeekCounts]:
    """Cases filed, closed and gone overdue per week (weeks starting Monday, China time), the
    last `weeks` weeks up to this one, every week present even when nothing happened. Each
    count is one grouped scan of the weeks' range; nothing is read from before them."""
    weeks = max(1, min(weeks, 104))
    # The county of a township or village (its code's prefix) lets the county indexes on
    # filed_at and closed_at serve every level.
    county_code = county_code or (township_code or village_code or "")[:6] or None
    area, params = _area(county_code, township_code, village_code)
    # Alerts carry their county and township; a village is its cases'.
    alert_area = _area(county_code, township_code, None)[0].replace("AND ", "AND a.")
    if village_code:
        alert_area += (
            " AND a.case_id IN (SELECT case_id FROM cases WHERE village_code = :village_code)"
        )
    rows = await session.execute(
        text(
            f"""
            WITH bounds AS (
                SELECT date_trunc('week', (:now AT TIME ZONE 'Asia/Shanghai'))
                       - (:weeks - 1) * interval '1 week' AS first_week
            ), weeks AS (
                SELECT generate_series(first_week, first_week + (:weeks - 1) * interval '1 week',
                                       interval '1 week') AS week
                  FROM bounds
            ), since AS (
                SELECT first_week AT TIME ZONE 'Asia/Shanghai' AS at FROM bounds
            ), filed AS (
                SELECT date_trunc('week', filed_at AT TIME ZONE 'Asia/Shanghai') AS week,
                       count(*) AS n
                  FROM cases, since WHERE filed_at >= since.at {area} GROUP BY 1
            ), closed AS (
                SELECT date_trunc('week', closed_at AT TIME ZONE 'Asia/Shanghai') AS week,
                       count(*) AS n
                  FROM cases, since WHERE closed_at >= since.at {area} GROUP BY 1
            ), overdue AS (
                SELECT date_trunc('week', raised_at AT TIME ZONE 'Asia/Shanghai') AS week,
                       count(*) AS n
                  FROM supervisor_alerts a, since
                 WHERE raised_at >= since.at AND kind IN ('overdue', 'procedure_overdue')
                       {alert_area}
                 GROUP BY 1
            )
            SELECT w.week AT TIME ZONE 'Asia/Shanghai' AS week_start,
                   COALESCE(f.n, 0) AS filed, COALESCE(c.n, 0) AS closed,
                   COALESCE(o.n, 0) AS overdue
              FROM weeks w
              LEFT JOIN filed f ON f.week = w.week
              LEFT JOIN closed c ON c.week = w.week
              LEFT JOIN overdue o ON o.week = w.week
             ORDER BY w.week
            """
        ),
        {**params, "now": now, "weeks": weeks},
    )
    return [WeekCounts(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows.all()]


class AlertState(StrEnum):
    OPEN = "open"  # the case is still at that stage and still past the deadline
    CLEARED = "cleared"  # the case moved on (or the deadline was extended)
    CASE_CLOSED = "case_closed"
    NOTICE = "notice"  # a reminder, not a deadline: nothing to clear


@dataclass(frozen=True)
class AlertWithState:
    id: int
    case_id: str
    kind: str
    county_code: str
    township_code: str
    stage: str
    due_at: datetime | None
    message: str
    raised_at: datetime
    state: AlertState


async def alerts_with_state(
    session: AsyncSession,
    *,
    county_code: str | None = None,
    township_code: str | None = None,
    village_code: str | None = None,
    limit: int = 50,
) -> list[AlertWithState]:
    """The newest alerts, each with whether what it warned of still holds, read from its case
    now: an overdue alert stays open while the case sits in that stage marked overdue."""
    area, params = _area(county_code, township_code, None)
    area = area.replace("AND ", "AND a.")
    if village_code:
        area += " AND c.village_code = :village_code"
        params["village_code"] = village_code
    rows = await session.execute(
        text(
            f"""
            SELECT a.id, a.case_id, a.kind, a.county_code, a.township_code, a.stage, a.due_at,
                   a.message, a.raised_at,
                   CASE
                     WHEN c.closed_at IS NOT NULL THEN 'case_closed'
                     WHEN a.kind = 'overdue' THEN
                       CASE WHEN c.stage = a.stage AND c.overdue_since IS NOT NULL
                            THEN 'open' ELSE 'cleared' END
                     WHEN a.kind = 'procedure_overdue' THEN
                       CASE WHEN c.procedure_overdue_since IS NOT NULL
                            AND c.procedure_due_at = a.due_at
                            THEN 'open' ELSE 'cleared' END
                     ELSE 'notice'
                   END AS state
              FROM supervisor_alerts a
              JOIN cases c ON c.case_id = a.case_id
             WHERE true {area}
             ORDER BY a.raised_at DESC, a.id DESC
             LIMIT :limit
            """
        ),
        {**params, "limit": limit},
    )
    return [
        AlertWithState(
            id=r.id,
            case_id=r.case_id,
            kind=r.kind,
            county_code=r.county_code,
            township_code=r.township_code,
            stage=r.stage,
            due_at=r.due_at,
            message=r.message,
            raised_at=r.raised_at,
            state=AlertState(r.state),
        )
        for r in rows
    ]
