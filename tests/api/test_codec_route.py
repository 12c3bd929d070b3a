"""/codec: the Temporal Web UI decrypts what it shows through the API, for trusted roles only."""

from __future__ import annotations

import base64
import json
import secrets
from contextlib import nullcontext
from typing import Any

import httpx
import pytest
import temporalio.converter
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType

from dibao.codec import county_of, payloads_of_county
from tests.auth import AUDITOR, COUNTY, OPS, SUPERVISOR, TOWNSHIP, VILLAGE, bearer
from tests.conftest import Stack, without_codec
from tests.workflows.helpers import file_case
from tests.workflows.test_encrypted_history import payloads_in

UI_ORIGIN = "http://127.0.0.1:8233"  # the dev server's Web UI (default DIBAO_TEMPORAL_UI_PORT)
ROLES = {"ops": OPS, "auditor": AUDITOR, "supervisor": SUPERVISOR, "county_approver": COUNTY}


def as_ui(user: dict[str, str]) -> dict[str, str]:
    """A signed-in user's headers plus the namespace, as the Web UI sends them."""
    return {**user, "X-Namespace": "default"}


async def filed_case_input(
    stack: Stack, sample: dict[str, Any], county: str | None = "610423"
) -> Any:
    """A case's start input as the UI gets it from Temporal: raw, in protobuf JSON. Labelled
    with its county as POST /cases labels it, or (county None) as cases from before were."""
    case_id = f"DB-TESTCODEC{secrets.token_hex(2).upper()}"
    with payloads_of_county(county) if county else nullcontext():
        handle = await file_case(stack, sample, case_id)
    history = await without_codec(stack.client).get_workflow_handle(handle.id).fetch_history()
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    payloads = started.workflow_execution_started_event_attributes.input
    return json_format.MessageToDict(payloads)


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_trusted_roles_see_the_decrypted_application(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any], role: str
) -> None:
    body = await filed_case_input(dev_stack, sample)
    (encrypted,) = body["payloads"]
    assert base64.b64decode(encrypted["metadata"]["encoding"]) == b"binary/encrypted"

    response = await api.post("/codec/decode", json=body, headers=as_ui(ROLES[role]))
    assert response.status_code == 200, response.text
    (decoded,) = response.json()["payloads"]
    assert base64.b64decode(decoded["metadata"]["encoding"]) == b"json/plain"
    case_input = json.loads(base64.b64decode(decoded["data"]))
    head = case_input["application"]["members"][0]
    assert (head["name"], head["id_number"]) == ("王秀英", "612522195803120027")


