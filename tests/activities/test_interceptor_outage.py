"""A PostgreSQL outage leaves a trace: the step failures the worker could not record are
counted, and written to db_outages once the database answers again."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.interceptor import StepFailureInterceptor
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.metrics import UNRECORDED_FAILURES
from dibao.settings import Settings


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(Settings(database_url=database_url))
    yield make_sessionmaker(engine)
    await engine.dispose()


def set_reachable(admin_url: str, database_url: str, reachable: bool) -> None:
    """An outage of this test's database only: no new connections, current ones cut."""
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(reachable).lower()}')
        if not reachable:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def unrecorded(activity_type: str) -> float:
    return float(UNRECORDED_FAILURES.labels(activity_type)._value.get())


async def test_failures_unrecorded_during_an_outage_are_written_down_when_it_ends(
    sessions: async_sessionmaker[AsyncSession], database_url: str, pg_admin_url: str
) -> None:
    interceptor = StepFailureInterceptor(sessions, drill_poll_seconds=0)
    info = dataclasses.replace(
        ActivityEnvironment.default_info(),
        activity_type="close_posting",
        workflow_type="CaseWorkflow",
        workflow_id="DB-OUTAGE00001",
    )
    before = unrecorded("close_posting")
    await interceptor.record_recovered(info)  # leaves a pooled connection the outage cuts
    set_reachable(pg_admin_url, database_url, False)
    try:
        await interceptor.record_failure(info, RuntimeError("database unreachable"))
        await interceptor.record_failure(info, RuntimeError("database unreachable"))
        assert unrecorded("close_posting") == before + 2
    finally:
        set_reachable(pg_admin_url, database_url, True)

    await interceptor.drill_for(info)  # the next activity: the database answers again
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT unrecorded_failures, activity_types, first_seen_at <= last_seen_at "
            "FROM db_outages"
        ).fetchall()
    assert rows == [(2, "close_posting", True)]
