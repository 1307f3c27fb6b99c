"""Server-rendered SVG charts of the scores document (no JavaScript; CSP-safe).

Text is escaped with :func:`markupsafe.escape`; styling uses SVG presentation attributes
only (the CSP forbids inline style). Fonts name Noto Sans CJK first so Chinese labels never
fall back to missing glyphs where fonts-noto-cjk is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from survey_app.services.scores_model import (
    BreakdownRow,
    Cell,
    ImportancePerformance,
    Interval,
    RatingItem,
    ScoresDocument,
)

FONT = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
BAR = "#0b5cad"
CI = "#1a1a1a"
TARGET = "#b00020"


@dataclass(frozen=True)
class RateBar:
    """One bar of :func:`rate_bar_chart`: a rate (0-1) and its 95 % interval.

    ``rate`` is None for a suppressed cell (drawn as its label with "counts only").
    """

    label: str
    rate: float | None
    ci: Interval | None


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start",
          weight: str = "normal", fill: str = "#1a1a1a") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="{FONT}" '
            f'text-anchor="{anchor}" font-weight="{weight}" fill="{fill}">{escape(text)}</text>')


def _svg(parts: list[str]) -> Markup:
    # Every piece of text went through escape() in _text or the <title> lines.
    return Markup("".join(parts))  # noqa: S704


def rate_bar_chart(rows: Sequence[RateBar], *, title: str,
                   target: float | None = None) -> Markup:
    """Horizontal bars of satisfaction rates with their 95 % intervals.

    Rows without a rate (suppressed cells) are drawn as a label with "counts only".
    """
    # The label column fits the longest label (up to 230 px), not a fixed 230 px: on a phone
    # the bars would otherwise start off-screen.
    longest = max((_label_width(row.label, 12) for row in rows), default=0)
    label_w, plot_w, row_h, top = int(min(230, max(90, longest + 16))), 420, 26, 46
    height = top + row_h * len(rows) + 40
    width = label_w + plot_w + 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f"<title>{escape(title)}</title>",
             _text(8, 20, title, size=15, weight="bold")]
    x0 = label_w

    def sx(v: float) -> float:
        return x0 + v * plot_w

    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{sx(tick):.1f}" y1="{top - 6}" x2="{sx(tick):.1f}" '
                     f'y2="{height - 34}" stroke="#ccc" stroke-width="1"/>')
        parts.append(_text(sx(tick), height - 18, f"{tick:.0%}", size=11, anchor="middle"))
    for i, row in enumerate(rows):
        y = top + i * row_h
        parts.append(_text(x0 - 8, y + 15, row.label, anchor="end"))
        if row.rate is None:
            parts.append(_text(x0 + 4, y + 15, "少于5人，仅显示人数", size=11, fill="#555"))
            continue
        parts.append(f'<rect x="{x0}" y="{y + 4}" width="{row.rate * plot_w:.1f}" '
                     f'height="{row_h - 10}" fill="{BAR}" fill-opacity="0.75"/>')
        if row.ci and None not in row.ci:
            lo, hi = sx(row.ci[0]), sx(row.ci[1])
            mid = y + row_h / 2 - 1
            parts.append(f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" '
                         f'stroke="{CI}" stroke-width="1.5"/>')
            for x in (lo, hi):
                parts.append(f'<line x1="{x:.1f}" y1="{mid - 5:.1f}" x2="{x:.1f}" '
                             f'y2="{mid + 5:.1f}" stroke="{CI}" stroke-width="1.5"/>')
        parts.append(_text(sx(1.0) + 6, y + 15, f"{row.rate * 100:.1f}%", size=11))
    if target is not None:
        parts.append(f'<line x1="{sx(target):.1f}" y1="{top - 10}" x2="{sx(target):.1f}" '
                     f'y2="{height - 34}" stroke="{TARGET}" stroke-width="1.5" '
                     f'stroke-dasharray="4 3"/>')
        parts.append(_text(sx(target), top - 14, f"目标 {target:.0%}", size=11, anchor="middle",
                           fill=TARGET))
    parts.append("</svg>")
    return _svg(parts)


def _label_width(text: str, size: int) -> float:
    # A CJK glyph is about one em wide, a Latin letter or digit about 0.6 em.
    return sum(size if ord(c) > 0x2e80 else 0.6 * size for c in text)


def place_labels(anchors: Sequence[tuple[float, float]], labels: Sequence[str], *,
                 width: float, size: int = 11) -> list[tuple[float, float, str]]:
    """Where to write each point's label so that no two labels overlap (greedy).

    Each label tries the right of its point, then the left, then steps up and down in
    line heights, keeping inside ``0..width`` and off every point; returns
    ``(x, y, text-anchor)`` per label, in the order given. Points close together
    (similar dimensions in the IPA chart) would otherwise print their names on top of
    each other.

    >>> place_labels([(100, 100), (102, 101)], ["政策知晓", "居住条件改善"], width=640)
    [(93, 94, 'end'), (109, 95, 'start')]
    """
    # The dots themselves are obstacles too: a name must not cover another point.
    boxes = [(x - 6, y - 6, x + 6, y + 6) for x, y in anchors]
    placed: list[tuple[float, float, str] | None] = [None] * len(labels)
    steps = [0, 14, -14, 28, -28, 42, -42, 56, -56]
    for i in sorted(range(len(labels)), key=lambda k: anchors[k][1]):
        (x, y), w = anchors[i], _label_width(labels[i], size)
        candidates = [(x + 7, y - 6 + dy, "start") for dy in steps]
        candidates[1:1] = [(x - 7, y - 6, "end")]
        fallback = candidates[0]
        for cx, cy, anchor in candidates:
            left = cx if anchor == "start" else cx - w
            box = (left, cy - size, left + w, cy + 2)
            if box[0] < 0 or box[2] > width:
                continue
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                       for b in boxes):
                boxes.append(box)
                placed[i] = (cx, cy, anchor)
                break
        else:
            placed[i] = fallback
    return placed  # type: ignore[return-value]


def _labelled_points(parts: list[str], points, sx, sy, *, width: float) -> None:
    anchors = [(sx(p.importance), sy(p.performance)) for p in points]
    labels = [p.label for p in points]
    for x, y in anchors:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{BAR}"/>')
    for (x, y, anchor), label in zip(place_labels(anchors, labels, width=width), labels,
                                     strict=True):
        parts.append(_text(x, y, label, size=11, anchor=anchor))


def ipa_chart(ipa: ImportancePerformance | None, *, title: str) -> Markup:
    """Importance-performance scatter with the crosshair (quadrant lines) and labels."""
    width, height, left, top, plot_w, plot_h = 640, 440, 70, 46, 520, 340
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f"<title>{escape(title)}</title>", _text(8, 20, title, size=15, weight="bold")]
    points = [p for p in (ipa.points if ipa else [])
              if p.importance is not None and p.performance is not None]
    if not points:
        parts.append(_text(left, top + 20, "数据不足，无法绘制", fill="#555"))
        parts.append("</svg>")
        return _svg(parts)
    imps = [p.importance for p in points] + [ipa.importance_cut or 0]
    perfs = [p.performance for p in points] + [ipa.performance_cut or 0]
    i_lo, i_hi = min(imps) - 0.05, max(imps) + 0.05
    p_lo, p_hi = min(perfs) - 2, max(perfs) + 2

    def sx(v):
        return left + (v - i_lo) / (i_hi - i_lo) * plot_w

    def sy(v):
        return top + plot_h - (v - p_lo) / (p_hi - p_lo) * plot_h

    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
                 f'stroke="#999"/>')
    if ipa.importance_cut is not None:
        x = sx(ipa.importance_cut)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                     f'stroke="{TARGET}" stroke-dasharray="4 3"/>')
    if ipa.performance_cut is not None:
        y = sy(ipa.performance_cut)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="{TARGET}" stroke-dasharray="4 3"/>')
    _labelled_points(parts, points, sx, sy, width=width)
    parts.append(_text(left + plot_w / 2, height - 12, "重要性（与总体满意度的等级相关系数）",
                       anchor="middle"))
    parts.append(f'<text x="16" y="{top + plot_h / 2:.1f}" font-size="12" font-family="{FONT}" '
                 f'text-anchor="middle" transform="rotate(-90 16 {top + plot_h / 2:.1f})">'
                 f'{escape("表现（线性指数）")}</text>')
    for v in (i_lo + 0.05, i_hi - 0.05):
        parts.append(_text(sx(v), top + plot_h + 16, f"{v:.2f}", size=10, anchor="middle"))
    for v in (p_lo + 2, p_hi - 2):
        parts.append(_text(left - 6, sy(v) + 4, f"{v:.1f}", size=10, anchor="end"))
    parts.append("</svg>")
    return _svg(parts)


def item_label(doc: ScoresDocument, item: RatingItem) -> str:
    """An item as the charts and the report name it: by its dimension (总体满意度 for the
    overall item)."""
    if item.overall:
        return "总体满意度"
    return doc.dimension_labels().get(item.dimension, item.id)


def item_rate_rows(doc: ScoresDocument, cell: Cell) -> list[RateBar]:
    """Bars for :func:`rate_bar_chart` from one cell of the scores document."""
    rows = []
    for item in doc.items:
        c = None if cell.suppressed else cell.items[item.id]
        rows.append(RateBar(item_label(doc, item), c.rate if c else None,
                            c.rate_ci if c else None))
    return rows


def breakdown_rate_rows(rows: Sequence[BreakdownRow], overall_item: str) -> list[RateBar]:
    """The overall item's rate in each group, project or community."""
    bars = []
    for row in rows:
        c = None if row.suppressed else row.items[overall_item]
        bars.append(RateBar(row.label, c.rate if c else None, c.rate_ci if c else None))
    return bars


def dashboard_figures(doc: ScoresDocument, target: float | None) -> dict[str, Markup]:
    """The dashboard's charts by name; ``target``: the indicator's target rate, if any."""
    return {
        "items": rate_bar_chart(item_rate_rows(doc, doc.pooled),
                                title="各维度满意率（加权）及95%置信区间", target=target),
        "groups": rate_bar_chart(breakdown_rate_rows(doc.groups, doc.overall_item),
                                 title="各类住户总体满意率", target=target),
        "communities": rate_bar_chart(breakdown_rate_rows(doc.communities, doc.overall_item),
                                      title="各社区总体满意率", target=target),
        "ipa": ipa_chart(doc.ipa, title="重要性—表现分析（IPA）"),
    }
