"""Long activities heartbeat, so a worker killed mid-activity is noticed within the heartbeat
timeout (seconds) instead of the whole start-to-close timeout (ten minutes for a payroll)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.payroll_activities import PayrollActivities
from activities.verification.activity import VerificationActivities
from activities.verification.connectors import Connector, default_connectors
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.payroll import BuildPayroll
from dibao.domain.verification import Department, RegistryRecord
from dibao.settings import Settings
from tests.activities.test_verification_activity import request, with_replaced
from tests.workflows.test_payroll_workflow import (  # noqa: F401 (the fixture)
    MAKER,
    Payroll,
    payroll,
    until,
)
from workflows import payroll_policies, policies

BEAT = timedelta(seconds=0.2)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(Settings(database_url=database_url))
    yield make_sessionmaker(engine)
    await engine.dispose()


def counting_env() -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=BEAT)
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


def test_long_activities_are_scheduled_with_a_heartbeat_timeout_under_a_minute() -> None:
    assert timedelta(seconds=60) >= payroll_policies.BUILD_HEARTBEAT_TIMEOUT
    assert timedelta(seconds=60) >= policies.HEARTBEAT_TIMEOUT
    # Far under the start-to-close timeouts they shorten.
    assert payroll_policies.BUILD_HEARTBEAT_TIMEOUT < payroll_policies.BUILD_TIMEOUT / 10


async def test_the_payroll_workflow_schedules_its_build_with_the_heartbeat_timeout(
    payroll: Payroll,  # noqa: F811
) -> None:
    handle = await payroll.start("2026-11")
    await until(handle, "draft")
    history = await handle.fetch_history()
    (scheduled,) = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "build_payroll"
    ]
    assert scheduled.heartbeat_timeout.ToTimedelta() == payroll_policies.BUILD_HEARTBEAT_TIMEOUT


async def test_the_payroll_build_heartbeats(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    env, beats = counting_env()
    built = await env.run(
        PayrollActivities(sessions, Settings(database_url=database_url)).build_payroll,
        BuildPayroll(
            county_code="610423",
            period="2026-11",
            maker=MAKER.id,
            built_at=datetime(2026, 11, 20, tzinfo=UTC),
        ),
    )
    assert built.run_id == "PR-610423-2026-11"
    assert len(beats) >= 1


class Slow:
    """A department's registry that takes a while to answer."""

    def __init__(self, inner: Connector, seconds: float) -> None:
        self.department: Department = inner.department
        self._inner = inner
        self._seconds = seconds

    async def fetch(self, id_numbers: tuple[str, ...]) -> list[RegistryRecord]:
        await asyncio.sleep(self._seconds)
        return await self._inner.fetch(id_numbers)


async def test_verification_heartbeats_while_a_registry_is_slow(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    slow = Slow(default_connectors(sessions)[0], seconds=1.0)
    activities = VerificationActivities(sessions, with_replaced(sessions, slow))
    env, beats = counting_env()
    await env.run(activities.verify_household, request())
    # One beat every 50 ms while waiting a second: a worker that died would have stopped them.
    assert len(beats) >= 5
