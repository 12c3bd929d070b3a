"""The actions a signed-in user may take on a case now, with the reason for each one not.

Pure: the API lists them on `GET /cases/{id}` and the web console draws its buttons from them,
so a user sees before acting what the API and the workflow would refuse (the role, the
jurisdiction, a recusal, the stage). The workflow decides last: a few checks need what only it
holds (an extension already granted, a step of the stage already claimed by a colleague), so
an offered action may still be refused with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from dibao.domain.access import place_denial, recusal_denial, role_denial
from dibao.domain.actions import Action
from dibao.domain.actor import Actor
from dibao.domain.enums import CaseStatus, Stage
from dibao.domain.stages import CASE_ACTION_ROLES, STAGES, stages_accepting

# The case actions a user takes on one case, in the order a console shows them. Filing makes a
# case (no case to offer it on); a standard change is the county's, applied by its batch.
OFFERED: tuple[Action, ...] = tuple(
    a for a in CASE_ACTION_ROLES if a not in (Action.FILE_APPLICATION, Action.CHANGE_STANDARD)
)


@dataclass(frozen=True)
class CaseFacts:
    """What the offer depends on, as the case view (or its projection row) shows it."""

    stage: Stage
    status: CaseStatus
    county_code: str
    township_code: str
    village_code: str
    recused_staff: tuple[str, ...] = ()
    materials_missing: bool = False
    review_due: bool = False
    open_incidents: int = 0
    approval_delegated: bool = False  # mca-2021 Art. 2: the township approves


@dataclass(frozen=True)
class OfferedAction:
    action: Action
    allowed: bool
    reason: str = ""  # why not, when not allowed; "" when allowed


def action_denial(facts: CaseFacts, actor: Actor, action: Action) -> str | None:
    """Role, then jurisdiction, then recusal (as the API refuses, 403), then the stage and
    what the stage waits for (as the workflow refuses, 409): the first reason, or None."""
    who = (
        role_denial(action, actor.role, facts.approval_delegated)
        or place_denial(
            actor.jurisdiction, facts.county_code, facts.township_code, facts.village_code
        )
        or recusal_denial(actor.id, facts.recused_staff)
    )
    if who:
        return who
    if action is Action.OPERATE:
        return None if facts.open_incidents else "no step of this case waits for ops"
    if not facts.status.is_open or facts.stage is Stage.CLOSED:
        return f"the case is closed ({facts.status.value})"
    entry = STAGES[facts.stage]
    if action not in entry.accepts:
        where = ", ".join(f"'{s.value}' ({STAGES[s].label})" for s in stages_accepting(action))
        return (
            f"the case is at stage '{facts.stage.value}' ({entry.label}); "
            f"this action belongs to {where or 'no stage'}"
        )
    if action is Action.MATERIALS and not facts.materials_missing:
        return "materials are already complete"
    if action is Action.REVIEW and not facts.review_due:
        return "no re-review is due yet"
    return None


def offered_actions(facts: CaseFacts, actor: Actor) -> tuple[OfferedAction, ...]:
    offers = []
    for action in OFFERED:
        reason = action_denial(facts, actor, action)
        offers.append(OfferedAction(action, reason is None, reason or ""))
    return tuple(offers)
