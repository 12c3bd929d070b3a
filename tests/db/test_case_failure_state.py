"""A case's row names its worst open step failure (cases.failure_status, failure_since), as
step_failures' triggers keep it (migration 0046), and the stuck list finds the case by it: an
incident before a retrying step, then the one failing longest; nothing once all are over."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from alembic import command

from dibao.db import supervision_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.migrate import alembic_config, upgrade
from dibao.db.supervision_repo import StuckFilter
from dibao.domain.ops import StuckReason
from dibao.settings import Settings

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CASE = "DB-FAILSTATE0001"


def add_case(conn: psycopg.Connection, case_id: str = CASE, i: int = 1) -> None:
    """An open case in review, entered today: stuck for no reason but its failures."""
    conn.execute(
        "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
        "rule_pack_version, area_type, province_code, county_code, township_code, "
        "village_code, stage_entered_at, filed_at) VALUES "
        "(%s, %s, 'township_review', 'in_review', 'seed-default', 1, 'rural', '61', "
        "'610423', '610423100', '610423100201', %s, %s)",
        (case_id, f"F{i:017d}", NOW, NOW),
    )


def fail(
    conn: psycopg.Connection,
    activity_id: str,
    status: str,
    minutes_ago: int,
    case_id: str | None = CASE,
) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    conn.execute(
        "INSERT INTO step_failures (workflow_id, run_id, activity_id, case_id, activity_type, "
        "status, attempts, first_failed_at, last_failed_at, last_error) "
        "VALUES (%s, 'run-1', %s, %s, 'issue_notice', %s, 1, %s, %s, 'db down')",
        (case_id or "PAYROLL-1", activity_id, case_id, status, at, at),
    )


def state(conn: psycopg.Connection, case_id: str = CASE) -> tuple[str | None, datetime | None]:
    row = conn.execute(
        "SELECT failure_status, failure_since FROM cases WHERE case_id = %s", (case_id,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def set_status(conn: psycopg.Connection, activity_id: str, status: str) -> None:
    conn.execute(
        "UPDATE step_failures SET status = %s WHERE activity_id = %s", (status, activity_id)
    )


def ago(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_the_row_follows_its_worst_open_failure(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        add_case(conn)
        assert state(conn) == (None, None)

        fail(conn, "1", "retrying", minutes_ago=10)
        assert state(conn) == ("retrying", ago(10))
        # A failure of longer standing is the one the supervisors see first.
        fail(conn, "2", "retrying", minutes_ago=30)
        assert state(conn) == ("retrying", ago(30))
        # Another failed attempt of the same call changes nothing the list shows.
        conn.execute("UPDATE step_failures SET attempts = 5 WHERE activity_id = '2'")
        assert state(conn) == ("retrying", ago(30))
        # An incident (waiting for ops) comes before any retrying step, however recent.
        set_status(conn, "1", "incident")
        assert state(conn) == ("incident", ago(10))
        set_status(conn, "1", "retried")
        assert state(conn) == ("retrying", ago(30))
        set_status(conn, "2", "recovered")
        assert state(conn) == (None, None)

        # A failure recorded without its case, then given it (as an incident's open does).
        fail(conn, "3", "incident", minutes_ago=5, case_id=None)
        assert state(conn) == (None, None)
        conn.execute("UPDATE step_failures SET case_id = %s WHERE activity_id = '3'", (CASE,))
        assert state(conn) == ("incident", ago(5))
        # ... and moved to another case: each row says what is open on it.
        add_case(conn, "DB-FAILSTATE0002", 2)
        conn.execute(
            "UPDATE step_failures SET case_id = 'DB-FAILSTATE0002' WHERE activity_id = '3'"
        )
        assert state(conn) == (None, None)
        assert state(conn, "DB-FAILSTATE0002") == ("incident", ago(5))
        conn.execute("DELETE FROM step_failures WHERE activity_id = '3'")
        assert state(conn, "DB-FAILSTATE0002") == (None, None)


async def test_the_stuck_list_finds_a_failing_case_by_its_row(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        add_case(conn)
        fail(conn, "1", "retrying", minutes_ago=30)
        fail(conn, "2", "incident", minutes_ago=10)
        add_case(conn, "DB-FAILSTATE0002", 2)

    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    try:
        async with make_sessionmaker(engine)() as session:
            items, counts = await supervision_repo.stuck_cases(session, StuckFilter(now=NOW))
            incidents, _ = await supervision_repo.stuck_cases(
                session, StuckFilter(now=NOW, reason=StuckReason.INCIDENT)
            )
            retrying, _ = await supervision_repo.stuck_cases(
                session, StuckFilter(now=NOW, reason=StuckReason.FAILING)
            )
    finally:
        await engine.dispose()

    assert [c.case_id for c in items] == [CASE] and counts == [("610423100", 1)]
    case = items[0]
    assert case.reasons == (StuckReason.INCIDENT,)
    # The step shown is the one the row names: the incident, since it failed.
    assert case.failing is not None and case.failing.status == "incident"
    assert case.since == ago(10) and case.sort_at == ago(10)
    assert [c.case_id for c in incidents] == [CASE] and retrying == []


def _wait_until_blocked(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as watcher:
        for _ in range(500):
            row = watcher.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


Write = Callable[[psycopg.Connection], None]


def _at_the_same_moment(url: str, first: Write, second: Write, expected: str) -> None:
    """`first` writes and holds its transaction open while `second` writes a failure of the
    same case; whichever commits last, the row holds the worst of both."""
    with psycopg.connect(url, autocommit=True) as conn:
        add_case(conn)
        fail(conn, "0", "retrying", minutes_ago=60)
    one = psycopg.connect(url)
    two = psycopg.connect(url)
    try:
        first(one)
        errors: list[BaseException] = []

        def write_second() -> None:
            try:
                second(two)
                two.commit()
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

        writer = threading.Thread(target=write_second)
        writer.start()
        _wait_until_blocked(url, two.info.backend_pid)
        one.commit()
        writer.join(timeout=10)
        assert not writer.is_alive() and errors == []
    finally:
        one.close()
        two.close()
    with psycopg.connect(url, autocommit=True) as conn:
        assert state(conn)[0] == expected


def test_an_incident_written_beside_a_retrying_step_is_not_lost(database_url: str) -> None:
    # The incident commits first; the retrying step's trigger, waiting on the case's row,
    # then reads it rather than the snapshot it started with.
    _at_the_same_moment(
        database_url,
        lambda conn: fail(conn, "1", "incident", minutes_ago=5),
        lambda conn: fail(conn, "2", "retrying", minutes_ago=1),
        "incident",
    )


def test_a_step_recovered_beside_a_new_incident_leaves_the_incident(database_url: str) -> None:
    _at_the_same_moment(
        database_url,
        lambda conn: fail(conn, "1", "incident", minutes_ago=5),
        lambda conn: set_status(conn, "0", "recovered"),
        "incident",
    )


def test_the_upgrade_puts_open_failures_on_their_cases(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0045")
    with psycopg.connect(database_url, autocommit=True) as conn:
        add_case(conn)
        add_case(conn, "DB-FAILSTATE0002", 2)
        fail(conn, "1", "retrying", minutes_ago=30)
        fail(conn, "2", "incident", minutes_ago=10)
        fail(conn, "3", "retrying", minutes_ago=20, case_id="DB-FAILSTATE0002")
        conn.execute("UPDATE step_failures SET status = 'recovered' WHERE activity_id = '3'")
    upgrade(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert state(conn) == ("incident", ago(10))
        assert state(conn, "DB-FAILSTATE0002") == (None, None)
