"""Every activity timeout and retry policy, named, in one place."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Database writes are short; a minute covers a slow PostgreSQL failover without hiding a hang.
DB_WRITE_TIMEOUT = timedelta(seconds=30)
NOTICE_RENDER_TIMEOUT = timedelta(seconds=60)

# Projection, audit, notices and ledger writes: about half an hour of attempts, backing off to
# one every five minutes, rides out a database restart or failover. Past that (or at once, for
# an error marked non-retryable) the step becomes an incident: the case waits, visibly, until
# ops retry or skip it (`SharedSteps.attempt`, workflows/case_shared.py), so nothing is lost
# and nothing fails.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=15,
    non_retryable_error_types=["NonRetryable"],
)

# A short database write runs as a local activity (`SharedSteps.attempt`, in
# workflows/case_shared.py); a retry that must wait longer than this waits on a timer in
# history, not in the worker's memory, so a restart, or a test server skipping time, carries
# it on.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=1)

# Recording an incident must not itself become one: retried without a cap.
INCIDENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)

# Long activities (payroll build, verification, standard changes) heartbeat a few times per
# this (activities/heartbeat.py): a worker killed mid-activity is noticed, and the activity
# retried on another worker, this long after, not after the whole start-to-close timeout.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)

# Checking and writing a county's ledger file (台账) is one activity of up to minutes (a whole
# county in one transaction); it heartbeats, so a worker lost meanwhile is noticed within the
# heartbeat timeout and the activity runs again on another (its transaction never committed).
LEDGER_CHECK_TIMEOUT = timedelta(hours=1)

# Verification asks every department's registry; a slow registry gets two minutes per try.
VERIFICATION_TIMEOUT = timedelta(minutes=2)
# A registry that is down is retried without limit: outages of a department's system are
# expected and end by themselves. The case waits at verification, listed as failing in the
# supervisors' stuck list, and nothing is lost. Backs off to once every ten minutes. A
# non-retryable error (bad data) becomes an incident at once.
CONNECTOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