async def test_another_countys_approver_and_auditor_get_403(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    body = await filed_case_input(dev_stack, sample)
    for user in ("he.jun", "zheng.yu"):  # county approver and auditor of 610424
        response = await api.post("/codec/decode", json=body, headers=as_ui(bearer(user)))
        assert response.status_code == 403, response.text
        assert "county 610423 is outside your jurisdiction" in response.text
        assert "612522195803120027" not in response.text
    # Relabelled as the other county's, it does not decrypt at all.
    forged = json.loads(json.dumps(body))
    forged["payloads"][0]["metadata"]["dibao-county"] = base64.b64encode(b"610424").decode()
    response = await api.post("/codec/decode", json=forged, headers=as_ui(bearer("he.jun")))
    assert response.status_code == 422 and "does not decrypt" in response.text


async def test_payloads_without_a_county_are_for_ops_only(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    body = await filed_case_input(dev_stack, sample, county=None)
    response = await api.post("/codec/decode", json=body, headers=as_ui(COUNTY))
    assert response.status_code == 403 and "only ops" in response.text
    response = await api.post("/codec/decode", json=body, headers=as_ui(OPS))
    assert response.status_code == 200, response.text


async def test_a_village_caseworker_gets_403(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    body = await filed_case_input(dev_stack, sample)
    response = await api.post("/codec/decode", json=body, headers=as_ui(VILLAGE))
    assert response.status_code == 403
    assert "may not read decrypted" in response.json()["detail"]["message"]
    assert "612522195803120027" not in response.text
    assert (await api.post("/codec/encode", json=body, headers=as_ui(TOWNSHIP))).status_code == 403


async def test_without_signing_in_nothing_is_decoded(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    body = await filed_case_input(dev_stack, sample)
    request = api.build_request("POST", "/codec/decode", json=body, headers=as_ui({}))
    del request.headers["Authorization"]  # the fixture's default user
    response = await api.send(request)
    assert response.status_code == 401
    assert "612522195803120027" not in response.text
    forged = {"Authorization": "Bearer not-a-token"}
    response = await api.post("/codec/decode", json=body, headers=as_ui(forged))
    assert response.status_code == 401


async def test_encode_then_decode_round_trips_what_the_ui_sends(api: httpx.AsyncClient) -> None:
    ops = as_ui(OPS)
    plain = temporalio.converter.default().payload_converter.to_payloads([{"note": "王秀英"}])
    body = json_format.MessageToDict(Payloads(payloads=plain))
    encoded = await api.post("/codec/encode", json=body, headers=ops)
    assert encoded.status_code == 200, encoded.text
    assert base64.b64encode("王秀英".encode()).decode() not in encoded.text
    decoded = await api.post("/codec/decode", json=encoded.json(), headers=ops)
    assert decoded.json() == body


async def test_another_namespace_and_bad_payloads_are_refused(api: httpx.AsyncClient) -> None:
    ops = as_ui(OPS)
    other = {**ops, "X-Namespace": "someone-else"}
    response = await api.post("/codec/decode", json={"payloads": []}, headers=other)
    assert response.status_code == 403
    assert "namespace default" in response.json()["detail"]["message"]
    bad = {"payloads": [{"metadata": {"encoding": "not base64!"}, "data": ""}]}
    assert (await api.post("/codec/decode", json=bad, headers=ops)).status_code == 422


async def test_a_payload_under_an_unknown_key_is_named(api: httpx.AsyncClient) -> None:
    foreign = {
        "payloads": [
            {
                "metadata": {
                    "encoding": base64.b64encode(b"binary/encrypted").decode(),
                    "encryption-key-id": base64.b64encode(b"other-office").decode(),
                },
                "data": base64.b64encode(b"\0" * 40).decode(),
            }
        ]
    }
    ops = as_ui(OPS)
    response = await api.post("/codec/decode", json=foreign, headers=ops)
    assert response.status_code == 422
    assert "key 'other-office'" in response.text


async def test_the_web_ui_origin_may_call_it_and_others_may_not(api: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    allowed = await api.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()

    stranger = await api.options(
        "/codec/decode", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in stranger.headers
    # The rest of the API is not opened to the UI's origin.
    other = await api.options("/cases", headers={"Origin": UI_ORIGIN, **preflight})
    assert "access-control-allow-origin" not in other.headers


async def test_the_web_ui_decodes_with_the_session_cookie_of_a_sign_in(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    from tests.auth import PASSWORD

    body = await filed_case_input(dev_stack, sample)
    signed_in = await api.post("/auth/token", json={"user_id": "liu.yang", "password": PASSWORD})
    assert signed_in.status_code == 200
    cookie = signed_in.cookies.get("dibao_codec_session")
    assert cookie and "path=/codec" in signed_in.headers["set-cookie"].lower()
    assert "httponly" in signed_in.headers["set-cookie"].lower()

    # What the browser sends from the Web UI: the cookie, no Authorization header.
    request = api.build_request(
        "POST",
        "/codec/decode",
        json=body,
        headers={
            "X-Namespace": "default",
            "Origin": UI_ORIGIN,
            "Cookie": f"dibao_codec_session={cookie}",
        },
    )
    del request.headers["Authorization"]
    response = await api.send(request)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-credentials"] == "true"
    # The cookie is for the codec only: the rest of the API wants the bearer token.
    request = api.build_request(
        "GET", "/cases", headers={"Cookie": f"dibao_codec_session={cookie}"}
    )
    del request.headers["Authorization"]
    assert (await api.send(request)).status_code == 401


async def test_what_the_api_and_the_worker_write_for_a_case_is_labelled_with_its_county(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    filed = await api.post("/cases", json=sample, headers=TOWNSHIP)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    withdrawn = await api.post(f"/cases/{case_id}/withdraw", json={"reason": "外出务工"})
    assert withdrawn.status_code == 200, withdrawn.text
    history = await without_codec(dev_stack.client).get_workflow_handle(case_id).fetch_history()
    encrypted = [
        payload
        for event in history.events
        for _, payload in payloads_in(event)
        if payload.metadata.get("encoding") == b"binary/encrypted"
    ]
    updates = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert updates, "the withdrawal went through an update"
    assert len(encrypted) > 5
    assert {county_of(p) for p in encrypted} == {"610423"}
