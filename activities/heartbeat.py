"""Heartbeats of long activities, so that a worker killed mid-activity is noticed after the
heartbeat timeout (seconds) rather than the whole start-to-close timeout (minutes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity

# When the activity has no heartbeat timeout (an older workflow's schedule): beat this often.
DEFAULT_EVERY = 10.0


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat while the block runs, a few times per heartbeat timeout.

    A background task rather than calls in the block's loops: the long part of a payroll build
    is one database statement, which has no loop to beat in. The SDK throttles what reaches
    the server, so beating often costs nothing.
    """
    timeout = activity.info().heartbeat_timeout
    every = timeout.total_seconds() / 4 if timeout else DEFAULT_EVERY

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
