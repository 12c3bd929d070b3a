"""Text cells of dibao's CSV files never start a spreadsheet formula."""

from __future__ import annotations

import pytest

from dibao.domain.spreadsheet import text_cell


@pytest.mark.parametrize(
    "value", ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")']
)
def test_a_value_that_starts_like_a_formula_is_shown_as_text(value: str) -> None:
    assert text_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["王秀英", "622848000000001", "DB-ABC", "", "a=b"])
def test_other_values_are_unchanged(value: str) -> None:
    assert text_cell(value) == value
