"""Rules of the 2021 measures that are neither eligibility nor money (issue 17): the remedies an
adverse notice states, where one may apply, the gradual-exit reminder, a failed check answered
(the workflow's `evidence` stage) and approval delegated to townships.

Each rule names its article (`reference/mca-2021-measures.md`) or seed line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from dibao.domain.actor import Actor
from dibao.domain.application import Application, FieldError
from dibao.domain.enums import NoticeKind, ProxyKind, Role, Stage
from dibao.domain.rulepacks import RulePack
from dibao.domain.verification import VerificationOutcome

# --- remedies (Arts. 21, 38) -----------------------------------------------------------------

# Payment changes that take something away: a reduction, a stop, a suspension (the family may
# contest each); an increase, a resumption or "no change" is not adverse.
ADVERSE_CHANGES = frozenset({"decrease", "stop", "suspend"})
# A pack's review body may start with this, for the notice to put the county's name in.
COUNTY_PLACEHOLDER = "县（市、区）"


def states_remedy(kind: NoticeKind, change: str = "") -> bool:
    """Whether a notice must tell the family how to contest it (Art. 38): refusals, ending the
    application, and reducing, stopping or suspending the benefit."""
    if kind in (NoticeKind.REFUSAL, NoticeKind.TERMINATION):
        return True
    return kind is NoticeKind.PAYMENT_CHANGE and change in ADVERSE_CHANGES


def remedy_text(pack: RulePack, county_name: str = "") -> str:
    """The sentence an adverse notice ends with: administrative review (行政复议) with the pack's
    body and period, or an administrative suit (行政诉讼) with its court and period (Art. 38;
    行政复议法 第二十条: 60 days; 行政诉讼法 第四十六条: 6 months)."""
    body = pack.review_body.strip()
    if county_name.strip() and body.startswith(COUNTY_PLACEHOLDER):
        body = county_name.strip() + body.removeprefix(COUNTY_PLACEHOLDER)
    return (
        f"如对本决定不服，可以自知道该决定之日起{pack.review_days}日内向{body}申请行政复议，"
        f"或者自知道该决定之日起{pack.litigation_months}个月内向{pack.litigation_court.strip()}"
        "提起行政诉讼（《最低生活保障审核确认办法》第三十八条）。"
    )


# --- where one may apply (Arts. 5, 6) --------------------------------------------------------


def place_of_application_problems(app: Application, pack: RulePack) -> list[FieldError]:
    """Why this county may not accept the application, or why a proxy application is not
    recorded as such; empty when it may.

    * Art. 6: a proxy (the village committee or another person) applies with a written mandate
      (the material is required by `required_materials`) and the family's reason.
    * Art. 5: when members' hukou lie in different places, the family applies where one
      member's hukou and usual residence coincide; only when no member's do may it apply at any
      member's hukou place. The application's hukou (where it is filed) must be a member's.
    * Art. 5: a residence-permit (居住证) holder may apply where they live instead, only where the
      county's pack allows it (有条件的地区).
    """
    errors: list[FieldError] = []
    if app.proxy is not None:
        if not app.proxy.name.strip():
            errors.append(FieldError(("proxy", "name"), "must name who applies for the family"))
        if not app.proxy.reason.strip():
            errors.append(
                FieldError(
                    ("proxy", "reason"),
                    "a proxy applies only when the family has difficulty applying itself "
                    "(mca-2021 Art. 6); give the reason",
                )
            )
    county = app.hukou.county_code
    here = [i for i, m in enumerate(app.members) if m.hukou_county_code in ("", county)]
    if app.residence_permit:
        if not pack.residence_permit_applications:
            errors.append(
                FieldError(
                    ("residence_permit",),
                    f"rule pack {pack.id} does not accept applications by residence-permit "
                    "holders where they live (mca-2021 Art. 5: where conditions allow); apply "
                    "at a member's hukou place",
                )
            )
        return errors
    if not here:
        errors.append(
            FieldError(
                ("members",),
                "no member's hukou lies in this county (hukou.county_code); apply at a "
                "member's hukou place (mca-2021 Art. 5)",
            )
        )
        return errors
    if len(here) == len(app.members):
        return errors
    if any(app.members[i].lives_at_hukou for i in here):
        return errors
    elsewhere = [i for i, m in enumerate(app.members) if i not in here and m.lives_at_hukou]
    if elsewhere:
        i = elsewhere[0]
        errors.append(
            FieldError(
                ("members", i, "hukou_county_code"),
                "the members' hukou lie in different places and this member's hukou and usual "
                f"residence coincide in county {app.members[i].hukou_county_code}, while no "
                "member registered here lives here: apply there (mca-2021 Art. 5)",
            )
        )
    return errors


def proxy_label(app: Application) -> str:
    """How the file and the acceptance notice record a proxy application, or ""."""
    if app.proxy is None:
        return ""
    who = "村（居）民委员会" if app.proxy.kind is ProxyKind.VILLAGE_COMMITTEE else "他人"
    return f"委托{who}（{app.proxy.name}）代为申请，已办理书面委托手续（《办法》第六条）"


# --- gradual exit (Art. 33; 004 line 42) -----------------------------------------------------


def gradual_exit_reminder_on(until_month: str, pack: RulePack) -> date:
    """The day the caseworker is reminded that a gradual exit ends: `gradual_exit_reminder_days`
    before the first day of the month from which the new wage counts (`until_month`)."""
    ends = date(int(until_month[:4]), int(until_month[5:7]), 1)
    return ends - timedelta(days=pack.gradual_exit_reminder_days)


@dataclass(frozen=True)
class RecordReminder:
    """Input of `record_reminder`: an alert to the caseworkers of the case's township (a row in
    supervisor_alerts), keyed by (case, step)."""

    case_id: str
    step_key: str
    kind: str  # at most 20 characters, e.g. "gradual_exit"
    due_at: datetime  # when what it reminds of falls due
    message: str
    raised_at: datetime


def gradual_exit_reminder_text(until_month: str, pack: RulePack) -> str:
    return (
        f"渐退期（{pack.gradual_exit_months}个月）将于 {until_month} 结束，届时就业收入计入"
        "家庭收入：请提前核实家庭收入并重新核定保障金额（《办法》第三十三条）"
    )


# --- a failed check answered (Art. 18) -------------------------------------------------------


def contradicted(outcome: VerificationOutcome | None) -> bool:
    """Art. 18: verification contradicts the declaration when the registries found something
    that differs from what the family declared (or the survey found)."""
    return outcome is not None and bool(outcome.discrepancies)


def findings(outcome: VerificationOutcome | None) -> tuple[str, ...]:
    """What was found, in words fit to show the household: the notice's list."""
    return tuple(d.message for d in outcome.discrepancies) if outcome is not None else ()


