"""The worker's metrics endpoints are not open to the network unless asked to be."""

from __future__ import annotations

import socket
import time

import psutil

from dibao.settings import Settings
from worker import metrics_runtime, start_metrics_server


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
