"""Every activity timeout and retry policy, named, in one place."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Database writes are short; a minute covers a slow PostgreSQL failover without hiding a hang.
DB_WRITE_TIMEOUT = timedelta(seconds=30)
NOTICE_RENDER_TIMEOUT = timedelta(seconds=60)

# Projection, audit and notices must eventually be written: retry without a cap on attempts,
# backing off to one try every five minutes, so an outage delays a case but never loses a step.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["NonRetryable"],
)

# Verification asks every department's registry; a slow registry gets two minutes per try.
VERIFICATION_TIMEOUT = timedelta(minutes=2)
# A registry that is down is retried without limit: the case waits at verification, visibly,
# and nothing is lost. Backs off to once every ten minutes.
CONNECTOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
