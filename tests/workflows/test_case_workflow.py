"""CaseWorkflow against the real time-skipping server, real activities and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.schemas import ApplicationIn
from dibao.db import cases_repo
from dibao.domain.enums import CaseStatus, Material, NoticeKind, Role, Stage
from dibao.messages.case import Actor, CaseInput, CaseView, SupplementMaterials, Withdraw
from tests.conftest import Stack
from workflows.case import CaseWorkflow

CLERK = Actor(id="clerk-01", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100201")


async def start_case(stack: Stack, body: dict[str, Any], case_id: str) -> WorkflowHandle[Any, Any]:
    """File as the API does: reserve the projection row, then start the workflow."""
    parsed = ApplicationIn.model_validate(body)
    case = CaseInput(
        case_id=case_id,
        application=parsed.to_domain(),
        rule_pack_id="seed-default",
        rule_pack_version=1,
        filed_at=datetime(2026, 9, 28, 2, 0, tzinfo=UTC),
        filed_by=CLERK,
        request_id="req-file",
    )
    async with stack.sessions() as session:
        outcome = await cases_repo.reserve_case(
            session, case, parsed.model_dump(mode="json"), None, "h"
        )
    assert isinstance(outcome, cases_repo.Reserved)
    stack.started.append(case_id)
    return await stack.client.start_workflow(
        CaseWorkflow.run, case, id=case_id, task_queue=stack.settings.task_queue
    )


async def wait_for(handle: WorkflowHandle[Any, Any], predicate: Any) -> CaseView:
    for _ in range(200):
        view: CaseView = await handle.query(CaseWorkflow.state)
        if predicate(view):
            return view
        await handle._client.service_client.check_health()  # yields to the event loop
    raise AssertionError(f"condition never held; last state {view}")


async def test_incomplete_materials_get_one_notice_listing_every_item(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await start_case(ts_stack, sample, "DB-TESTMISSING1")
    view = await wait_for(handle, lambda v: v.notices)
    assert view.status is CaseStatus.MATERIALS_INCOMPLETE
    assert set(view.missing_materials) == {
        Material.VERIFICATION_AUTHORISATION,
        Material.DISABILITY_CERTIFICATE,
    }
    (notice,) = view.notices
    assert notice.kind is NoticeKind.MATERIALS_INCOMPLETE
    (content,) = ts_stack.sql("SELECT content FROM notices WHERE notice_id = %s", notice.notice_id)[
        0
    ]
    assert "一次性告知书" in content
    assert "家庭经济状况核查授权委托书" in content and "残疾人证" in content
    assert "王秀英" in content

    view = await handle.execute_update(
        CaseWorkflow.supplement_materials,
        SupplementMaterials(
            request_id="r1",
            actor=CLERK,
            materials=(Material.DISABILITY_CERTIFICATE,),
            verification_authorised=True,
        ),
    )
    assert view.stage is Stage.SURVEY and view.status is CaseStatus.IN_PROGRESS
    assert view.missing_materials == ()
    assert [n.kind for n in view.notices] == [
        NoticeKind.MATERIALS_INCOMPLETE,
        NoticeKind.ACCEPTANCE,
    ]
    # 2026-09-28 + 20 working days crosses the National Day holiday (10-01..10-08) and the
    # make-up working Saturday 10-10; the survey is due on that basis, not on weekends alone.
    assert view.due_at is not None and view.due_warning is None
    await record_history(handle, "materials_supplemented_then_accepted")


async def test_wrong_stage_supplement_is_rejected_before_history(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    sample["materials"] += ["disability_certificate"]
    sample["verification_authorised"] = True
    handle = await start_case(ts_stack, sample, "DB-TESTCOMPLETE")
    await wait_for(handle, lambda v: v.stage is Stage.SURVEY and v.notices)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.supplement_materials,
            SupplementMaterials(request_id="late", actor=CLERK, materials=(Material.ID_CARDS,)),
        )
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "WrongStage"
    # A rejected update leaves no trace in the case's history.
    history = await handle.fetch_history()
    assert not [e for e in history.events if "UPDATE" in EventType.Name(e.event_type)]


async def test_withdrawal_closes_case_with_notice_and_repeat_has_no_second_effect(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    handle = await start_case(ts_stack, sample, "DB-TESTWITHDRAW")
    await wait_for(handle, lambda v: v.notices)
    request = Withdraw(request_id="w1", actor=CLERK, reason="外出务工，自愿撤回")
    view = await handle.execute_update(CaseWorkflow.withdraw, request, id="withdraw-w1")
    assert view.status is CaseStatus.WITHDRAWN and view.stage is Stage.CLOSED
    assert view.notices[-1].kind is NoticeKind.WITHDRAWAL
    await handle.result()
    audit = ts_stack.sql("SELECT action FROM audit_log ORDER BY id")
    assert [a for (a,) in audit] == ["file_application", "withdraw"]
    (closed,) = ts_stack.sql("SELECT closed_at IS NOT NULL FROM cases")[0]
    assert closed
    again = await handle.execute_update(CaseWorkflow.withdraw, request, id="withdraw-w1")
    assert again.status is CaseStatus.WITHDRAWN
    assert len(ts_stack.sql("SELECT 1 FROM audit_log WHERE action = 'withdraw'")) == 1
    await record_history(handle, "withdrawn_while_materials_incomplete")
