"""The yearly recipient spot check: reproducible, and never below the share."""

from __future__ import annotations

from dibao.domain.procedure import annual_selection


def test_at_least_the_share_is_selected_and_the_draw_is_reproducible() -> None:
    cases = [f"DB-{n:012d}" for n in range(37)]
    first = annual_selection(cases, "seed-2027", 0.2)
    assert sum(selected for _, _, selected in first) == 8  # ceil(37 × 20%)
    assert annual_selection(list(reversed(cases)), "seed-2027", 0.2) == first
    other = annual_selection(cases, "another-seed", 0.2)
    assert {c for c, _, s in other if s} != {c for c, _, s in first if s}


def test_no_recipients_selects_nobody() -> None:
    assert annual_selection([], "seed", 0.2) == []
