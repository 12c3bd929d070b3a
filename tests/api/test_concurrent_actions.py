"""Two people acting on one case at once: the first accepted action of a stage wins, every
other answers 409 with the reason, writes no audit row and changes nothing (time-skipping
server, real concurrent requests)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.api.test_procedure_api import (
    EVALUATION,
    YESTERDAY,
    complete,
    pass_posting,
    post,
    survey_body,
    until,
)
from tests.auth import COUNTY, TOWNSHIP, VILLAGE
from tests.conftest import Stack


async def at_once(
    api: httpx.AsyncClient, case_id: str, path: str, bodies: list[dict[str, Any]], who: Any
) -> list[httpx.Response]:
    """Send every body at the same moment, each with its own Idempotency-Key."""
    return list(
        await asyncio.gather(
            *(
                api.post(
                    f"/cases/{case_id}/{path}",
                    json=body,
                    headers={**who, "Idempotency-Key": f"{path}-{i}"},
                )
                for i, body in enumerate(bodies)
            )
        )
    )


def one_winner(responses: list[httpx.Response]) -> httpx.Response:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (len(responses) - 1), [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["detail"]["message"]  # the reason
    return next(r for r in responses if r.status_code == 200)


def audit_rows(stack: Stack, case_id: str, action: str) -> int:
    rows = stack.sql(
        "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = %s", case_id, action
    )
    return int(rows[0][0])


async def test_concurrent_actions_of_one_stage_accept_only_the_first(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")

    surveys = [survey_body(sample) for _ in range(10)]
    one_winner(await at_once(api, case_id, "survey", surveys, VILLAGE))
    assert audit_rows(ts_stack, case_id, "survey") == 1

    await until(api, case_id, lambda c: c["stage"] == "evaluation")
    evaluations = [{**EVALUATION, "votes_for": 11 + i, "votes_against": 9 - i} for i in range(10)]
    winner = one_winner(await at_once(api, case_id, "evaluation", evaluations, VILLAGE))
    assert audit_rows(ts_stack, case_id, "evaluation") == 1
    recorded = winner.json()["procedure"]["evaluation"]
    assert recorded["votes_for"] in [e["votes_for"] for e in evaluations]

    await pass_posting(api, ts_stack, case_id, "posting_before_review")
    opinions: list[dict[str, Any]] = [
        {"opinion": "approve"},
        {"opinion": "reject", "reasons": ["家庭拥有机动车辆"]},
    ]
    winner = one_winner(await at_once(api, case_id, "township-review", opinions, TOWNSHIP))
    assert audit_rows(ts_stack, case_id, "township_review") == 1
    opinion = winner.json()["procedure"]["township_review"]["opinion"]
    case = (await api.get(f"/cases/{case_id}")).json()
    assert case["procedure"]["township_review"]["opinion"] == opinion
    if opinion == "approve":
        await pass_posting(api, ts_stack, case_id, "posting_before_approval")
    case = await until(api, case_id, lambda c: c["stage"] == "county_approval")
    # Visited whether or not drawn: the spot check is drawn just after the stage is entered, so
    # `county_visit_required` read at that moment may not say yet that it was.
    visit = {"visited_on": YESTERDAY, "visitors": ["chen.gang", "sun.li"], "findings": "属实"}
    response = await post(api, f"/cases/{case_id}/county-visit", visit, COUNTY)
    assert response.status_code == 200, response.text

    decisions: list[dict[str, Any]] = [
        {"opinion": "approve"} if i % 2 else {"opinion": "reject", "reasons": [f"理由 {i}"]}
        for i in range(10)
    ]
    winner = one_winner(await at_once(api, case_id, "county-decision", decisions, COUNTY))
    assert audit_rows(ts_stack, case_id, "county_decision") == 1
    decided = winner.json()["procedure"]["decision"]
    case = (await api.get(f"/cases/{case_id}")).json()
    assert case["procedure"]["decision"] == decided
