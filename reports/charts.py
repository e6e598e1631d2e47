"""SVG charts (pygal) for PDF reports: bar, line and radar, as ``data:`` URIs.

Made to be read on paper at a glance: counts get whole-number axes (the ticks are given,
never left to pygal, which would answer 0.1, 0.2 … for three applications), bars carry
their values, guides are thin solid lines, the palette steps in lightness so series stay
apart in greyscale, and the size fits beside a table on A4. pygal's JavaScript and tooltip
script are switched off so the SVG is static and fetches nothing; text uses the report's
CJK font.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import pygal
from pygal.style import Style

FONT = "Noto Sans CJK SC"

# Dark, light, middle, …: neighbours differ in lightness, so they stay apart when printed in grey.
PALETTE = ("#1f4e37", "#9cc5a8", "#5b8a6c", "#d6b25e", "#3c3c3c", "#b0b0b0")

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
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#666666",
    guide_stroke_color="#e3e3e3",
    major_guide_stroke_color="#cfcfcf",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
    title_font_size=15,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=12,
    value_label_font_size=12,
    opacity="1",
    opacity_hover="1",
    colors=PALETTE,
)

WIDTH = 640
HEIGHT = 300


def _config(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": WIDTH,
        "height": HEIGHT,
        "explicit_size": True,
        "print_values": False,
        "show_legend": True,
        "legend_at_bottom": True,
        "show_minor_y_labels": True,
        "truncate_label": -1,
        "truncate_legend": -1,
        "margin": 12,
        "spacing": 8,
        "no_data_text": "—",
        **extra,
    }


_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def _data_uri(svg: str | bytes) -> str:
    raw = _SCRIPT.sub(b"", svg.encode() if isinstance(svg, str) else svg)
    return "data:image/svg+xml;base64," + base64.b64encode(raw).decode("ascii")


def svg_of(uri: str) -> str:
    """The SVG text of a chart's ``data:`` URI (tests read the axis labels from it)."""
    return base64.b64decode(uri.split(",", 1)[1]).decode()


def count_ticks(highest: float, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 covering ``highest`` with at most ``most`` + 1 labels."""
    top = max(1, math.ceil(highest))
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if math.ceil(top / candidate) <= most:
            break
    else:
        step = 10 ** math.ceil(math.log10(top / most))
    return list(range(0, (math.ceil(top / step)) * step + 1, step))


def nice_ticks(highest: float, most: int = 6) -> list[float]:
    """Round ticks from 0 for amounts (1, 2 or 5 × a power of ten)."""
    if highest <= 0:
        return [0.0, 1.0]
    raw = highest / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(highest / step)
    return [round(i * step, 10) for i in range(count + 1)]


def _headroom(ticks: list[Any], highest: float) -> list[Any]:
    """One more tick when the tallest bar reaches the top, so its printed value fits."""
    if len(ticks) >= 2 and highest > ticks[-1] - (ticks[-1] - ticks[-2]) * 0.25:
        ticks = [*ticks, ticks[-1] + (ticks[-1] - ticks[-2])]
    return ticks


def _whole(value: float) -> str:
    return f"{value:,.0f}"


def _decimal(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    counts: bool = False,
    maximum: float | None = None,
    formatter: Callable[[float], str] | None = None,
    compact: bool = False,
) -> str:
    """Bars with their values printed on them; ``counts`` gives whole-number axis ticks.
    ``compact`` draws a smaller canvas for a chart set beside its table, so its text prints
    at the same size as a full-width chart's."""
    highest = max([maximum or 0.0, *(float(v) for values in series.values() for v in values)], default=0.0)
    ticks: list[Any] = count_ticks(highest) if counts else nice_ticks(maximum or highest)
    if maximum is None:
        ticks = _headroom(ticks, highest)
    shown = formatter or (_whole if counts else _decimal)
    chart = pygal.Bar(
        **_config(
            title,
            width=380 if compact else WIDTH,
            height=260 if compact else HEIGHT,
            legend_at_bottom_columns=len(series),
            x_label_rotation=30 if len(labels) > (4 if compact else 6) else 0,
            y_labels=list(ticks),
            range=(0, ticks[-1]),
            print_values=True,
            print_values_position="top",
            value_formatter=shown,
            show_legend=len(series) > 1,
        )
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        # A zero bar has no height: its printed "0" would only clutter the baseline.
        chart.add(
            name,
            [{"value": float(v), "formatter": (lambda _v: "") if not v else shown} for v in values],
        )
    return _data_uri(chart.render())


def line_chart(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *, counts: bool = False
) -> str:
    highest = max((float(v) for values in series.values() for v in values), default=0.0)
    ticks: list[Any] = _headroom(count_ticks(highest) if counts else nice_ticks(highest), highest)
    chart = pygal.Line(
        **_config(
            title,
            show_minor_x_labels=False,
            y_labels=list(ticks),
            range=(0, ticks[-1]),
            value_formatter=_whole if counts else _decimal,
            show_legend=len(series) > 1,
            dots_size=3,
            margin_right=40,
        )
    )
    chart.x_labels = list(labels)
    chart.x_labels_major = list(labels)[:: max(len(labels) // 8, 1)]
    for name, values in series.items():
        chart.add(name, [float(v) for v in values])
    return _data_uri(chart.render())


def radar_chart(
    title: str, axes: Sequence[str], series: dict[str, Sequence[float]], maximum: float = 100.0
) -> str:
    chart = pygal.Radar(
        **_config(
            title,
            range=(0, maximum),
            fill=False,
            y_labels=[maximum * i / 4 for i in range(5)],
            value_formatter=_whole,
            height=360,
            spacing=26,
            margin_top=16,
        )
    )
    chart.x_labels = list(axes)
    for name, values in series.items():
        chart.add(name, [float(v) for v in values])
    return _data_uri(chart.render())
