"""The roster's row macros as markup PostgreSQL fills in: what compile_rows finds in the
template, and the macros it refuses rather than write a different page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined

from activities.payroll_activities import RosterParts, RosterTemplateError, _fill, compile_rows
from dibao.domain.payroll import PayrollRun, RosterSection
from dibao.settings import Settings

ENV = Environment(autoescape=True, undefined=StrictUndefined)


def macro(body: str) -> Any:
    return lambda rows: ENV.from_string("{% for row in rows %}" + body + "{% endfor %}").render(
        rows=rows
    )


def test_the_templates_row_macros_compile_with_the_agent_as_their_one_switch() -> None:
    parts = RosterParts(
        Settings(database_url="x").templates_dir,
        PayrollRun("610423", "2026-11", ()),
        "li.na",
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    paid = parts.row_markup(RosterSection.PAID)
    assert paid.switches == ("agent_reason",) and len(paid.variants) == 2
    for section in (RosterSection.OFFSET, RosterSection.OUTSTANDING, RosterSection.HELD):
        assert parts.row_markup(section).switches == ()


def test_a_row_is_its_fields_escaped_between_the_markup() -> None:
    template = compile_rows(
        macro("<td>{{ row.holder }}</td>{% if row.bank %}[{{ row.bank }}]{% endif %}\n")
    )
    assert template.switches == ("bank",)
    values = dict.fromkeys(
        (
            "seq",
            "holder",
            "agent_reason",
            "bank",
            "account_no",
            "certificate_no",
            "amount",
            "kinds",
            "detail",
        ),
        "",
    )
    assert _fill(template, values | {"holder": "<王&>"}) == "<td>&lt;王&amp;&gt;</td>\n"
    assert _fill(template, values | {"bank": "'\"'"}) == "<td></td>[&#39;&#34;&#39;]\n"


@pytest.mark.parametrize(
    "body",
    [
        "<td>{{ row.holder | upper }}</td>",  # a filter
        "<td>{{ loop.index }} {{ row.holder }}</td>",  # the loop's index
        "<td>{{ row.holder | length }}</td>",  # a measure of it
        "<td>{{ row.holder | safe }}</td>",  # unescaped
        "<td>{{ row.holder[:2] }}</td>",  # a slice
    ],
)
def test_a_row_macro_that_does_more_with_a_field_is_refused(body: str) -> None:
    # Not every such macro can be told: a comparison of a field with a value (`row.amount
    # == "0.00"`) behaves as a plain field for every probe. The template's header forbids
    # them; tests/db/test_payroll_files_equal.py compares whole pages on households' data.
    with pytest.raises(RosterTemplateError):
        compile_rows(macro(body))
