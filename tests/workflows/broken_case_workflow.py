"""A deliberately incompatible CaseWorkflow: it drops the filing audit step without a patch.

Used by the replay test to prove that such a change fails the build.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from dibao.domain.enums import CaseStatus, NoticeKind, Stage
    from dibao.messages.case import CaseInput, CaseResult
    from workflows.case import CaseWorkflow


@workflow.defn(name="CaseWorkflow")
class CaseWorkflowWithoutFilingAudit(CaseWorkflow):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseResult:
        if self._missing():
            await self._enter(Stage.APPLICATION, CaseStatus.MATERIALS_INCOMPLETE)
            await self._notice(NoticeKind.MATERIALS_INCOMPLETE, "materials-incomplete")
        await workflow.wait_condition(lambda: self._withdrawal is not None)
        return CaseResult(case_id=case.case_id, status=self._status)
