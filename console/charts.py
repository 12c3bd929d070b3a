"""Server-rendered SVG charts of the console (templates/console/charts.html draws them).

The geometry is worked out here, so the template only places shapes; every bar may carry a
link (the filtered list it counts), since a supervisor goes from the picture to the cases.
Colours come from classes in console/static/charts.css: the page's CSP allows no inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dibao.domain.calendar import CHINA_TZ


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str | None
    x: float
    y: float
    width: float
    height: float
    css: str = "bar"


@dataclass(frozen=True)
class HBarChart:
    """Horizontal bars, one row per label, the count at the bar's end."""

    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    row_height: int


def hbar(
    title: str,
    rows: list[tuple[str, int, str | None]],
    *,
    width: int = 560,
    label_width: int = 170,
    row_height: int = 28,
    css: str = "bar",
) -> HBarChart:
    """`rows`: (label, count, link or None), drawn in the order given."""
    top = max((n for _, n, _ in rows), default=0) or 1
    room = width - label_width - 60  # the count's text after the longest bar
    bars = tuple(
        Bar(
            label=label,
            value=n,
            href=href,
            x=label_width,
            y=i * row_height + 4,
            width=max(2.0, room * n / top) if n else 0.0,
            height=row_height - 8,
            css=css,
        )
        for i, (label, n, href) in enumerate(rows)
    )
    return HBarChart(title, bars, width, max(1, len(rows)) * row_height, label_width, row_height)


@dataclass(frozen=True)
class Series:
    name: str
    css: str


@dataclass(frozen=True)
class WeekGroup:
    label: str  # "11/23": the week's Monday
    x: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class GroupedChart:
    title: str
    series: tuple[Series, ...]
    groups: tuple[WeekGroup, ...]
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    left: int
    ticks: tuple[tuple[float, int], ...]  # (y, value) of the horizontal grid lines


def _ticks(top: int) -> list[int]:
    if top <= 5:
        return list(range(0, max(top, 1) + 1))
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        step = candidate
        if top / candidate <= 5:
            break
    else:
        step = max(1, top // 5)
    return list(range(0, top + step, step))


def weekly(
    title: str,
    weeks: Sequence[tuple[datetime, tuple[int, ...], tuple[str | None, ...]]],
    series: tuple[Series, ...],
    *,
    width: int = 1100,
    height: int = 240,
) -> GroupedChart:
    """`weeks`: (week start, one count per series, one link per series or None)."""
    left, right, plot_top, plot_bottom = 44, 8, 12, height - 34
    tallest = max((n for _, counts, _ in weeks for n in counts), default=0)
    ticks = _ticks(tallest)
    top = ticks[-1] or 1
    span = plot_bottom - plot_top
    slot = (width - left - right) / max(1, len(weeks))
    bar_w = max(3.0, (slot - 8) / max(1, len(series)))
    groups = []
    for i, (start, counts, links) in enumerate(weeks):
        x0 = left + i * slot + 4
        bars = []
        for j, (s, n, href) in enumerate(zip(series, counts, links, strict=True)):
            h = span * n / top
            bars.append(
                Bar(
                    label=s.name,
                    value=n,
                    href=href if n else None,
                    x=x0 + j * bar_w,
                    y=plot_bottom - h,
                    width=bar_w - 1,
                    height=h,
                    css=s.css,
                )
            )
        local = start.astimezone(CHINA_TZ)
        groups.append(WeekGroup(f"{local.month}/{local.day}", x0 + slot / 2 - 4, tuple(bars)))
    return GroupedChart(
        title=title,
        series=series,
        groups=tuple(groups),
        width=width,
        height=height,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        left=left,
        ticks=tuple((plot_bottom - span * t / top, t) for t in ticks),
    )
