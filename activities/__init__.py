"""Temporal activities: every side effect of a case, each idempotent by (case, step)."""
