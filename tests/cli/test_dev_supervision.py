"""`make dev` restarts a crashed worker or API with backoff and says so; it stops only on
Ctrl-C, when PostgreSQL or Temporal dies, or when a child keeps crashing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cli.dev import DevError, RestartPolicy, Supervisor
from dibao.settings import Settings


def test_restarts_back_off_and_give_up_after_five_crashes_in_five_minutes() -> None:
    policy = RestartPolicy()
    delays = [policy.on_crash("worker", t) for t in (0, 10, 20, 30)]
    assert delays == [1, 2, 4, 8]
    assert policy.on_crash("worker", 40) is None  # the fifth within five minutes


def test_crashes_far_apart_keep_being_restarted() -> None:
    policy = RestartPolicy()
    # One crash every ten minutes: each is the only one in its window.
    assert [policy.on_crash("api", 600.0 * i) for i in range(10)] == [1] * 10


def test_each_child_has_its_own_count_and_the_delay_is_capped() -> None:
    policy = RestartPolicy(max_crashes=100, max_delay=30)
    for t in range(7):
        policy.on_crash("worker", t)
    assert policy.on_crash("worker", 8) == 30
    assert policy.on_crash("api", 8) == 1


def supervisor(tmp_path: Path) -> Supervisor:
    return Supervisor(Settings(_env_file=None), log_dir=tmp_path / "logs")


def test_a_crashing_worker_is_restarted_until_it_crashes_too_often(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = supervisor(tmp_path)
    marker = tmp_path / "starts"
    crash = f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(9)"
    dev.spawn("worker", [sys.executable, "-c", crash], {})
    policy = RestartPolicy(max_crashes=3, window=120, first_delay=0.01)
    with pytest.raises(DevError, match=r"worker stopped unexpectedly .* 3 times within 2 minutes"):
        dev.watch(lambda: False, policy, poll=0.01)
    out = capsys.readouterr().out
    assert "worker stopped unexpectedly (code 9); restarting it in 0.01 s" in out
    assert out.count("worker restarted") == 2
    assert marker.read_text() == "xxx"  # started, restarted twice


def test_a_restarted_api_keeps_running_until_ctrl_c(tmp_path: Path) -> None:
    dev = supervisor(tmp_path)
    flag = tmp_path / "crashed-once"
    # Crashes on its first start only, then runs like a healthy API.
    once = (
        f"import pathlib, sys, time; p = pathlib.Path({str(flag)!r})\n"
        "if not p.exists(): p.touch(); sys.exit(1)\n"
        "time.sleep(30)"
    )
    dev.spawn("api", [sys.executable, "-c", once], {})
    first = dev.children[0][1]
    policy = RestartPolicy(first_delay=0.05)

    def ctrl_c_once_restarted() -> bool:
        current = dev.children[0][1]
        return current is not first and current.poll() is None

    dev.watch(ctrl_c_once_restarted, policy, poll=0.02)
    try:
        assert first.returncode == 1
        assert dev.children[0][1].poll() is None  # the second start runs on
    finally:
        dev.stop()


def test_temporal_dying_still_stops_everything(tmp_path: Path) -> None:
    dev = supervisor(tmp_path)
    dev.spawn("temporal", [sys.executable, "-c", "raise SystemExit(2)"], {})
    with pytest.raises(DevError, match=r"temporal stopped unexpectedly \(code 2\)"):
        dev.watch(lambda: False, poll=0.01)
