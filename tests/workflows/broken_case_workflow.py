"""A deliberately incompatible CaseWorkflow: it writes the filing's audit entry as a step of its
own, before the first stage change, without a patch (the case writes it with that stage change).

Used by the replay test to prove that such a change fails the build.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain.enums import AuditAction
    from dibao.domain.hashing import payload_sha256
    from dibao.messages.case import AuditEntry, CaseInput, CaseResult
    from workflows import case_steps, policies
    from workflows.case import CaseWorkflow


@workflow.defn(name="CaseWorkflow")
class CaseWorkflowWithSeparateFilingAudit(CaseWorkflow):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        await workflow.execute_activity(
            case_steps.append_audit,
            AuditEntry(
                case_id=case.case_id,
                step_key="filed",
                actor=case.filed_by,
                action=AuditAction.FILE_APPLICATION,
                payload_sha256=payload_sha256(case.application),
                at=case.filed_at,
            ),
            start_to_close_timeout=policies.DB_WRITE_TIMEOUT,
            retry_policy=policies.DB_RETRY,
        )
        return await super().run(case)
