# ruff: noqa: F811  (the fixtures of test_payroll_repo, imported, are parameters here)
"""0044: payroll_lines keep their references to payroll_runs and cases without foreign keys.
A statement inserting a line of an unknown run or case is refused whole; a case or run that
lines hold is neither deleted nor given another key; a case deleted while its county's build
runs waits for the build and then sees its lines. The downgrade gives back the id and the
foreign keys."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import payroll_repo
from dibao.db.migrate import alembic_config, upgrade
from dibao.settings import Settings
from tests.db.test_payroll_repo import (  # noqa: F401  (fixtures)
    BUILT,
    COUNTY,
    conn,
    renderer,
    seed_county,
    session,
    settings,
)

RUN = "PR-610423-2026-10"
LINE = "INSERT INTO payroll_lines (run_id, case_id, month, kind, amount_fen) VALUES "


def bare_case(conn: psycopg.Connection[Any], case_id: str, county: str = COUNTY) -> None:
    """A case row and nothing else: no other table refers to it, so what refuses its deletion
    is the payroll lines' trigger alone."""
    conn.execute(
        "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
        "rule_pack_version, area_type, province_code, county_code, township_code, "
        "village_code, stage_entered_at, filed_at) VALUES (%s, %s, 'recipient', 'receiving', "
        "'seed-default', 1, 'rural', %s, %s, %s, %s, now(), now())",
        (case_id, "H" + case_id, county[:2], county, county + "100", county + "100201"),
    )


def draft_run(conn: psycopg.Connection[Any], run_id: str = RUN) -> None:
    conn.execute(
        "INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at, "
        "households, total_fen, bank_file, bank_file_sha256, roster_html) VALUES "
        "(%s, %s, '2026-10', 'draft', 'maker', now(), 0, 0, '', '', '')",
        (run_id, COUNTY),
    )


def count_lines(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM payroll_lines").fetchone()
    assert row is not None
    return int(row[0])


def test_a_line_of_an_unknown_case_or_run_is_refused_and_nothing_is_written(
    conn: psycopg.Connection[Any],
) -> None:
    bare_case(conn, "DB-REF0000001")
    draft_run(conn)
    conn.execute(LINE + "(%s, 'DB-REF0000001', '2026-10', 'regular', 100)", (RUN,))
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="case DB-NOSUCH0001"):
        conn.execute(
            LINE + "(%s, 'DB-REF0000001', '2026-09', 'arrears', 100), "
            "(%s, 'DB-NOSUCH0001', '2026-10', 'regular', 100)",
            (RUN, RUN),
        )
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="run PR-610423-2031-01"):
        conn.execute(
            LINE + "(%s, 'DB-REF0000001', '2026-09', 'arrears', 100), "
            "('PR-610423-2031-01', 'DB-REF0000001', '2026-10', 'regular', 100)",
            (RUN,),
        )
    assert count_lines(conn) == 1


def test_a_case_with_lines_is_neither_deleted_nor_renamed(
    conn: psycopg.Connection[Any],
) -> None:
    bare_case(conn, "DB-REF0000001")
    bare_case(conn, "DB-REF0000002")
    draft_run(conn)
    conn.execute(LINE + "(%s, 'DB-REF0000001', '2026-10', 'regular', 100)", (RUN,))
    for statement in (
        "DELETE FROM cases WHERE case_id = 'DB-REF0000001'",
        "UPDATE cases SET case_id = 'DB-REF0000009' WHERE case_id = 'DB-REF0000001'",
    ):
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="DB-REF0000001"):
            conn.execute(statement)
    # Other columns change freely, and so does the key written unchanged.
    conn.execute(
        "UPDATE cases SET stage = 'recipient', case_id = case_id WHERE case_id = 'DB-REF0000001'"
    )
    # A case without lines goes.
    conn.execute("UPDATE cases SET case_id = 'DB-REF0000003' WHERE case_id = 'DB-REF0000002'")
    conn.execute("DELETE FROM cases WHERE case_id = 'DB-REF0000003'")
    cases = conn.execute("SELECT case_id FROM cases WHERE case_id LIKE 'DB-REF%'").fetchall()
    assert cases == [("DB-REF0000001",)]


def test_a_run_with_lines_is_neither_deleted_nor_renamed(
    conn: psycopg.Connection[Any],
) -> None:
    bare_case(conn, "DB-REF0000001")
    draft_run(conn)
    conn.execute(LINE + "(%s, 'DB-REF0000001', '2026-10', 'regular', 100)", (RUN,))
    for statement in (
        "DELETE FROM payroll_runs WHERE run_id = %s",
        "UPDATE payroll_runs SET run_id = 'PR-610423-2026-12' WHERE run_id = %s",
    ):
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match=RUN):
            conn.execute(statement, (RUN,))
    conn.execute("UPDATE payroll_runs SET total_fen = 100 WHERE run_id = %s", (RUN,))
    conn.execute("DELETE FROM payroll_lines WHERE run_id = %s", (RUN,))
    conn.execute("DELETE FROM payroll_runs WHERE run_id = %s", (RUN,))
    assert conn.execute("SELECT count(*) FROM payroll_runs").fetchone() == (0,)


