"""`dibao complaint add|assign|investigate|answer|close|list|show` (mca-2021 Arts. 36–37;
000 篇3 line 50: 举报电话): a real-name report walked to its written answer; the supervisor's
`show` withholds the reporter."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import dibao, sign_in_as
from tests.conftest import Stack


async def test_a_hotline_report_from_add_to_answer_and_the_supervisor_sees_no_name(
    api_url: str, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signed in as li.na, township caseworker of 610423100.
    added = await dibao(
        "complaint", "add", "--summary", "反映示例村低保评议未公开唱票",
        "--county", "610423", "--township", "610423100",
        "--name", "赵举报", "--contact", "13700000000", "--request-id", "cli-c-1",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    match = re.search(r"complaint  (C-[0-9A-F]+)  \(received 已登记\)", added.output)
    assert match, added.output
    cid = match.group(1)
    assert "赵举报" in added.output
    repeated = await dibao(
        "complaint", "add", "--summary", "反映示例村低保评议未公开唱票",
        "--county", "610423", "--township", "610423100",
        "--name", "赵举报", "--contact", "13700000000", "--request-id", "cli-c-1",
    )  # fmt: skip
    assert cid in repeated.output
    assert dev_stack.sql("SELECT count(*) FROM complaints") == [(1,)]
    for args in (
        ("assign", cid, "--level", "township"),
        ("investigate", cid, "--unfounded", "--summary", "查阅评议记录，当场唱票"),
        ("answer", cid, "--text", "经核查，你反映的问题不属实。"),
    ):
        result = await dibao("complaint", *args)
        assert result.exit_code == 0, result.output
    assert "answered" in result.output and f"/complaints/{cid}/answer" in result.output
    listed = await dibao("complaint", "list")
    assert cid in listed.output and "answered" in listed.output

    sign_in_as(monkeypatch, "wang.jian")  # supervisor
    shown = await dibao("complaint", "show", cid)
    assert shown.exit_code == 0, shown.output
    assert "赵举报" not in shown.output and "13700000000" not in shown.output
    assert "withheld from your role" in shown.output

    sign_in_as(monkeypatch, "zhang.wei")  # village caseworker: Art. 36, not theirs
    refused = await dibao("complaint", "show", cid)
    assert refused.exit_code == 2 and "Art. 36" in refused.output
