"""Timeouts and retry policies of the payroll workflow, named."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from workflows.policies import HEARTBEAT_TIMEOUT

# Building a county's roster reads every receiving household and writes its lines, bank file
# and roster page; 100,000 households take seconds (bench/payroll_100k.py), ten minutes is a
# hang, not a large county.
BUILD_TIMEOUT = timedelta(minutes=10)
# A worker killed mid-build: the build is retried this long after its last heartbeat.
BUILD_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
# Retried without a cap: a database outage, or the county's previous run still waiting for
# release (PendingDraft), delays the payroll visibly at this activity and loses nothing.
BUILD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["NonRetryable"],
)

RELEASE_TIMEOUT = timedelta(seconds=30)
RELEASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["NonRetryable"],
)
