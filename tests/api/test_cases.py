"""The case API against the Temporal dev server, a real worker and real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.notices import until_notice
from tests.conftest import Stack


async def file(api: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await api.post("/cases", json=body, headers=headers)


def count(stack: Stack, table: str) -> int:
    return int(stack.sql(f"SELECT count(*) FROM {table}")[0][0])


async def test_filing_with_missing_materials_gives_one_time_notice_listing_every_item(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    response = await file(api, sample)
    assert response.status_code == 201, response.text
    filed = response.json()
    assert response.headers["location"] == f"/cases/{filed['case_id']}"
    assert filed["case_id"].startswith("DB-")
    assert filed["missing_materials"] == ["verification_authorisation", "disability_certificate"]
    # Answered before the worker issues the notice; the answer says where it will appear.
    assert filed["notices_url"] == f"/cases/{filed['case_id']}/notices"
    assert filed["notice_status"] == "pending" and filed["notices"] == []
    case = await until_notice(api, response)
    assert case["status"] == "materials_incomplete"
    assert case["notice_status"] == "issued"
    (notice,) = case["notices"]
    assert notice["kind"] == "materials_incomplete"

    page = await api.get(notice["url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "一次性告知书" in page.text
    assert "家庭经济状况核查授权委托书" in page.text and "残疾人证" in page.text
    assert page.headers["x-content-sha256"] == hashlib.sha256(page.content).hexdigest()

    shown = (await api.get(f"/cases/{case['case_id']}")).json()
    assert shown["source"] == "workflow"
    assert shown["application"]["members"][0]["name"] == "王秀英"


async def test_case_shows_in_listing_and_in_temporal_visibility_without_pii(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = (await file(api, sample)).json()["case_id"]
    listed = await api.get("/cases", params={"stage": "application", "township": "610423100"})
    assert [c["case_id"] for c in listed.json()["items"]] == [case_id]
    assert (await api.get("/cases", params={"stage": "survey"})).json()["total"] == 0

    query = (
        f"WorkflowId = '{case_id}' AND DibaoTownship = '610423100' AND DibaoStage = 'application'"
    )
    for _ in range(50):  # visibility is eventually consistent
        found = [w async for w in dev_stack.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert [w.id for w in found] == [case_id]
    attributes = str(found[0].typed_search_attributes)
    for member in sample["members"]:
        assert member["id_number"] not in case_id and member["id_number"] not in attributes
        assert member["name"] not in attributes


async def test_invalid_application_names_each_field_and_creates_nothing(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    sample["members"][1]["id_number"] = "61042319850101001Y"
    sample["members"][2]["id_number"] = "610423201205060034"  # wrong check digit
    sample["hukou"]["village_code"] = "610424100201"
    response = await file(api, sample)
    assert response.status_code == 422
    locations = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "members", 2, "id_number") in locations
    assert ("body", "hukou", "village_code") in locations
    assert count(dev_stack, "cases") == 0 and count(dev_stack, "audit_log") == 0


async def test_unknown_field_and_wrong_type_are_rejected_not_dropped(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    sample["members"][0]["nickname"] = "秀"
    sample["assets"]["homes"] = "two"
    response = await file(api, sample)
    assert response.status_code == 422
    locations = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "members", 0, "nickname") in locations
    assert ("body", "assets", "homes") in locations
    assert count(dev_stack, "cases") == 0


async def test_an_action_without_a_token_is_refused_whatever_headers_name_an_actor(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    forged = {"Authorization": "", "X-Actor-Id": "chen.gang", "X-Actor-Role": "county_approver"}
    response = await api.post("/cases", json=sample, headers=forged)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert count(dev_stack, "cases") == 0


async def test_second_application_of_an_open_household_is_409_naming_the_case(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    first = (await file(api, sample)).json()["case_id"]
    sample["phone"] = "13800000000"
    response = await file(api, sample)
    assert response.status_code == 409
    assert response.json()["detail"]["open_case_id"] == first
    assert count(dev_stack, "cases") == 1


async def test_idempotency_key_returns_the_same_case_never_a_second(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    first = await file(api, sample, **{"Idempotency-Key": "intake-2026-0001"})
    again = await file(api, sample, **{"Idempotency-Key": "intake-2026-0001"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["case_id"] == first.json()["case_id"]
    sample["phone"] = "13800000000"
    other = await file(api, sample, **{"Idempotency-Key": "intake-2026-0001"})
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert count(dev_stack, "cases") == 1


async def test_supplement_accepts_case_and_wrong_stage_action_is_409(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = (await file(api, sample)).json()["case_id"]
    supplement = {"materials": ["disability_certificate"], "verification_authorised": True}
    key = {"Idempotency-Key": "sup-1"}
    done = await api.post(f"/cases/{case_id}/materials", json=supplement, headers=key)
    assert done.status_code == 200, done.text
    case = done.json()
    assert (case["stage"], case["status"]) == ("survey", "in_progress")
    assert [n["kind"] for n in case["notices"]] == ["materials_incomplete", "acceptance"]
    assert case["due_at"] is not None
    acceptance = await api.get(case["notices"][1]["url"])
    assert "受理通知书" in acceptance.text

    repeat = await api.post(f"/cases/{case_id}/materials", json=supplement, headers=key)
    assert repeat.status_code == 200
    late = await api.post(f"/cases/{case_id}/materials", json={"materials": ["id_cards"]})
    assert late.status_code == 409
    assert "already complete" in late.json()["detail"]["message"]
    actions = dev_stack.sql("SELECT action FROM audit_log ORDER BY id")
    assert [a for (a,) in actions] == ["file_application", "materials"]


async def test_empty_supplement_is_422_and_changes_nothing(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    filed = await file(api, sample)
    case_id = filed.json()["case_id"]
    # Filing answers before the worker's first writes (the filing's audit row among them).
    await until_notice(api, filed)
    response = await api.post(f"/cases/{case_id}/materials", json={"materials": []})
    assert response.status_code == 422
    assert count(dev_stack, "audit_log") == 1


async def test_withdrawn_household_can_apply_again(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = (await file(api, sample)).json()["case_id"]
    withdrawn = await api.post(f"/cases/{case_id}/withdraw", json={"reason": "外出务工"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["notices"][-1]["kind"] == "withdrawal"
    again = await api.post(f"/cases/{case_id}/withdraw", json={"reason": "再次撤回"})
    assert again.status_code == 409
    assert (await file(api, sample)).status_code == 201


async def test_unknown_case_and_notice_are_404(api: httpx.AsyncClient) -> None:
    assert (await api.get("/cases/DB-NOSUCHCASE00")).status_code == 404
    assert (await api.get("/notices/N-0000")).status_code == 404


async def test_oversized_body_is_413(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/cases", content=b"{" + b" " * 300_000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_oversized_body_without_content_length_is_413_and_a_small_one_goes_through(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    async def chunks(body: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(body), 16_384):
            yield body[i : i + 16_384]

    big = b"{" + b" " * 300_000 + b"}"
    response = await api.post(
        "/cases", content=chunks(big), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert count(dev_stack, "cases") == 0
    small = json.dumps(sample).encode()
    response = await api.post(
        "/cases", content=chunks(small), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_audit_log_rows_cannot_be_changed_or_deleted(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    # The filing's audit row is written by the worker, after the filing is answered.
    filed = await file(api, sample)
    await until_notice(api, filed)
    for _ in range(200):
        if count(dev_stack, "audit_log"):
            break
        await asyncio.sleep(0.05)
    with psycopg.connect(dev_stack.settings.database_url or "") as conn:
        for statement in ("UPDATE audit_log SET actor_id = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    assert count(dev_stack, "audit_log") == 1


async def test_listing_a_signed_document_instead_of_signing_it_is_422(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    sample["materials"].append("verification_authorisation")
    response = await file(api, sample)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "materials"]
    assert "verification_authorised" in error["msg"]
    assert count(dev_stack, "cases") == 0


async def test_case_saved_but_never_started_is_resumed_not_lost(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    """A crash between saving a case and starting its workflow must not strand the household."""
    from datetime import UTC, datetime

    from api.schemas import ApplicationIn
    from dibao.db import cases_repo
    from dibao.domain.enums import Role
    from dibao.messages.case import Actor, CaseInput

    body = ApplicationIn.model_validate(sample)
    case = CaseInput(
        case_id="DB-STRANDED0001",
        application=body.to_domain(),
        rule_pack_id="seed-default",
        rule_pack_version=1,
        filed_at=datetime.now(UTC),
        filed_by=Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER),
        request_id="k",
    )
    async with dev_stack.sessions() as session:
        await cases_repo.reserve_case(session, case, body.model_dump(mode="json"), "k", "h")

    response = await file(api, sample)
    assert response.status_code == 409
    assert response.json()["detail"]["open_case_id"] == "DB-STRANDED0001"
    for _ in range(600):  # up to 30 s: the resumed workflow's first writes, on a busy machine
        shown = (await api.get("/cases/DB-STRANDED0001")).json()
        if shown["notices"]:
            break
        await asyncio.sleep(0.05)
    assert shown["source"] == "workflow"
    assert shown["status"] == "materials_incomplete"
