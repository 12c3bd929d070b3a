"""`make dev` refuses to start on a busy port and says which one."""

from __future__ import annotations

import socket

import pytest

from cli.dev import DevError, check_ports


def test_busy_port_is_named_in_the_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevError, match=rf"port {port} \(dibao API\)"):
            check_ports({port: "dibao API"})


def test_free_port_passes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check_ports({port: "dibao API"})