def after_verification(outcome: VerificationOutcome | None, heard: bool, following: Stage) -> Stage:
    """Art. 18: a contradicted case waits for the family's evidence (once: a re-check that
    still differs goes on with the verified figures) before the amount is decided."""
    if contradicted(outcome) and not heard:
        return Stage.EVIDENCE
    return following


class EvidenceEffect(StrEnum):
    """What the township makes of the family's evidence (Art. 18: it re-checks)."""

    RECHECK = "recheck"  # the evidence concerns the registries' data: verification runs again
    FINDINGS_STAND = "findings_stand"  # the evidence changes nothing: the verified figures hold


EVIDENCE_EFFECT_ZH: dict[EvidenceEffect, str] = {
    EvidenceEffect.RECHECK: "重新核对家庭经济状况",
    EvidenceEffect.FINDINGS_STAND: "证明材料不足以推翻核对结果，按核对结果认定",
}


@dataclass(frozen=True)
class SubmitEvidence:
    """Update `submit_evidence`: the family's evidence on the verification findings, as the
    township received it, and what it makes of it."""

    request_id: str
    actor: Actor
    received_on: str  # ISO date
    summary: str  # what the family gave (no personal data beyond the case's own)
    effect: EvidenceEffect = EvidenceEffect.RECHECK


def evidence_problems(request: SubmitEvidence) -> list[FieldError]:
    problems: list[FieldError] = []
    if not request.summary.strip():
        problems.append(FieldError(("summary",), "say what evidence the family gave"))
    elif len(request.summary) > 2000:
        problems.append(FieldError(("summary",), "at most 2000 characters"))
    return problems


@dataclass(frozen=True)
class EvidencePeriod:
    opens_on: date
    closes_on: date  # last day the family may give evidence
    notice_text: str


def evidence_period(
    told_on: date, working_days_after: list[date], findings: tuple[str, ...], pack: RulePack
) -> EvidencePeriod:
    """Art. 18: when verification contradicts the declaration the township tells the applicant
    what was found; an applicant who disagrees gives evidence within the period and the
    township re-checks before the amount is decided. `working_days_after` are the working days
    following `told_on`, in order (from the calendar); the period is the pack's
    `evidence_working_days` of them."""
    days = pack.evidence_working_days
    if days < 1:
        raise ValueError("an evidence period lasts at least one working day")
    if len(working_days_after) < days:
        raise ValueError("the calendar does not reach the end of the evidence period")
    closes = working_days_after[days - 1]
    found = "；".join(findings) or "核对结果与申报不一致"
    text = (
        f"经家庭经济状况信息核对，发现以下情况与你户申报不一致：{found}。"
        f"如有异议，请于{closes.year}年{closes.month}月{closes.day}日前（{days}个工作日内）"
        "向乡镇人民政府（街道办事处）提供相关证明材料，逾期未提供的，按核对结果认定"
        "（《办法》第十八条）。"
    )
    return EvidencePeriod(opens_on=told_on, closes_on=closes, notice_text=text)


# --- where approval sits (Art. 2) -----------------------------------------------------------


def approving_role(pack: RulePack) -> Role:
    """Art. 2: the county approves; where its pack delegates approval, the township does."""
    return Role.TOWNSHIP_CASEWORKER if pack.approval_delegated else Role.COUNTY_APPROVER


def approval_working_days(pack: RulePack) -> int | None:
    """The decision's deadline moves with it: the township decides within the county's limit."""
    return pack.county_approval_working_days


def notice_issuer(pack: RulePack, county_name: str, township_name: str) -> str:
    """In whose name a decision notice issues: the deciding body's."""
    if pack.approval_delegated:
        return f"{township_name}人民政府（街道办事处）"
    return f"{county_name}民政局"
