"""`make dev` with its ports moved: commands in another terminal call its API, not port 8000."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.dev import dev_env_text
from dibao.settings import Settings
from tests.conftest import TEST_CODEC_KEYS as KEYS


def test_dev_env_carries_the_api_url_the_cli_then_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DIBAO_API_URL", "DIBAO_API_PORT", "DATABASE_URL", "TEMPORAL_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    dev = Settings(_env_file=None, api_port=8600)
    env_file = tmp_path / "dev.env"
    env_file.write_text(
        dev_env_text(dev, "postgresql://postgres@/dibao?host=/tmp", "127.0.0.1:7233", KEYS),
        encoding="utf-8",
    )

    other_terminal = Settings(_env_file=env_file)
    assert other_terminal.api_url == "http://127.0.0.1:8600"
    assert other_terminal.database_url == "postgresql://postgres@/dibao?host=/tmp"

    # A variable set in the environment still wins over the file.
    monkeypatch.setenv("DIBAO_API_URL", "http://10.0.0.5:9000")
    assert Settings(_env_file=env_file).api_url == "http://10.0.0.5:9000"


def test_an_api_bound_to_all_interfaces_is_called_on_loopback() -> None:
    dev = Settings(_env_file=None, api_host="0.0.0.0", api_port=8601)
    assert "DIBAO_API_URL=http://127.0.0.1:8601\n" in dev_env_text(
        dev, "postgresql://x", "t:1", KEYS
    )
