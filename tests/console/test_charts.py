"""The console's SVG chart geometry: bars scale to the largest, keep their links, and a week
with nothing counted is still drawn (empty), so the weeks stay evenly spaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console import charts


def test_horizontal_bars_scale_to_the_largest_and_keep_their_links() -> None:
    chart = charts.hbar("t", [("甲镇", 10, "/a"), ("乙镇", 5, None), ("丙镇", 0, "/c")])
    big, half, none = chart.bars
    assert big.width == 2 * half.width and none.width == 0
    assert (big.href, half.href) == ("/a", None)
    assert chart.height == 3 * chart.row_height


def test_weekly_groups_are_evenly_spaced_and_only_counted_bars_link() -> None:
    start = datetime(2026, 11, 29, 16, tzinfo=UTC)  # Monday 00:00 in China
    weeks = [
        (start - timedelta(weeks=1), (0, 0, 0), (None, None, "/o")),
        (start, (4, 2, 1), (None, None, "/o")),
    ]
    chart = charts.weekly(
        "t",
        weeks,
        (charts.Series("a", "filed"), charts.Series("b", "closed"), charts.Series("c", "overdue")),
    )
    first, second = chart.groups
    assert second.label == "11/30" and second.x > first.x
    assert [b.href for b in first.bars] == [None, None, None]  # nothing to open
    assert second.bars[2].href == "/o"
    assert second.bars[0].height == 2 * second.bars[1].height
    assert chart.ticks[0][1] == 0 and chart.ticks[-1][1] >= 4
