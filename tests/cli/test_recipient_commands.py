"""Recipient-phase commands: what `dibao standard-change` and `dibao case show` tell the user."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cli.main import show_case
from tests.cli.conftest import dibao, sign_in_as
from tests.conftest import Stack


async def test_a_standard_change_says_it_started_and_how_to_follow_it(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_as(monkeypatch, "chen.gang")
    started = await dibao(
        "standard-change", "--county", "610423", "--urban", "560", "--rural", "4000",
        "--from", "2027-01", "--request-id", "sc-cli-1",
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    # Not the 0/0 count of a batch that has not yet listed its recipients.
    assert "0/0" not in started.output
    first, *_ = started.output.splitlines()
    assert first.startswith("standard change SC-610423-2027-01-") and first.endswith(
        "started: urban 560 元/人·月, rural 4000 元/人·年 from 2027-01, "
        "for every recipient of county 610423"
    )
    batch_id = first.split()[2]
    assert f"follow it with: dibao standard-change-progress {batch_id}" in started.output
    for _ in range(100):
        progress = await dibao("standard-change-progress", batch_id)
        assert progress.exit_code == 0, progress.output
        if "finished" in progress.output:
            break
        await asyncio.sleep(0.05)
    assert progress.output.strip() == (
        f"{batch_id}: finished; the county has no recipients, nothing changed"
    )


def receiving_case(review_due: bool) -> dict[str, Any]:
    return {
        "case_id": "DB-CLIREVIEW01",
        "stage": "recipient",
        "status": "receiving",
        "rule_pack": "seed-default@1",
        "filed_at": "2026-11-22T08:00:00+08:00",
        "recipient": {
            "cycle": 1,
            "next_review_on": "2027-05-22",
            "missed_sign_ins": 0,
            "suspended_until": "",
        },
        "review_due": review_due,
    }


def test_case_show_says_when_a_review_is_due(capsys: pytest.CaptureFixture[str]) -> None:
    show_case(receiving_case(review_due=False))
    shown = capsys.readouterr().out
    assert "next review 2027-05-22" in shown and "review     due" not in shown
    show_case(receiving_case(review_due=True))
    assert (
        "review     due: submit the re-review survey, "
        "`dibao case review DB-CLIREVIEW01 -f survey.json`" in capsys.readouterr().out
    )


def test_case_show_names_the_linked_cases_of_stop_old_open_new(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Issue 17 item 6 (停旧建新): the link is visible both ways.
    old = {**receiving_case(False), "links": {"continued_by": "DB-SNEW", "from_month": "2026-12"}}
    show_case(old)
    assert "continued  by case DB-SNEW from 2026-12" in capsys.readouterr().out
    new = {**receiving_case(False), "links": {"continues": "DB-OLD", "from_month": "2026-12"}}
    show_case(new)
    assert "continues  case DB-OLD (停旧建新, from 2026-12)" in capsys.readouterr().out


async def test_household_change_says_how_to_write_a_joining_member(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The joining member is NAME,ID_NUMBER,RELATION; anything else is refused before sending.
    result = await dibao(
        "case", "household-change", "DB-NOSUCHCASE1", "--event", "death", "--on", "2026-11-01",
        "--joining", "only-two,parts",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "NAME,ID_NUMBER,RELATION" in result.output
