"""A signed-in schemathesis run over the whole OpenAPI, all four phases (examples, coverage,
fuzzing, stateful), against the real API, Temporal and PostgreSQL: no generated request gets a
5xx or a status code its operation does not document — bad input is a documented 4xx with a
reason.

The API is served over HTTP by uvicorn in a thread of its own and schemathesis runs as its CLI
does, in a subprocess, so the test's event loop stays free for the worker the cases need.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from tests.auth import Staff, bearer, token_of
from tests.conftest import Stack

# Wall time of the run itself: the phases share it, fuzzing and stateful repeat until it is
# spent: a few thousand requests on 2 cores.
MAX_SECONDS = 60
MAX_EXAMPLES = 30
SEED = 20261201  # the same requests on every run: a failure can be repeated
# Signing out would end the session the rest of the run uses.
EXCLUDED = ["--exclude-path", "/auth/logout"]
CHECKS = "not_a_server_error,status_code_conformance"
USERS = ("zhang.wei", "chen.gang")
PHASES = ("examples", "coverage", "fuzzing", "stateful")


@pytest.fixture
def served(dev_stack: Stack, staff: Staff) -> Iterator[str]:
    """The app over real HTTP on a free loopback port; its base URL."""
    app = create_app(dev_stack.settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the API did not start")
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


async def seed_case(base_url: str, sample: dict[str, Any]) -> str:
    """A real case, so generated actions reach the workflow and not only the 404 of an unknown
    case ID."""
    async with httpx.AsyncClient(base_url=base_url, headers=bearer("zhang.wei")) as client:
        response = await client.post("/cases", json=sample, timeout=30)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def config_file(out: Path, case_id: str) -> Path:
    # Half of the generated case IDs are the real case's.
    path = out / "schemathesis.toml"
    path.write_text(
        f'''[dictionaries.cases]
values = ["{case_id}"]

[parameters]
"path.case_id" = {{ dictionary = "cases", probability = 0.5 }}
''',
        encoding="utf-8",
    )
    return path


async def run_schemathesis(
    base_url: str, user: str, out: Path, config: Path
) -> tuple[int, str, dict[str, Any]]:
    report = out / f"report-{user}.json"
    command = [
        str(Path(sys.executable).parent / "st"),
        f"--config-file={config}",
        "run",
        f"{base_url}/openapi.json",
        f"--phases={','.join(PHASES)}",
        f"--checks={CHECKS}",
        f"--max-time={MAX_SECONDS}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        "--request-timeout=40",
        "--suppress-health-check=all",
        "--no-shrink",
        "--continue-on-failure",
        "--header",
        f"Authorization:Bearer {token_of(user)}",
        *EXCLUDED,
        "--report=json",
        f"--report-json-path={report}",
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=out,  # its cache (.schemathesis/) goes with the test's files, not into the tree
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=MAX_SECONDS * 4)
    text = output.decode("utf-8", "replace")
    (out / f"output-{user}.txt").write_text(text, encoding="utf-8")
    summary = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return process.returncode or 0, text, summary


async def test_no_generated_request_gets_a_server_error_or_an_undocumented_status(
    served: str, tmp_path: Path, sample: dict[str, Any]
) -> None:
    config = config_file(tmp_path, await seed_case(served, sample))
    # Two signed-in runs at once: a village caseworker files and acts on cases, a county
    # approver decides, builds payrolls, changes standards and the calendar.
    runs = await asyncio.gather(*(run_schemathesis(served, u, tmp_path, config) for u in USERS))
    for user, (code, text, summary) in zip(USERS, runs, strict=True):
        assert code == 0, f"as {user} (whole output in {tmp_path}):\n{text[-12000:]}"
        phases = {name: p["status"] for name, p in summary["phases"].items()}
        assert phases == dict.fromkeys(PHASES, "success"), phases
        assert summary["test_cases"]["generated"] >= 300, summary["test_cases"]
