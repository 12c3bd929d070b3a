"""Prometheus metrics of dibao, besides the Temporal SDK's own (which the worker exports on
its own port, see worker.py).

Activity metrics are counted in the worker process (activities/interceptor.py); the case
gauges are computed from the projection when /metrics of the API is scraped, so any number of
API replicas report the same values.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

WORKER_REGISTRY = CollectorRegistry()

ACTIVITY_SECONDS = Histogram(
    "dibao_activity_seconds",
    "Duration of one activity attempt",
    ["activity_type", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=WORKER_REGISTRY,
)
ACTIVITY_FAILURES = Counter(
    "dibao_activity_failures_total",
    "Failed activity attempts",
    ["activity_type"],
    registry=WORKER_REGISTRY,
)

# A failed attempt the interceptor could not write to step_failures (PostgreSQL unreachable):
# the stuck list and incidents miss it. Also written to db_outages once the database is back.
UNRECORDED_FAILURES = Counter(
    "dibao_unrecorded_step_failures_total",
    "Failed activity attempts that could not be recorded (database unreachable)",
    ["activity_type"],
    registry=WORKER_REGISTRY,
)


def case_gauges(registry: CollectorRegistry) -> tuple[Gauge, Gauge, Gauge, Gauge]:
    """The gauges /metrics fills from the database on each scrape."""
    by_stage = Gauge(
        "dibao_cases", "Open cases by stage and status", ["stage", "status"], registry=registry
    )
    overdue = Gauge(
        "dibao_cases_overdue", "Open cases past their stage deadline", registry=registry
    )
    incidents = Gauge(
        "dibao_incidents_open", "Steps that gave up and wait for ops", registry=registry
    )
    failing = Gauge(
        "dibao_steps_failing", "Steps failing while Temporal retries them", registry=registry
    )
    return by_stage, overdue, incidents, failing
