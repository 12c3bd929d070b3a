"""The order of stages, and the decisions between them, as pure functions of the rule pack."""

import hashlib
from dataclasses import dataclass
from datetime import date

from dibao.domain.enums import Stage
from dibao.domain.rulepacks import PaymentStart, RulePack
from dibao.domain.stages import POSTING_STAGES as POSTING_STAGES  # the stage table's
from dibao.domain.stages import STAGES


def next_stage(
    pack: RulePack,
    current: Stage,
    *,
    approved: dict[Stage, bool],
    after_objection: bool,
) -> Stage:
    """The stage after `current`.

    `approved` holds the latest opinion of evaluation, township review and county approval.
    A posting is skipped when the opinion it would publish was negative (the case still goes on
    to the next level, which decides). Under a pack whose objections lead to a democratic
    evaluation (mca-2021 Art. 19), the re-examined case goes to the county without a new posting.
    """
    procedure = pack.procedure
    if current not in procedure:
        # An evaluation held only because of an objection: the township gives a new opinion.
        if current is Stage.EVALUATION:
            return Stage.TOWNSHIP_REVIEW
        raise ValueError(f"stage {current.value} is not part of {pack.id}")
    index = procedure.index(current) + 1
    while index < len(procedure):
        candidate = procedure[index]
        if candidate in POSTING_STAGES:
            # A posting publishes one opinion, and follows only a positive one.
            follows = STAGES[candidate].publishes
            assert follows is not None
            skip_negative = approved.get(follows) is False
            skip_reposting = (
                after_objection
                and pack.objection_stage is Stage.EVALUATION
                and candidate is Stage.POSTING_BEFORE_APPROVAL
            )
            if skip_negative or skip_reposting:
                index += 1
                continue
        return candidate
    return Stage.RECIPIENT


def first_stage(pack: RulePack) -> Stage:
    return pack.procedure[0]


def payment_start_month(pack: RulePack, decided_on: date) -> str:
    """First month paid, "YYYY-MM"."""
    if pack.payment_start is PaymentStart.NEXT_MONTH:
        year, month = (
            (decided_on.year + 1, 1)
            if decided_on.month == 12
            else (
                decided_on.year,
                decided_on.month + 1,
            )
        )
        return f"{year:04d}-{month:02d}"
    return f"{decided_on.year:04d}-{decided_on.month:02d}"


@dataclass(frozen=True)
class SpotCheckDraw:
    seed: str
    draw: float  # in [0, 1), from the seed and the case ID
    selected: bool
    reason: str


def spot_check(
    case_id: str, seed: str, share: float, selected_so_far: int, decided_so_far: int
) -> SpotCheckDraw:
    """Whether the county must visit this household before deciding (001 三(五): at least 20%).

    The draw is reproducible from the recorded seed, so anyone can check the selection was not
    chosen by hand; cases are also selected while the county's running share is below the
    minimum, so the share is met however the draws fall.
    """
    digest = hashlib.sha256(f"{seed}:{case_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw < share:
        return SpotCheckDraw(seed, draw, True, f"随机抽取（抽签值 {draw:.4f} < {share:.0%}）")
    if selected_so_far < share * (decided_so_far + 1):
        return SpotCheckDraw(seed, draw, True, f"补足抽查比例（已抽 {selected_so_far} 户）")
    return SpotCheckDraw(seed, draw, False, "未抽中")


def annual_selection(case_ids: list[str], seed: str, share: float) -> list[tuple[str, float, bool]]:
    """The yearly spot check of recipients (001 三(五): at least 20% a year).

    Every case gets a reproducible draw from the seed; the lowest draws are selected, exactly
    ceil(share × N) of them, so the share is met and anyone with the seed can re-check it.
    """
    draws = sorted(
        (int.from_bytes(hashlib.sha256(f"{seed}:{c}".encode()).digest()[:8], "big") / 2**64, c)
        for c in case_ids
    )
    quota = -(-len(case_ids) * round(share * 1000) // 1000)  # ceiling, without float error
    return [(case_id, draw, rank < quota) for rank, (draw, case_id) in enumerate(draws)]
