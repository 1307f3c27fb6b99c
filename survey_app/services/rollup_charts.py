"""The roll-up page's charts: the counties' rates with intervals (bars, as the dashboard
draws them) and the funnel plot, as server-rendered SVG (no JavaScript; CSP-safe; Chinese
labels in Noto Sans CJK, like :mod:`survey_app.services.charts`)."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from survey_app.services.charts import (
    BAR,
    FONT,
    TARGET,
    RateBar,
    _svg,
    _text,
    place_labels,
    rate_bar_chart,
)
from survey_app.services.rollup_model import RollupDocument

#: Colour of a county by its place on the funnel.
POSITION_COLOURS = {"within": BAR, "high_95": "#1b7f3b", "low_95": "#b36b00",
                    "high_998": "#0d5c27", "low_998": TARGET}


def league_chart(doc: RollupDocument) -> Markup:
    """Each county's overall satisfaction rate with its 95 % interval, league order."""
    rows = [RateBar(f"{r.rank}. {r.name}", r.rate.estimate, r.rate.ci) for r in doc.counties]
    return rate_bar_chart(rows, title="各县（区）总体满意率及95%置信区间")


def _frame(doc: RollupDocument):
    """Axis ranges: sizes on a log scale, rates around the limits and the points."""
    line = doc.funnel
    sizes = [math.log10(s) for s in line.sizes]
    values = [*line.low_998, *line.high_998,
              *(r.rate.estimate for r in doc.counties if r.rate.estimate is not None)]
    low, high = max(0.0, min(values) - 0.02), min(1.0, max(values) + 0.02)
    return (sizes[0], sizes[-1]), (low, high if high > low else low + 0.05)


def funnel_chart(doc: RollupDocument, *, title: str = "漏斗图：各县（区）满意率与全域满意率比较"
                 ) -> Markup:
    """Rate against effective sample size, with the 95 % and 99.8 % limits around the
    region's rate; counties outside the limits are coloured and named."""
    width, height, left, top, plot_w, plot_h = 680, 440, 64, 46, 580, 330
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f"<title>{escape(title)}</title>", _text(8, 20, title, size=15, weight="bold")]
    if doc.funnel is None or doc.rate.estimate is None:
        parts += [_text(left, top + 20, "数据不足，无法绘制", fill="#555"), "</svg>"]
        return _svg(parts)
    (x_lo, x_hi), (y_lo, y_hi) = _frame(doc)

    def sx(size: float) -> float:
        return left + (math.log10(size) - x_lo) / (x_hi - x_lo) * plot_w

    def sy(rate: float) -> float:
        return top + plot_h - (rate - y_lo) / (y_hi - y_lo) * plot_h

    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
                 f'fill="none" stroke="#999"/>')
    _gridlines(parts, sx, sy, (x_lo, x_hi), (y_lo, y_hi), left, top, plot_w, plot_h)
    line = doc.funnel
    for values, dash in ((line.low_95, "5 3"), (line.high_95, "5 3"),
                         (line.low_998, ""), (line.high_998, "")):
        points = " ".join(f"{sx(s):.1f},{sy(min(max(v, y_lo), y_hi)):.1f}"
                          for s, v in zip(line.sizes, values, strict=True))
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="#555" '
                     f'stroke-width="1.2"{extra}/>')
    y0 = sy(doc.rate.estimate)
    parts.append(f'<line x1="{left}" y1="{y0:.1f}" x2="{left + plot_w}" y2="{y0:.1f}" '
                 f'stroke="{TARGET}" stroke-width="1.5"/>')
    parts.append(_text(left + plot_w - 4, y0 - 5, f"全域 {doc.rate.estimate:.1%}", size=11,
                       anchor="end", fill=TARGET))
    drawn = [row for row in doc.counties
             if row.effective_n is not None and row.rate.estimate is not None]
    anchors = [(sx(row.effective_n), sy(row.rate.estimate)) for row in drawn]
    for row, (x, y) in zip(drawn, anchors, strict=True):
        colour = POSITION_COLOURS.get(row.funnel or "within", BAR)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
                     f"<title>{escape(row.name)} {row.rate.estimate:.1%}</title></circle>")
    # Counties of similar size and rate sit close together: names placed so none overlaps.
    names = [row.name for row in drawn]
    for (x, y, anchor), name in zip(place_labels(anchors, names, width=width), names,
                                    strict=True):
        parts.append(_text(x, y, name, size=11, anchor=anchor))
    parts.append(_text(left + plot_w / 2, height - 30, "有效样本量（对数刻度）", anchor="middle"))
    parts.append(_text(left, height - 10, "虚线：95%控制限；实线：99.8%控制限",
                       size=11, fill="#555"))
    parts.append(f'<text x="16" y="{top + plot_h / 2:.1f}" font-size="12" font-family="{FONT}" '
                 f'text-anchor="middle" transform="rotate(-90 16 {top + plot_h / 2:.1f})">'
                 f'{escape("总体满意率")}</text>')
    parts.append("</svg>")
    return _svg(parts)


def _gridlines(parts, sx, sy, xs, ys, left, top, plot_w, plot_h) -> None:
    """Tick labels: sizes at powers of ten and their doubles/fives, rates every 5 points."""
    for exponent in range(int(math.floor(xs[0])), int(math.ceil(xs[1])) + 1):
        for mantissa in (1, 2, 5):
            size = mantissa * 10**exponent
            if xs[0] <= math.log10(size) <= xs[1]:
                x = sx(size)
                parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" '
                             f'y2="{top + plot_h}" stroke="#eee"/>')
                parts.append(_text(x, top + plot_h + 16, f"{size:g}", size=10,
                                   anchor="middle"))
    step = 0.05
    tick = math.ceil(ys[0] / step) * step
    while tick <= ys[1] + 1e-9:
        y = sy(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#eee"/>')
        parts.append(_text(left - 6, y + 4, f"{tick:.0%}", size=10, anchor="end"))
        tick += step
