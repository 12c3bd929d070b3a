"""What a payroll still building says about its build."""

from __future__ import annotations

from dibao.domain.payroll import build_status


def test_a_retried_build_names_the_attempt_and_the_kind_of_error() -> None:
    assert build_status(2, True, "heartbeat timeout", None, 30) == (
        "building — retrying after an interruption (attempt 2, last error: heartbeat timeout); "
        "waiting for a worker to take it up"
    )
    assert build_status(3, False, "OperationalError", 1, 30) == (
        "building — retrying after an interruption (attempt 3, last error: OperationalError)"
    )


def test_a_silent_worker_or_no_worker_is_said() -> None:
    assert "has not reported for 45 s" in build_status(1, False, "", 45, 30)
    assert "waiting for a worker" in build_status(1, True, "", None, 30)
    assert build_status(1, False, "", 5, 30) == "building"
