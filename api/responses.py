"""The 4xx answers routes document in their `responses=`, worded once.

Every status a route can answer is in its OpenAPI: clients (and the schemathesis run in
tests/api/test_schemathesis.py) rely on nothing else.
"""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]

_TEXT: dict[int, str] = {
    401: "no valid bearer token: sign in with POST /auth/token",
    403: "the role may not do this, the case or county is outside the user's jurisdiction, or "
    "the user is recused from the case",
    404: "nothing of that ID (or not one the route deals in)",
    409: "the state does not allow it now: wrong stage, closed, or already done otherwise",
    413: "request body over the service's limit",
    422: "invalid input: `detail` lists each field path (body, path, query or header) and reason",
}


def documented(*codes: int, **overrides: str) -> Responses:
    """`responses=` for these status codes; `overrides` (e.g. `r404="no such run"`) reword one."""
    out: Responses = {}
    for code in codes:
        out[code] = {"description": overrides.get(f"r{code}", _TEXT[code])}
    return out


# What every signed-in route can answer before its own code runs: no token, a URL or header
# that cannot be valid, a body over the limit.
SIGNED_IN = documented(401, 413, 422)
