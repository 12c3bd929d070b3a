"""The worker's metrics endpoints are not open to the network unless asked to be."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from typing import Any

import psutil
from temporalio.testing import WorkflowEnvironment

from dibao.settings import Settings
from worker import build_worker, metrics_runtime, start_metrics_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_activity_metrics_listen_on_loopback_by_default() -> None:
    server = start_metrics_server(settings(worker_metrics_port=free_port()))
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()


def test_a_setting_opens_the_activity_metrics_to_the_network() -> None:
    server = start_metrics_server(settings(worker_metrics_port=free_port(), metrics_host="0.0.0.0"))
    try:
        assert server.server_address[0] == "0.0.0.0"
    finally:
        server.shutdown()
        server.server_close()


def test_sdk_metrics_listen_on_loopback_by_default() -> None:
    port = free_port()
    runtime = metrics_runtime(settings(sdk_metrics_port=port))
    assert runtime is not None
    # The runtime's server starts in the background.
    for _ in range(50):
        listening = [
            c.laddr.ip
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        ]
        if listening:
            break
        time.sleep(0.1)
    assert listening == ["127.0.0.1"]


async def test_the_workflow_cache_and_sticky_timeout_come_from_the_settings(
    dev_env: WorkflowEnvironment,
) -> None:
    configured = settings(
        max_cached_workflows=25_000,
        sticky_queue_timeout_seconds=3,
        max_concurrent_workflow_tasks=40,
        max_concurrent_activities=30,
    )
    worker = build_worker(dev_env.client, configured, [], None)  # type: ignore[arg-type]
    config: dict[str, Any] = dict(worker.config())
    assert config["max_cached_workflows"] == 25_000
    assert config["sticky_queue_schedule_to_start_timeout"] == timedelta(seconds=3)
    assert config["max_concurrent_workflow_tasks"] == 40
    assert config["max_concurrent_activities"] == 30
