"""GET /cases/{id} lists what the signed-in user may do on the case now, and why not the rest."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_procedure_api import complete, post, survey_body, until
from tests.auth import AUDITOR, COUNTY, TOWNSHIP, VILLAGE


def offers(case: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    return {a["action"]: (a["allowed"], a["reason"]) for a in case["actions"]}


async def test_each_user_sees_the_actions_open_to_them_at_the_stage(
    ts_api: httpx.AsyncClient, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    case = await until(api, case_id, lambda c: c["stage"] == "survey")

    village = offers(case)
    assert village["survey"] == (True, "")
    assert village["withdraw"] == (True, "")
    allowed, reason = village["township_review"]
    assert not allowed and "village_caseworker may not" in reason
    allowed, reason = village["evaluation"]
    assert not allowed and "stage 'survey'" in reason and "'evaluation'" in reason
    allowed, reason = village["materials"]
    assert not allowed and "'application'" in reason
    # Each names where it is posted, from its key; ops' several actions name none.
    paths = {a["action"]: a["path"] for a in case["actions"]}
    assert paths["survey"] == f"/cases/{case_id}/survey"
    assert paths["township_review"] == f"/cases/{case_id}/township-review"
    assert paths["operate"] is None

    county = offers((await api.get(f"/cases/{case_id}", headers=COUNTY)).json())
    assert county["survey"] == (True, "")
    assert not county["county_decision"][0] and "stage 'survey'" in county["county_decision"][1]

    # Nobody may act on behalf of an audit: every action is refused, each with the reason.
    auditor = offers((await api.get(f"/cases/{case_id}", headers=AUDITOR)).json())
    assert auditor and not any(allowed for allowed, _ in auditor.values())
    assert all("auditor may not" in reason for _, reason in auditor.values())

    # What is offered is what the API accepts.
    response = await post(api, f"/cases/{case_id}/survey", survey_body(sample), VILLAGE)
    assert response.status_code == 200, response.text
    case = await until(api, case_id, lambda c: c["stage"] == "evaluation", TOWNSHIP)
    township = offers(case)
    assert township["evaluation"] == (True, "")
    assert not township["survey"][0]
