"""Browser tests of the console: Playwright for Python driving Debian's Chromium
(/usr/bin/chromium, never a downloaded browser) against the real app served over HTTP by
uvicorn in a thread, with the real worker, Temporal and PostgreSQL of `dev_stack`.

Screenshots go to artefacts/screenshots/ (git-ignored), one file per page and viewport.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from dibao.settings import PROJECT_ROOT
from tests.api.notices import until_notice
from tests.auth import PASSWORD, Staff, bearer
from tests.conftest import Stack

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SCREENSHOTS = PROJECT_ROOT / "artefacts" / "screenshots"
INSTALL = "sudo apt-get install -y chromium fonts-noto-cjk"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _need_browser() -> None:
    # Never skipped: a missing browser fails the run and says how to get it (make test
    # installs it where it runs as root).
    if not CHROMIUM.exists() or not CJK_FONT.exists():
        pytest.fail(f"the console's browser tests need Debian's Chromium and CJK fonts: {INSTALL}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail(
            "the console's browser tests need the playwright package: pip install -e '.[dev]'"
        )


def serve(stack: Stack) -> Iterator[str]:
    """The whole app over real HTTP on a free loopback port; its base URL."""
    app = create_app(stack.settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the app did not start")
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def served(dev_stack: Stack, staff: Staff) -> Iterator[str]:
    """The app on the Temporal dev server. A module walking cases through 7-day postings
    overrides this fixture with `serve(ts_stack)` (the time-skipping server)."""
    yield from serve(dev_stack)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    _need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def new_page(browser: Any, served: str) -> AsyncIterator[Any]:
    """`await new_page(viewport=PHONE)`: a page in a fresh browser context (its own cookies)."""
    contexts: list[Any] = []

    async def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = await browser.new_context(
            viewport=viewport, base_url=served, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = await context.new_page()
        # CSP violations and script errors; not the 4xx answers the tests ask for.
        page.console_errors = []
        page.on(
            "console",
            lambda m: (
                page.console_errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        return page

    yield make
    for context in contexts:
        await context.close()


async def sign_in(page: Any, user_id: str, password: str = PASSWORD) -> None:
    """Sign in through the form as a staff user of tests/auth.py; lands on the inbox."""
    await page.goto("/console/sign-in")
    await page.get_by_label("用户名").fill(user_id)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r".*/console(\?.*)?$"))


async def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def file_case(
    base_url: str, application: dict[str, Any], user: str = "zhang.wei", *, written: bool = True
) -> str:
    """A case filed through the API (the filing form is tested on its own), once the worker
    has written its first stage (filing answers before that)."""
    async with httpx.AsyncClient(base_url=base_url, headers=bearer(user), timeout=30) as client:
        response = await client.post("/cases", json=application)
        assert response.status_code == 201, response.text
        if written:
            await until_notice(client, response)
    case_id: str = response.json()["case_id"]
    return case_id
