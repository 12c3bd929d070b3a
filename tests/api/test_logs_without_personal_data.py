"""No log line holds a name, ID number or account number, even when a database error quotes
the row that failed."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from dibao.logs import JsonFormatter, RedactingFormatter
from tests.conftest import Stack


@pytest.fixture
def written_logs() -> Iterator[io.StringIO]:
    """What the API writes to its log (dibao.logs.configure's handler), JSON and text."""
    out = io.StringIO()
    handlers = []
    for formatter in (JsonFormatter("api"), RedactingFormatter("%(levelname)s %(message)s")):
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        handlers.append(handler)
        logging.getLogger().addHandler(handler)
    try:
        yield out
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)


async def test_simultaneous_duplicate_filings_answer_409_and_log_no_id_number(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any], written_logs: io.StringIO
) -> None:
    # Filed at once, all pass the open-case check before any is written: the unique index
    # decides, and its violation text must stay out of the answer and the log.
    responses = await asyncio.gather(
        *(api.post("/cases", json=sample, headers={"Idempotency-Key": f"k{i}"}) for i in range(4)),
        return_exceptions=True,
    )
    assert not [r for r in responses if isinstance(r, BaseException)], responses
    statuses = sorted(r.status_code for r in responses if isinstance(r, httpx.Response))
    assert statuses == [201, 409, 409, 409]
    logged = written_logs.getvalue()
    head = sample["members"][0]
    assert head["id_number"] not in logged and head["name"] not in logged


async def test_a_unique_violation_logged_with_its_traceback_shows_no_id_number(
    dev_stack: Stack, sample: dict[str, Any], written_logs: io.StringIO
) -> None:
    id_number = sample["members"][0]["id_number"]
    insert = text(
        "INSERT INTO cases (case_id, head_id_number, stage, status, stage_seq, rule_pack_id, "
        "rule_pack_version, area_type, province_code, county_code, township_code, village_code,"
        " stage_entered_at, filed_at) VALUES (:case_id, :id_number, 'application', 'filed', 0, "
        "'seed-default', 1, 'rural', '61', '610423', '610423100', '610423100201', now(), now())"
    )
    async with dev_stack.sessions() as session:
        await session.execute(insert, {"case_id": "DB-LOG0000001", "id_number": id_number})
        await session.commit()
        try:
            await session.execute(insert, {"case_id": "DB-LOG0000002", "id_number": id_number})
        except IntegrityError:
            logging.getLogger("api").exception("filing failed for %s", id_number)
        else:
            raise AssertionError("the second open case of the household was accepted")
    logged = written_logs.getvalue()
    assert "uq_cases_open_household" in logged  # the operator still sees what failed
    assert id_number not in logged
