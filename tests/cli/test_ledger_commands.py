"""`dibao ledger`: the template, a check naming each error in Chinese with a marked copy, and
an import that starts every case (with a progress bar) and is a no-op the second time."""

from __future__ import annotations

from pathlib import Path

import pytest

from dibao.ledger_files import ledger_csv
from tests.cli.conftest import dibao, sign_in_as
from tests.conftest import TEST_CODEC_KEYS, Stack
from tests.golive import ledger_rows


async def test_template_check_and_import_from_the_command_line(
    api_url: str, dev_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_stack.settings.temporal_address or "")
    monkeypatch.setenv("DIBAO_TASK_QUEUE", dev_stack.settings.task_queue)
    monkeypatch.setenv("DIBAO_CODEC_KEYS", TEST_CODEC_KEYS)
    sign_in_as(monkeypatch, "chen.gang")
    template = tmp_path / "template.xlsx"
    assert (await dibao("ledger", "template", str(template))).exit_code == 0
    assert template.stat().st_size > 0

    bad_rows = ledger_rows(5)
    bad_rows[2]["account_no"] = "12 34"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(ledger_csv(bad_rows))
    marked = tmp_path / "marked.xlsx"
    result = await dibao(
        "ledger", "import", str(bad), "--county", "610423", "--marked", str(marked)
    )
    assert result.exit_code == 1
    assert "第4行 列「账号」：应为12至30位数字，不含空格" in result.output
    assert marked.exists()
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]

    good = tmp_path / "good.csv"
    good.write_bytes(ledger_csv(ledger_rows(5)))
    result = await dibao("ledger", "import", str(good), "--county", "610423", "--rate", "100")
    assert result.exit_code == 0, result.output
    assert "5 households, 10 persons" in result.output
    dev_stack.started += [r[0] for r in dev_stack.sql("SELECT case_id FROM cases")]
    again = await dibao("ledger", "import", str(good), "--county", "610423")
    assert again.exit_code == 0 and "imported already" in again.output
    assert dev_stack.sql("SELECT count(*), bool_and(started) FROM ledger_import_households") == [
        (5, True)
    ]

    sign_in_as(monkeypatch, "li.na")  # a township caseworker may not import
    assert (await dibao("ledger", "check", str(good), "--county", "610423")).exit_code == 2
