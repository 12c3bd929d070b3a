"""A bounded schemathesis run over the whole OpenAPI: generated requests (valid and invalid
bodies, odd parameters, unknown IDs) against the real API, Temporal and PostgreSQL must never
get a 5xx — bad input is a 4xx with a reason."""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.auth import COUNTY
from tests.conftest import Stack

# Per operation; 55 operations × 20 keeps the run well under a minute on 2 cores.
EXAMPLES = 20
# Signing out would end the session the rest of the run uses.
SKIP = {("POST", "/auth/logout")}


def generated_cases(app_schema: dict[str, Any]) -> list[Any]:
    schema = schemathesis.openapi.from_dict(app_schema)
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @settings(
            max_examples=EXAMPLES,
            database=None,
            deadline=None,
            derandomize=True,  # the same requests on every run: a failure can be repeated
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy())
        def collect(case: Any) -> None:
            cases.append(case)

        collect()
    return cases


async def test_no_generated_request_gets_a_server_error(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    schema = (await api.get("/openapi.json")).json()
    cases = generated_cases(schema)
    assert len(cases) > 200
    errors: list[str] = []
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url=str(api.base_url))
        headers = {**kwargs.get("headers", {}), **COUNTY}
        try:
            response = await api.request(
                kwargs["method"],
                kwargs["url"],
                params=kwargs.get("params"),
                headers=headers,
                json=kwargs.get("json"),
                content=kwargs.get("data") if isinstance(kwargs.get("data"), str | bytes) else None,
            )
        except Exception as err:  # the app raised: what a server would answer with a 500
            errors.append(f"{kwargs['method']} {kwargs['url']} → {type(err).__name__}: {err}"[:400])
            continue
        if response.status_code >= 500:
            errors.append(
                f"{kwargs['method']} {kwargs['url']} → {response.status_code}: "
                f"{response.text[:300]}"
            )
    assert errors == [], "\n".join(errors[:20])
