"""SVG charts (pygal) for PDF reports: bar, line and radar, as ``data:`` URIs.

pygal adds JavaScript links and a tooltip script by default; both are switched off so the
SVG is static and fetches nothing. Text uses the same CJK font as the report.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

FONT = "Noto Sans CJK SC"

STYLE = Style(
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    tooltip_font_family=FONT,
    value_label_font_family=FONT,
    no_data_font_family=FONT,
    background="white",
    plot_background="white",
    colors=("#2f7d4f", "#9a6700", "#3b6ea5", "#b3261e", "#6b4fa0", "#1f8a8a"),
)


def _config(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 360,
        "explicit_size": True,
        "print_values": False,
        "show_legend": True,
        "legend_at_bottom": True,
        "no_data_text": "—",
        **extra,
    }


_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def _data_uri(svg: str | bytes) -> str:
    raw = _SCRIPT.sub(b"", svg.encode() if isinstance(svg, str) else svg)
    return "data:image/svg+xml;base64," + base64.b64encode(raw).decode("ascii")


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    chart = pygal.Bar(**_config(title, x_label_rotation=30 if len(labels) > 6 else 0))
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _data_uri(chart.render())


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    chart = pygal.Line(**_config(title, show_minor_x_labels=False))
    chart.x_labels = list(labels)
    chart.x_labels_major = list(labels)[:: max(len(labels) // 8, 1)]
    for name, values in series.items():
        chart.add(name, list(values))
    return _data_uri(chart.render())


def radar_chart(
    title: str, axes: Sequence[str], series: dict[str, Sequence[float]], maximum: float = 100.0
) -> str:
    chart = pygal.Radar(**_config(title, range=(0, maximum), fill=False))
    chart.x_labels = list(axes)
    for name, values in series.items():
        chart.add(name, list(values))
    return _data_uri(chart.render())
