"""Rule packs: versioned policy parameters chosen per jurisdiction (DOMAIN.md).

A case pins the pack id and version it was filed under, so a later change of policy never
changes the deadlines of a case already running.
"""

from __future__ import annotations

from dataclasses import dataclass

from dibao.domain.enums import Stage


@dataclass(frozen=True)
class RulePack:
    id: str
    version: int
    title: str
    posting_days: int
    # Working days from acceptance within which the survey must be done (seed-default folds it
    # into the township's 20-day review deadline; mca-2021 Art. 15 says start within 3).
    survey_working_days: int
    township_review_working_days: int
    county_approval_working_days: int

    def stage_working_days(self, stage: Stage) -> int | None:
        """Working days allowed for a stage, or None when the clock is not the office's."""
        return {
            Stage.SURVEY: self.survey_working_days,
            Stage.TOWNSHIP_REVIEW: self.township_review_working_days,
            Stage.COUNTY_APPROVAL: self.county_approval_working_days,
        }.get(stage)


SEED_DEFAULT = RulePack(
    id="seed-default",
    version=1,
    title="三级会审、三榜公示（种子文件默认程序）",
    posting_days=7,
    survey_working_days=20,
    township_review_working_days=20,
    county_approval_working_days=20,
)

MCA_2021 = RulePack(
    id="mca-2021",
    version=1,
    title="民政部《最低生活保障审核确认办法》（2021）",
    posting_days=7,
    survey_working_days=3,
    township_review_working_days=20,
    county_approval_working_days=10,
)

RULE_PACKS: dict[str, RulePack] = {p.id: p for p in (SEED_DEFAULT, MCA_2021)}


def get_rule_pack(pack_id: str) -> RulePack:
    try:
        return RULE_PACKS[pack_id]
    except KeyError:
        known = ", ".join(sorted(RULE_PACKS))
        raise ValueError(f"unknown rule pack {pack_id!r}; known: {known}") from None
