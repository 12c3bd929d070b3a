"""What registering a near relative (近亲属备案) does to the household's open cases: the staff
member recuses from them at once, not at the next stage change.

PostgreSQL decides access (dibao/db/recusal_repo.py); the workflow of each open case is told by
a signal, so its own checks (actions, investigators named in a survey) and the `recused_staff`
it shows agree with the registry from now on.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from dibao.codec import payloads_of_county
from dibao.db import cases_repo, recusal_repo
from dibao.messages.case import RecuseStaff
from workflows.case import CaseWorkflow


async def recuse_at_once(
    session: AsyncSession, client: Client, staff_id: str, relative_id_number: str
) -> list[str]:
    """Recuse `staff_id` from every open case listing the relative; the case IDs touched.

    Safe to repeat: the registration, the column and the signal all take effect once.
    """
    case_ids = await recusal_repo.open_cases_of(session, relative_id_number)
    await recusal_repo.record_recusal(session, case_ids, staff_id)
    untold: list[str] = []
    for case_id in case_ids:
        row = await cases_repo.get_case(session, case_id)
        try:
            # Labelled with the case's county, like everything else in its history.
            with payloads_of_county(row.county_code if row else ""):
                await client.get_workflow_handle(case_id).signal(
                    CaseWorkflow.recuse, RecuseStaff(staff_ids=(staff_id,))
                )
        except RPCError as err:
            # A workflow that has just closed needs telling no more.
            if err.status != RPCStatusCode.NOT_FOUND:
                untold.append(case_id)
    if untold:
        # The registration and the access checks hold already; only the workflows' own view
        # lags, and the next stage change would catch up. Repeating the request tells them.
        raise errors.unavailable(
            "the relative is registered and the staff member is refused access to the "
            "household's cases, but Temporal did not take the recusal for some open cases; "
            "repeat the request to tell them",
            case_ids=untold,
        )
    return case_ids
