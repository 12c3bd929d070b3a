"""The county's payroll Temporal Schedule: kept in api/payroll_schedule.py, which the console's
发放 page uses as well; re-exported here for `dibao payroll schedule`."""

from api.payroll_schedule import (
    CATCHUP_WINDOW,
    CRON,
    TIME_ZONE,
    ensure_schedule,
    payroll_schedule,
)

__all__ = ["CATCHUP_WINDOW", "CRON", "TIME_ZONE", "ensure_schedule", "payroll_schedule"]
