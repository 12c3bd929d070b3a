"""CaseWorkflow: one 低保 application, from filing onward.

The workflow holds the case state and decides nothing itself: rules come from `dibao.domain`,
side effects from activities. Caseworker actions are updates whose validators reject a wrong-stage
or invalid action before it reaches history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from dibao.domain import application as _application  # noqa: F401  (type hints resolve in the sandbox)
    from dibao.domain.case import (
        Actor,
        AuditEntry,
        AuditRecorded,
        CaseInput,
        CaseResult,
        CaseView,
        IssueNotice,
        NoticeIssued,
        NoticeRef,
        RecordStage,
        Rejection,
        StageRecorded,
        SupplementMaterials,
        Withdraw,
    )
    from dibao.domain.enums import AuditAction, CaseStatus, Material, NoticeKind, Stage
    from dibao.domain.hashing import payload_sha256
    from dibao.domain.materials import missing_materials, provided_materials
    from workflows import policies
    from workflows import search_attributes as sa


def _reject(kind: Rejection, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        app = case.application
        self._case = case
        self._stage = Stage.APPLICATION
        self._status = CaseStatus.FILED
        self._seq = 0
        self._stage_entered_at: datetime = case.filed_at
        self._due_at: datetime | None = None
        self._due_warning: str | None = None
        self._provided = provided_materials(
            app.materials, app.declaration_signed, app.verification_authorised
        )
        self._notices: list[NoticeRef] = []
        self._withdrawal: Withdraw | None = None
        self._accepted = False
        self._closed = False
        self._handled_requests: set[str] = set()

    # --- main line ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        await self._audit(
            "filed",
            case.filed_by,
            AuditAction.FILE_APPLICATION,
            case.application,
            at=case.filed_at,
        )
        if self._missing():
            await self._enter(Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE)
            await self._notice(
                NoticeKind.MATERIALS_INCOMPLETE, "materials-incomplete", missing=self._missing()
            )
            await workflow.wait_condition(
                lambda: not self._missing() or self._withdrawal is not None
            )
        if self._withdrawal is None:
            await self._enter(Stage.SURVEY, CaseStatus.IN_PROGRESS)
            await self._notice(NoticeKind.ACCEPTANCE, "acceptance")
            self._accepted = True
            # The survey and later stages are added by the procedure work (issue 3); until then
            # an accepted case waits here, queryable and withdrawable.
            await workflow.wait_condition(lambda: self._withdrawal is not None)
        assert self._withdrawal is not None
        await self._enter(Stage.CLOSED, CaseStatus.WITHDRAWN)
        await self._notice(NoticeKind.WITHDRAWAL, "withdrawal", reason=self._withdrawal.reason)
        self._closed = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseResult(case_id=case.case_id, status=self._status)

    # --- queries -----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> CaseView:
        return CaseView(
            case_id=self._case.case_id,
            stage=self._stage,
            status=self._status,
            rule_pack_id=self._case.rule_pack_id,
            rule_pack_version=self._case.rule_pack_version,
            application=self._case.application,
            filed_at=self._case.filed_at,
            stage_entered_at=self._stage_entered_at,
            due_at=self._due_at,
            due_warning=self._due_warning,
            provided_materials=tuple(sorted(self._provided)),
            missing_materials=self._missing(),
            notices=tuple(self._notices),
            withdrawal_reason=self._withdrawal.reason if self._withdrawal else None,
        )

    # --- updates -----------------------------------------------------------------------------

    @workflow.update
    async def supplement_materials(self, request: SupplementMaterials) -> CaseView:
        if request.request_id in self._handled_requests:
            return self.state()
        self._handled_requests.add(request.request_id)
        await self._audit(
            f"supplement/{request.request_id}",
            request.actor,
            AuditAction.SUPPLEMENT_MATERIALS,
            request,
        )
        self._provided = self._provided | provided_materials(
            request.materials, request.declaration_signed, request.verification_authorised
        )
        # Answer once the case has moved on, so the caller sees the acceptance it caused.
        await workflow.wait_condition(
            lambda: bool(self._missing()) or self._accepted or self._closed
        )
        return self.state()

    @supplement_materials.validator
    def _validate_supplement(self, request: SupplementMaterials) -> None:
        if request.request_id in self._handled_requests:
            return
        self._require_open()
        if self._stage is not Stage.APPLICATION or not self._missing():
            raise _reject(
                Rejection.WRONG_STAGE,
                f"materials are already complete; the case is at stage '{self._stage.value}'",
            )
        if not (request.materials or request.declaration_signed or request.verification_authorised):
            raise _reject(Rejection.INVALID, "nothing to supplement: no material was given")

    @workflow.update
    async def withdraw(self, request: Withdraw) -> CaseView:
        if request.request_id not in self._handled_requests:
            self._handled_requests.add(request.request_id)
            await self._audit(
                f"withdraw/{request.request_id}", request.actor, AuditAction.WITHDRAW, request
            )
            self._withdrawal = request
        await workflow.wait_condition(lambda: self._closed)
        return self.state()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        if request.request_id in self._handled_requests:
            return
        self._require_open()
        if not request.reason.strip():
            raise _reject(Rejection.INVALID, "reason: a withdrawal needs the applicant's reason")

    # --- helpers -----------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._withdrawal is not None or self._closed:
            raise _reject(Rejection.WRONG_STAGE, "the case is withdrawn and closed")

    def _missing(self) -> tuple[Material, ...]:
        return missing_materials(self._case.application, self._provided)

    async def _enter(self, stage: Stage, status: CaseStatus) -> None:
        self._seq += 1
        now = workflow.now()
        recorded: StageRecorded = await workflow.execute_activity(
            "record_stage",
            RecordStage(
                case_id=self._case.case_id,
                seq=self._seq,
                stage=stage,
                status=status,
                entered_at=now,
                rule_pack_id=self._case.rule_pack_id,
            ),
            result_type=StageRecorded,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )
        self._stage, self._status, self._stage_entered_at = stage, status, now
        self._due_at, self._due_warning = recorded.due_at, recorded.due_warning
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set(stage.value),
                sa.STATUS.value_set(status.value),
                sa.DUE_AT.value_set(recorded.due_at)
                if recorded.due_at
                else sa.DUE_AT.value_unset(),
            ]
        )

    async def _audit(
        self,
        step_key: str,
        actor: Actor,
        action: AuditAction,
        payload: Any,
        at: datetime | None = None,
    ) -> None:
        await workflow.execute_activity(
            "append_audit",
            AuditEntry(
                case_id=self._case.case_id,
                step_key=step_key,
                actor=actor,
                action=action,
                payload_sha256=payload_sha256(payload),
                at=at or workflow.now(),
            ),
            result_type=AuditRecorded,
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )

    async def _notice(
        self,
        kind: NoticeKind,
        step_key: str,
        missing: tuple[Material, ...] = (),
        reason: str = "",
    ) -> None:
        issued: NoticeIssued = await workflow.execute_activity(
            "issue_notice",
            IssueNotice(
                case_id=self._case.case_id,
                step_key=step_key,
                kind=kind,
                issued_at=workflow.now(),
                missing_materials=missing,
                reason=reason,
            ),
            result_type=NoticeIssued,
            start_to_close_timeout=policies.NOTICE_RENDER_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )
        self._notices.append(issued.notice)
