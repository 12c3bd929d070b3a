"""Talking to the API from the command line: the signed-in user's token, and one way to report
what went wrong (exit code 2 for a refused request, 1 for the service failing, 3 for an action
queued until a worker is back)."""

from __future__ import annotations

from typing import Any, NoReturn

import httpx
import typer

from cli.auth import NOT_SIGNED_IN, read_token
from dibao.settings import get_settings

# An action the API accepted but no worker has applied yet (202, status "queued").
QUEUED_EXIT_CODE = 3


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def call(method: str, path: str, *, body: Any = None, key: str | None = None, **params: Any) -> Any:
    settings = get_settings()
    headers: dict[str, str] = {}
    token = read_token(settings)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    query = {k: v for k, v in params.items() if v is not None}
    try:
        response = httpx.request(
            method,
            settings.api_url.rstrip("/") + path,
            json=body,
            headers=headers,
            params=query,
            timeout=60,
        )
    except httpx.ConnectError:
        fail(f"cannot reach the API at {settings.api_url}; is `make dev` running?")
    except httpx.TimeoutException:
        fail(
            f"the API did not answer {method} {path} within 60 s; the action may still take "
            "effect: look at the case (`dibao case show`) before repeating it (with the same "
            "--request-id a repeat has no second effect)"
        )
    if response.status_code == 401:
        fail(f"{NOT_SIGNED_IN} (API {settings.api_url})", code=2)
    if response.status_code >= 400:
        fail(describe_error(response), code=2 if response.status_code < 500 else 1)
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if (
            response.status_code == 202
            and isinstance(body, dict)
            and body.get("status") == "queued"
        ):
            queued(body)
        return body
    return response.text


def queued(body: dict[str, Any]) -> NoReturn:
    request_id = body.get("request_id")
    typer.echo(
        f"queued, not applied yet: the service's worker did not take the action up (is it "
        f"running?). It is kept and applies once when the worker is back. To see its outcome, "
        f"send the same command again with --request-id {request_id}: it will not apply twice.",
        err=True,
    )
    raise typer.Exit(QUEUED_EXIT_CODE)


def describe_error(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    if isinstance(detail, list):
        lines = [f"HTTP {response.status_code}: the input was not accepted; nothing was changed"]
        for item in detail:
            loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            lines.append(f"  {loc or '(request)'}: {item.get('msg')}")
        return "\n".join(lines)
    if isinstance(detail, dict):
        extra = {k: v for k, v in detail.items() if k != "message"}
        suffix = "".join(f"\n  {k}: {v}" for k, v in extra.items())
        return f"HTTP {response.status_code}: {detail.get('message')}{suffix}"
    return f"HTTP {response.status_code}: {detail}"
