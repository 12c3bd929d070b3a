"""What the console's forms share: the household sections' choices, plain-form row buttons,
the API's errors put at the page's fields.

The forms (filing.py, act.py)

show on GET; POST parses it into the API's own request model, calls the same service
layer as the API (`file_application`, the actions' `act`), and redirects to the case page. An
invalid form is shown again with each error at its field, in Chinese, and nothing changes; a
refusal of the workflow (409 wrong stage, 403 role or recusal, 422 its own checks) is shown on
the page. Every form carries the page's request ID, the service layer's idempotency key, so a
double click or a reload acts once.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from console import labels
from console.errors_zh import errors_by_field, message_zh
from console.formdata import Parsed, row_count
from console.forms.specs import DOCUMENTS, EXCLUSION_ZH
from dibao.domain.enums import COUNTED_INCOME, AreaType, IncomeCategory, Relation

MEMBER_ROWS = 4  # blank rows a plain form offers; "添加一行" adds more
INCOME_ROWS = 3
APPLICATION_MULTI = frozenset({"materials", "assets.vehicles"})


def household_choices() -> dict[str, Any]:
    """Option lists of the household sections (filing, survey, re-review)."""
    return {
        "relations": [(r.value, labels.RELATION[r]) for r in Relation],
        "counted_incomes": [
            (c.value, labels.INCOME[c]) for c in IncomeCategory if c in COUNTED_INCOME
        ],
        "exempt_incomes": [
            (c.value, labels.INCOME[c]) for c in IncomeCategory if c not in COUNTED_INCOME
        ],
        "vehicles": [(k.value, v) for k, v in labels.VEHICLE.items()],
        "documents": DOCUMENTS,
        "area_types": [(AreaType.RURAL.value, "农村"), (AreaType.URBAN.value, "城市")],
        "exclusions": [(k.value, v) for k, v in EXCLUSION_ZH.items()],
    }


def row_op(op: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]] | None:
    """A row button of a plain form (no script): `add:members` or `remove:members.2`.
    Returns the values to show again and the extra rows, or None for a real submit."""
    kind, _, target = op.partition(":")
    if kind == "add" and target in {"members", "incomes"}:
        return values, {target: 1}
    if kind == "remove" and target.count(".") == 1:
        prefix = target + "."
        return {k: v for k, v in values.items() if not k.startswith(prefix)}, {}
    return None


def rows_shown(values: dict[str, Any], extra: dict[str, int]) -> dict[str, list[int]]:
    """The row numbers to show per list: those filled in, then blank ones."""
    out: dict[str, list[int]] = {}
    for name, minimum in (("members", MEMBER_ROWS), ("incomes", INCOME_ROWS)):
        used = sorted(
            {
                int(k.split(".")[1])
                for k in values
                if k.startswith(name + ".") and k.split(".")[1].isdigit()
            }
        )
        top = row_count(values, name, 0)
        blanks = max(minimum - len(used), 0) + extra.get(name, 0)
        out[name] = used + list(range(top, top + blanks))
    return out


def refusal_of(err: HTTPException) -> str:
    detail = err.detail
    if isinstance(detail, dict):
        return message_zh(str(detail.get("message", "")))
    if isinstance(detail, list) and detail:
        return message_zh(str(detail[0].get("msg", "")))
    return message_zh(str(detail))


def page_errors(parsed: Parsed, details: list[dict[str, Any]]) -> dict[str, str]:
    """The API's error details by the field of the page that holds each."""
    out: dict[str, str] = {}
    for name, message in errors_by_field(details).items():
        out.setdefault(parsed.page_name(name.split(".")) if name else "", message)
    return out