async def test_a_build_is_discarded_built_again_and_released(
    conn: psycopg.Connection[Any], session: AsyncSession, settings: Settings
) -> None:
    seed_county(conn)
    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT, renderer(settings)
    )
    assert count_lines(conn) > 0
    await payroll_repo.discard_run(session, row.run_id, "li.na", "改正", BUILT)
    assert count_lines(conn) == 0
    assert conn.execute("SELECT count(*) FROM payroll_runs").fetchone() == (0,)
    row = await payroll_repo.build_run(
        session, COUNTY, "2026-11", "li.na", BUILT.replace(day=2), renderer(settings)
    )
    booked = count_lines(conn)
    assert booked > 0
    released = await payroll_repo.release_run(session, row.run_id, "chen.gang", BUILT)
    assert released.status == "released"
    paid = conn.execute("SELECT sum(amount_fen) FROM payroll_paid_ranges").fetchone()
    assert paid is not None and paid[0] > 0
    # Released, the run is refused as released before anything looks at its lines.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM payroll_runs WHERE run_id = %s", (row.run_id,))
    assert count_lines(conn) == booked


def test_a_case_deleted_during_its_countys_build_waits_for_it_and_sees_its_lines(
    database_url: str, conn: psycopg.Connection[Any]
) -> None:
    bare_case(conn, "DB-REF0000001")
    draft_run(conn)
    refused: list[BaseException] = []

    def delete_case() -> None:
        with psycopg.connect(database_url, autocommit=True) as other:
            try:
                other.execute("DELETE FROM cases WHERE case_id = 'DB-REF0000001'")
            except psycopg.Error as e:
                refused.append(e)

    with psycopg.connect(database_url) as build:  # one transaction, as build_run's
        build.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"payroll:{COUNTY}",))
        build.execute(LINE + "(%s, 'DB-REF0000001', '2026-10', 'regular', 100)", (RUN,))
        deleter = threading.Thread(target=delete_case)
        deleter.start()
        for _ in range(200):
            waiting = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE d.datname = current_database() AND l.locktype = 'advisory' "
                "AND NOT l.granted"
            ).fetchone()
            if waiting == (1,):
                break
            time.sleep(0.05)
        assert waiting == (1,), "the deletion does not wait for the county's build"
        build.commit()
    deleter.join(timeout=30)
    assert not deleter.is_alive()
    assert len(refused) == 1 and isinstance(refused[0], psycopg.errors.ForeignKeyViolation)
    assert conn.execute("SELECT count(*) FROM cases").fetchone() == (1,)


def test_the_downgrade_gives_back_the_id_and_foreign_keys_and_the_upgrade_takes_them_again(
    database_url: str, conn: psycopg.Connection[Any]
) -> None:
    bare_case(conn, "DB-REF0000001")
    draft_run(conn)
    conn.execute(
        LINE + "(%s, 'DB-REF0000001', '2026-10', 'regular', 100), "
        "(%s, 'DB-REF0000001', '2026-09', 'arrears', 200)",
        (RUN, RUN),
    )

    def constraints() -> list[tuple[str, str]]:
        return [
            (name, kind)
            for name, kind in conn.execute(
                "SELECT conname, contype::text FROM pg_constraint "
                "WHERE conrelid = 'payroll_lines'::regclass AND contype IN ('p', 'u', 'f') "
                "ORDER BY conname"
            )
        ]

    def lines() -> list[tuple[Any, ...]]:
        return conn.execute(
            "SELECT run_id, case_id, month, kind, amount_fen FROM payroll_lines ORDER BY month"
        ).fetchall()

    before = lines()
    assert constraints() == [("pk_payroll_lines", "p")]
    command.downgrade(alembic_config(database_url), "0043")
    assert constraints() == [
        ("payroll_lines_case_id_fkey", "f"),
        ("payroll_lines_pkey", "p"),
        ("payroll_lines_run_id_fkey", "f"),
        ("uq_payroll_lines_run_case", "u"),
    ]
    assert lines() == before
    ids = conn.execute("SELECT id FROM payroll_lines ORDER BY id").fetchall()
    assert len(ids) == 2
    conn.execute(LINE + "(%s, 'DB-REF0000001', '2026-08', 'arrears', 300)", (RUN,))
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(LINE + "(%s, 'DB-NOSUCH0001', '2026-10', 'regular', 100)", (RUN,))
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("DELETE FROM cases WHERE case_id = 'DB-REF0000001'")
    conn.execute("DELETE FROM payroll_lines WHERE month = '2026-08'")
    upgrade(database_url)
    assert constraints() == [("pk_payroll_lines", "p")]
    assert lines() == before
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="payroll lines"):
        conn.execute("DELETE FROM cases WHERE case_id = 'DB-REF0000001'")
