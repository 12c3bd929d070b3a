"""The Temporal Schedule that prepares each county's payroll on the 1st (DOMAIN.md step 8:
the roster is prepared on the 1st, reviewed within 5 working days, the bank pays from the 10th).

Schedule `payroll-{county}` starts PayrollWorkflow at 00:00 China time on the 1st of every
month, or of January, April, July and October for a quarterly county. The schedule's action
is fixed when the schedule is written, so it carries no period: the workflow computes it from
the time the schedule fired (see workflows/payroll.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from dibao.codec import payloads_of_county
from dibao.domain.payroll import SCHEDULE_ACTOR, Cadence, PayrollInput, schedule_id_for
from dibao.settings import Settings
from workflows.payroll import PayrollWorkflow

TIME_ZONE = "Asia/Shanghai"
CRON = {
    Cadence.MONTHLY: "0 0 1 * *",
    Cadence.QUARTERLY: "0 0 1 1,4,7,10 *",
}
# If Temporal is down on the 1st, the payroll still starts when it is back within this window
# (for the period of the 1st it was due, see workflows/payroll.py); later, staff start it.
CATCHUP_WINDOW = timedelta(days=7)


def payroll_schedule(settings: Settings, county_code: str, cadence: Cadence) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PayrollWorkflow.run,
            PayrollInput(
                county_code=county_code,
                period="",
                requested_by=SCHEDULE_ACTOR,
                cadence=cadence.value,
            ),
            id=schedule_id_for(county_code),
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[CRON[cadence]], time_zone_name=TIME_ZONE),
        policy=SchedulePolicy(catchup_window=CATCHUP_WINDOW),
    )


async def ensure_schedule(
    client: Client, settings: Settings, county_code: str, cadence: str
) -> str:
    """Create the county's payroll schedule, or rewrite it (e.g. monthly → quarterly).

    Returns the schedule ID.
    """
    schedule_id = schedule_id_for(county_code)
    schedule = payroll_schedule(settings, county_code, Cadence(cadence))
    # The action's input is encoded once, here, for every run the schedule starts.
    with payloads_of_county(county_code):
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def rewrite(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(schedule_id).update(rewrite)
    return schedule_id


@dataclass(frozen=True)
class ScheduleInfo:
    """The county's schedule as Temporal reports it (for the console's 发放 page)."""

    schedule_id: str
    cadence: Cadence
    paused: bool
    next_runs: tuple[datetime, ...]
    recent_runs: tuple[tuple[datetime, str], ...]  # (when it fired, the workflow it started)


async def describe_schedule(client: Client, county_code: str) -> ScheduleInfo | None:
    """The county's schedule, or None when it has none."""
    handle = client.get_schedule_handle(schedule_id_for(county_code))
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    upcoming = tuple(described.info.next_action_times[:4])
    # Temporal stores the cron as calendars; the gap between two firings tells the cadence.
    quarterly = len(upcoming) > 1 and (upcoming[1] - upcoming[0]) > timedelta(days=45)
    recent = tuple(
        (
            a.started_at,
            a.action.workflow_id
            if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
            else "",
        )
        for a in described.info.recent_actions[-5:]
    )
    return ScheduleInfo(
        schedule_id=handle.id,
        cadence=Cadence.QUARTERLY if quarterly else Cadence.MONTHLY,
        paused=described.schedule.state.paused,
        next_runs=upcoming,
        recent_runs=recent,
    )
