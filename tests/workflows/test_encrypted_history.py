"""What Temporal stores of a case can be read only with the office's keys.

The histories are fetched raw, with a client that has no codec, exactly as someone with access
to the Temporal cluster (its database, its Web UI without the codec endpoint) would see them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from api.schemas import ApplicationIn
from dibao.codec import ENCODING, county_of, payloads_of_county
from dibao.domain.enums import CaseStatus, Stage
from dibao.messages.case import Withdraw
from tests.conftest import TEST_CONVERTER, Stack, without_codec
from tests.workflows.failing_workflow import DuplicateCheckWorkflow, refuse_duplicate
from tests.workflows.helpers import (
    VILLAGE,
    at_stage,
    complete,
    file_case,
    state,
    survey,
    survey_of,
    wait_for,
)
from worker import WORKFLOWS, workflow_runner
from workflows.case import CaseWorkflow

# What the SDK writes in clear of a local activity, to replay it (temporalio core).
LOCAL_ACTIVITY_BOOKKEEPING = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}


def history_bytes(history: WorkflowHistory) -> bytes:
    """Every byte Temporal stores for the history, and its JSON form (what the UI shows)."""
    binary = b"".join(event.SerializeToString() for event in history.events)
    return binary + history.to_json().encode()


def clear_forms(text: str) -> list[bytes]:
    """How a string looks when stored unencrypted: UTF-8, or JSON with \\u escapes."""
    return [text.encode(), json.dumps(text).strip('"').encode()]


def leaks(stored: bytes, secrets_: list[str]) -> list[str]:
    return [s for s in secrets_ if any(form in stored for form in clear_forms(s))]


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload anywhere in a protobuf message, with where it is."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        where = f"{path}.{field.name}"
        kind = field.message_type
        assert kind is not None  # a message field always has its message type
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].type != field.TYPE_MESSAGE:
                continue
            items = list(value.values())
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            yield from payloads_in(item, where)


async def test_case_history_has_no_clear_name_or_id_number(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    body = complete(sample)
    handle = await file_case(ts_stack, body, "DB-TESTENCRYPT1")
    await at_stage(handle, Stage.SURVEY)
    application = ApplicationIn.model_validate(body).to_domain()
    # The survey repeats every member; verification then sends the ID numbers to registries.
    await survey(handle, survey_of(application))
    await at_stage(handle, Stage.EVALUATION)

    history = await without_codec(ts_stack.client).get_workflow_handle(handle.id).fetch_history()
    head = next(m for m in sample["members"] if m["relation"] == "head")
    personal = [head["name"], head["id_number"]]
    personal += [m["id_number"] for m in sample["members"]]
    personal += [m["name"] for m in sample["members"]]
    personal.append(sample["hukou"]["address"])
    assert leaks(history_bytes(history), personal) == []

    # Every payload is encrypted, except what Temporal itself must read: search attributes
    # (indexed by the server; only stage, status, area codes and due time), the SDK's
    # patch markers (`workflow.patched` names, read on replay) and a local activity's
    # bookkeeping (its sequence number, type, attempt and time; its result stays encrypted).
    clear = [
        where
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name
        not in ("core_patch", "core_local_activity")
        for where, payload in payloads_in(event)
        if payload.metadata.get("encoding") != ENCODING and "search_attributes" not in where
    ]
    assert clear == []
    local = [
        event.marker_recorded_event_attributes.details
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert local, "the stage changes ran as local activities"
    for details in local:
        assert set(details) <= {"data", "result"}
        for payload in details["data"].payloads:
            assert set(json.loads(payload.data)) <= LOCAL_ACTIVITY_BOOKKEEPING
        assert all(p.metadata.get("encoding") == ENCODING for p in details["result"].payloads)

    # The same history, read with the key: the application is in it (so the search above
    # would have found it in clear), and it replays.
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    codec = TEST_CONVERTER.payload_codec
    assert codec is not None
    decoded = await codec.decode(started.workflow_execution_started_event_attributes.input.payloads)
    assert leaks(b"".join(p.data for p in decoded), personal) == personal
    await Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=TEST_CONVERTER
    ).replay_workflow(history)


async def test_failure_messages_are_not_in_clear_in_history(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    id_number = "612522195803120027"
    client = time_skipping_env.client  # the tests' clients all carry the codec
    task_queue = f"dibao-test-{secrets.token_hex(6)}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[DuplicateCheckWorkflow],
        activities=[refuse_duplicate],
        workflow_runner=workflow_runner(),
    ):
        handle = await client.start_workflow(
            DuplicateCheckWorkflow.run, id_number, id=f"dup-{task_queue}", task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    # Whoever holds the key still gets the real message, cause and all.
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message == f"申请人 {id_number} 不能重复申请"
    assert cause.type == "DuplicateHousehold"

    history = await without_codec(client).get_workflow_handle(handle.id).fetch_history()
    stored = history_bytes(history)
    assert leaks(stored, [id_number, "不能重复申请", "已有在办案件"]) == []
    failures = [
        e.workflow_execution_failed_event_attributes.failure
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
    ]
    assert [f.message for f in failures] == ["Encoded failure"]
    # Failures in history without a codec show only that: no message, no stack trace.
    assert b"refuse_duplicate" not in b"".join(f.stack_trace.encode() for f in failures)


async def test_an_update_sent_to_temporal_without_the_codec_is_rejected_and_changes_nothing(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    # What `temporal workflow update execute --name withdraw --input '{…}'` sends: clear JSON,
    # from anyone with access to the cluster but without the office's keys.
    handle = await file_case(ts_stack, sample, "DB-TESTPLAINUPD")
    before = await wait_for(handle, lambda v: v.notices)
    plain = without_codec(ts_stack.client).get_workflow_handle(handle.id)
    request = {
        "request_id": "w-plain",
        "actor": {"id": "zhang.wei", "role": "village_caseworker", "jurisdiction": ""},
        "reason": "外出务工，自愿撤回",
    }
    with pytest.raises(WorkflowUpdateFailedError):
        await plain.execute_update("withdraw", request, id="withdraw-plain")
    after = await state(handle)
    assert (after.stage, after.status) == (before.stage, before.status)
    assert after.stage is not Stage.CLOSED
    audit = ts_stack.sql("SELECT action FROM audit_log WHERE case_id = %s", handle.id)
    assert [a for (a,) in audit] == ["file_application"]
    # The same request through the codec is a withdrawal like any other.
    withdrawn = await handle.execute_update(
        CaseWorkflow.withdraw,
        Withdraw(request_id="w-coded", actor=VILLAGE, reason="外出务工，自愿撤回"),
        id="withdraw-coded",
    )
    assert withdrawn.status is CaseStatus.WITHDRAWN


async def test_the_case_history_is_labelled_with_the_households_county(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    # As POST /cases starts it: the API knows the county and labels the input; the worker
    # then labels everything it writes for the case the same way.
    with payloads_of_county(sample["hukou"]["county_code"]):
        handle = await file_case(ts_stack, sample, "DB-TESTCOUNTY01")
    await wait_for(handle, lambda v: v.notices)
    # The filing's first stage change is one activity now: an action adds an update's
    # payloads and its steps', so the history holds more than one of each kind.
    with payloads_of_county(sample["hukou"]["county_code"]):
        await handle.execute_update(
            CaseWorkflow.withdraw,
            Withdraw(request_id="w-county", actor=VILLAGE, reason="外出务工，自愿撤回"),
        )
    history = await without_codec(ts_stack.client).get_workflow_handle(handle.id).fetch_history()
    encrypted = [
        payload
        for event in history.events
        for _, payload in payloads_in(event)
        if payload.metadata.get("encoding") == ENCODING
    ]
    assert len(encrypted) > 3  # input, activity inputs and results, the notice, the audit
    assert {county_of(p) for p in encrypted} == {"610423"}


async def test_a_case_started_without_the_label_is_labelled_from_its_input_on(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    # Started as before the label existed: the input is unlabelled, but names the county.
    handle = await file_case(ts_stack, sample, "DB-TESTCOUNTY02")
    await wait_for(handle, lambda v: v.notices)
    history = await without_codec(ts_stack.client).get_workflow_handle(handle.id).fetch_history()
    started, *later = history.events
    (case_input,) = started.workflow_execution_started_event_attributes.input.payloads
    assert county_of(case_input) is None
    written = [
        payload
        for event in later
        for _, payload in payloads_in(event)
        if payload.metadata.get("encoding") == ENCODING
    ]
    assert written and {county_of(p) for p in written} == {"610423"}
