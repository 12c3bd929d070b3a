"""Papers a household asks for: the 低保证, a 低保证明 letter (audited: who printed it and
why), and the household's whole file as one PDF for the archive (WeasyPrint; the CJK glyphs
come from Debian's fonts-noto-cjk and are embedded in the PDF)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dibao.db import (
    audit_repo,
    cases_repo,
    letters_repo,
    notices_repo,
    payroll_repo,
    procedure_repo,
)
from dibao.db.golive_models import CertificateLetterRow
from dibao.domain.ledger import AREA_LABELS, RELATIONS
from dibao.domain.money import format_yuan
from dibao.domain.verification import DEPARTMENT_LABELS
from dibao.messages.case import Actor, CaseView
from dibao.notices.render import render_page

_RELATION_LABELS = {v: k for k, v in reversed(RELATIONS.items())}
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)


class NoEntitlement(LookupError):
    """The case has no entitlement (never approved or imported): there is nothing to certify."""


@dataclass(frozen=True)
class Household:
    case_id: str
    payload: dict[str, Any]
    certificate_no: str
    category: str
    amount_fen: int
    from_month: str
    paid_members: int
    village_code: str
    county_code: str
    filed_at: datetime
    area_type: str


async def household(session: AsyncSession, case_id: str) -> Household:
    case = await cases_repo.get_case(session, case_id)
    app = await cases_repo.get_application_payload(session, case_id)
    assert case is not None and app is not None
    changes = await procedure_repo.entitlements_for_case(session, case_id)
    if not changes:
        raise NoEntitlement(case_id)
    latest = max(changes, key=lambda e: (e.effective_month, e.id))
    first = min(changes, key=lambda e: (e.effective_month, e.id))
    return Household(
        case_id=case_id,
        payload=app.payload,
        certificate_no=latest.certificate_no,
        category=latest.category,
        amount_fen=latest.monthly_amount_fen,
        from_month=first.effective_month,
        paid_members=latest.paid_members or len(app.payload.get("members", [])),
        village_code=case.village_code,
        county_code=case.county_code,
        filed_at=case.filed_at,
        area_type=case.area_type,
    )


def _members(payload: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "name": m["name"],
            "relation": _RELATION_LABELS.get(m["relation"], m["relation"]),
            "id_number": m["id_number"],
        }
        for m in payload.get("members", [])
    ]


def _common(h: Household, printed_at: datetime) -> dict[str, Any]:
    members = _members(h.payload)
    head = next(
        (m for m in h.payload.get("members", []) if m["relation"] == "head"),
        h.payload["members"][0],
    )
    return {
        "case_id": h.case_id,
        "certificate_no": h.certificate_no,
        "head_name": head["name"],
        "head_id_number": head["id_number"],
        "members": members,
        "paid_members": h.paid_members,
        "category": h.category,
        "amount": format_yuan(h.amount_fen),
        "from_month": h.from_month,
        "address": h.payload.get("hukou", {}).get("address", ""),
        "village_code": h.village_code,
        "area_label": AREA_LABELS.get(_area(h.area_type), h.area_type),
        "county_label": f"{h.county_code}县",
        "printed_at": printed_at,
    }


def _area(value: str) -> Any:
    from dibao.domain.enums import AreaType

    return AreaType(value)


def certificate_html(templates: Path, h: Household, printed_at: datetime) -> str:
    return render_page(templates, "papers/certificate.html.j2", _common(h, printed_at))


async def print_letter(
    session: AsyncSession,
    templates: Path,
    h: Household,
    actor: Actor,
    purpose: str,
    printed_at: datetime,
) -> str:
    """The 低保证明 for `purpose`, recorded with who printed it in the letters and the audit log."""
    row = await letters_repo.record(session, h.case_id, actor, purpose, printed_at)
    return letter_page(templates, h, row)


def letter_page(templates: Path, h: Household, row: CertificateLetterRow) -> str:
    """A letter already issued, as printed then (shown again without a new record)."""
    context = {
        **_common(h, row.printed_at),
        "purpose": row.purpose,
        "printed_by": row.printed_by,
        "letter_no": f"{h.certificate_no}-Z{row.id}",
    }
    return render_page(templates, "papers/letter.html.j2", context)


def _procedure(view: CaseView | None) -> dict[str, Any]:
    if view is None:
        return {
            "survey": None,
            "verification": None,
            "evaluation": None,
            "decisions": [],
            "postings": [],
        }
    p = view.procedure
    survey = None
    if p.survey is not None:
        survey = {
            "visited_on": p.survey.surveyed_on,
            "surveyors": "、".join(p.survey.investigators),
            "findings": p.survey.living_conditions,
        }
    verification = None
    if p.verification is not None:
        checked = "、".join(DEPARTMENT_LABELS[d] for d in p.verification.checked)
        verification = [f"已核对：{checked}"] + [d.message for d in p.verification.discrepancies]
    evaluation = None
    if p.evaluation is not None:
        e = p.evaluation
        evaluation = (
            f"{e.held_on} 评议，到会{e.attendees}人，赞成{e.votes_for}、反对{e.votes_against}、"
            f"弃权{e.votes_abstain}。{e.notes}"
        )
    decisions: list[str] = []
    if p.township_review is not None:
        t = p.township_review
        decisions.append(f"乡镇审核：{t.opinion.value}（{t.actor.id}）{'；'.join(t.reasons)}")
    if p.county_visit is not None:
        decisions.append(f"县级入户：{p.county_visit.visited_on} {p.county_visit.findings}")
    if p.decision is not None:
        d = p.decision
        decisions.append(f"县级审批：{d.opinion.value}（{d.actor.id}）{'；'.join(d.reasons)}")
    return {
        "survey": survey,
        "verification": verification,
        "evaluation": evaluation,
        "decisions": decisions,
        "postings": [
            {
                "stage": ref.stage.value,
                "opens_at": ref.opens_at,
                "closes_at": ref.closes_at,
                "outcome": ref.outcome.value,
            }
            for ref in p.postings
        ],
    }


async def household_file_html(
    session: AsyncSession,
    templates: Path,
    case_id: str,
    view: CaseView | None,
    printed_at: datetime,
    no_procedure_reason: str = "",
) -> str:
    case = await cases_repo.get_case(session, case_id)
    app = await cases_repo.get_application_payload(session, case_id)
    assert case is not None and app is not None
    changes = await procedure_repo.entitlements_for_case(session, case_id)
    notices = await notices_repo.list_for_case(session, case_id)
    payments = await payroll_repo.lines_for_case(session, case_id)
    audit = await audit_repo.list_for_case(session, case_id)
    incomes = [
        f"{i['category']} {format_yuan(int(i.get('monthly_fen', 0)))}元/月"
        for i in app.payload.get("incomes", [])
        if isinstance(i, dict) and "monthly_fen" in i
    ]
    context = {
        "case_id": case_id,
        "certificate_no": changes[-1].certificate_no if changes else "",
        "address": app.payload.get("hukou", {}).get("address", ""),
        "village_code": case.village_code,
        "area_label": AREA_LABELS.get(_area(case.area_type), case.area_type),
        "filed_at": case.filed_at,
        "members": _members(app.payload),
        "incomes": incomes,
        "printed_at": printed_at,
        "no_procedure_reason": no_procedure_reason or "未经此程序",
        **_procedure(view),
        "notices": [
            {
                "kind": n.kind,
                "issued_at": n.issued_at,
                "notice_id": n.notice_id,
                # Our own notice, rendered autoescaped when it was issued: its body is kept.
                "body": _notice_body(n.content),
            }
            for n in notices
        ],
        "entitlements": [
            {
                "effective_month": e.effective_month,
                "change_kind": e.change_kind,
                "amount": format_yuan(e.monthly_amount_fen),
                "category": e.category,
                "reason": e.reason,
            }
            for e in changes
        ],
        "payments": [
            {
                "run_id": line.run_id,
                "month": line.month,
                "kind": line.kind,
                "amount": format_yuan(line.amount_fen),
                "status": line.run_status,
            }
            for line in payments
        ],
        "audit": [
            {
                "at": a.at.isoformat(timespec="minutes"),
                "action": a.action,
                "actor_id": a.actor_id,
                "actor_role": a.actor_role,
            }
            for a in audit
        ],
    }
    return render_page(templates, "papers/household_file.html.j2", context)


def _notice_body(content: str) -> Any:
    from markupsafe import Markup

    found = _BODY.search(content)
    return Markup(found.group(1) if found else content)


def to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
