"""Charts of the county office's pages, drawn on the server as SVG by pygal (no script).

Each chart is served as an <img> with a data: URI: the SVG's own <style> then applies inside the
image and the page keeps its policy (no inline styles, no scripts). Every chart's figures are
also in a table on the same page, for readers who cannot see it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from dibao.domain.money import format_yuan
from dibao.domain.monthly import RURAL, URBAN, Section

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1f23",
    foreground_strong="#1b1f23",
    foreground_subtle="#57606a",
    colors=("#9e1b1b", "#0b5cad", "#1a7f37", "#9a6700", "#6e40c9"),
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
)


def _bar(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> str:
    chart = pygal.Bar(
        js=[],
        style=STYLE,
        width=640,
        height=360,
        title=title,
        x_label_rotation=20 if len(labels) > 4 else 0,
        print_values=len(labels) <= 8,
        legend_at_bottom=True,
        truncate_label=12,
        show_minor_y_labels=False,
    )
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    svg: str = chart.render(is_unicode=True, disable_xml_declaration=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def monthly_charts(
    county: Section, townships: Sequence[Section], labels: Sequence[str]
) -> dict[str, str]:
    """The 月报's charts: receiving households and persons by township, amount paid by
    township, urban/rural and category, and the month's changes by township."""
    return {
        "receiving": _bar(
            "各乡镇在保户数与人数",
            labels,
            [("户数", [t.households for t in townships]), ("人数", [t.persons for t in townships])],
        ),
        "amount": _bar(
            "各乡镇发放金额（元）",
            labels,
            [("发放金额", [float(format_yuan(t.amount_fen)) for t in townships])],
        ),
        "category": _bar(
            "全县分类施保（户）",
            ["城市", "农村", "A类", "B类", "C类"],
            [
                (
                    "户数",
                    [
                        county.by_area.get(URBAN, (0, 0))[0],
                        county.by_area.get(RURAL, (0, 0))[0],
                        *(county.by_category.get(c, (0, 0))[0] for c in ("A", "B", "C")),
                    ],
                )
            ],
        ),
        "changes": _bar(
            "本月增减（户）",
            labels,
            [
                ("新增", [t.new_households for t in townships]),
                ("停保", [t.exited for t in townships]),
                ("增发", [t.increases for t in townships]),
                ("减发", [t.reductions for t in townships]),
            ],
        ),
    }
