"""The Temporal worker: runs CaseWorkflow and its activities on the configured task queue."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings, get_settings
from dibao.temporal_client import connect
from workflows.case import CaseWorkflow

WORKFLOWS = [CaseWorkflow]


def build_worker(client: Client, settings: Settings, activities: CaseActivities) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities.all(),
    )


async def run(settings: Settings) -> None:
    client = await connect(settings)
    engine = make_engine(settings)
    activities = CaseActivities(make_sessionmaker(engine), settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings, activities)
    logging.info(
        "worker polling task queue %s on %s", settings.task_queue, settings.temporal_target
    )
    async with worker:
        await stop.wait()
    await engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    asyncio.run(run(get_settings()))


if __name__ == "__main__":
    main()
