"""The body of the family's answer to a failed check (mca-2021 Art. 18)."""

from __future__ import annotations

from pydantic import Field

from api.fields import IsoDate, Text
from api.schemas import Strict
from dibao.domain.measures import EvidenceEffect, SubmitEvidence
from dibao.messages.case import Actor


class EvidenceIn(Strict):
    received_on: IsoDate = Field(description="the day the township received the evidence")
    summary: Text = Field(
        min_length=1, max_length=2000, examples=["提供了2023年10月起的失业登记证明"]
    )
    effect: EvidenceEffect = Field(
        default=EvidenceEffect.RECHECK,
        description="recheck: verification runs again; findings_stand: the evidence changes "
        "nothing and the case goes on with the verified figures",
    )

    def to_message(self, request_id: str, actor: Actor) -> SubmitEvidence:
        return SubmitEvidence(
            request_id=request_id,
            actor=actor,
            received_on=self.received_on.isoformat(),
            summary=self.summary,
            effect=self.effect,
        )
