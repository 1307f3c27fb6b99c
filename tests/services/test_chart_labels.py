"""The IPA chart writes its dimension names where none covers another.

The points are the demo campaign's (heshan-2021) importance-performance positions in the
chart's pixel space, where 公开公平, 资金发放及时足额 and 信息公开 (and 政策知晓 beside
居住条件改善) used to print on top of each other.
"""

import re

import pytest

from survey_app.services.charts import _label_width, ipa_chart, place_labels

SIZE = 11


def _boxes(placed, labels):
    for (x, y, anchor), label in zip(placed, labels, strict=True):
        w = _label_width(label, SIZE)
        left = x if anchor == "start" else x - w
        yield left, y - SIZE, left + w, y + 2


def _overlaps(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


CLUSTER = {  # label: (x, y) in pixels, read off the demo's chart
    "政策知晓": (421.0, 258.0), "居住条件改善": (430.0, 262.0), "公开公平": (562.0, 277.0),
    "资金发放及时足额": (520.0, 280.0), "信息公开": (540.0, 290.0), "办理便捷": (421.0, 303.0),
    "工作人员服务态度": (376.0, 152.0), "补偿标准": (520.0, 387.0), "投诉处理": (548.0, 460.0),
}


def test_close_points_get_labels_that_do_not_overlap():
    labels = list(CLUSTER)
    naive = [(x + 7, y - 6, "start") for x, y in CLUSTER.values()]  # the old placement
    old = list(_boxes(naive, labels))
    assert any(_overlaps(old[i], old[j]) for i in range(len(old)) for j in range(i))
    placed = place_labels(list(CLUSTER.values()), labels, width=640, size=SIZE)
    boxes = list(_boxes(placed, labels))
    clashes = [(labels[i], labels[j]) for i in range(len(boxes)) for j in range(i)
               if _overlaps(boxes[i], boxes[j])]
    assert clashes == []
    dots = [(x - 5, y - 5, x + 5, y + 5) for x, y in CLUSTER.values()]
    assert not any(_overlaps(box, dot) for box in boxes for dot in dots)
    assert all(b[0] >= 0 and b[2] <= 640 for b in boxes)  # inside the chart


def test_a_lone_point_keeps_its_label_up_and_to_the_right():
    assert place_labels([(100.0, 100.0)], ["政策知晓"], width=640) == [(107.0, 94.0, "start")]


@pytest.mark.parametrize("wide", [False, True])
def test_the_chart_writes_every_label_once(wide):
    class Point:
        def __init__(self, label, importance, performance):
            self.label, self.importance, self.performance = label, importance, performance

    class Ipa:
        importance_cut, performance_cut = 0.5, 85.0
        points = [Point("公开公平", 0.528, 85.55), Point("资金发放及时足额", 0.514, 85.12),
                  Point("信息公开", 0.520, 84.16)] + ([Point("投诉处理", 0.9, 60.0)] if wide
                                                     else [])

    svg = str(ipa_chart(Ipa(), title="重要性—表现分析（IPA）"))
    for label in ("公开公平", "资金发放及时足额", "信息公开"):
        assert len(re.findall(f">{label}<", svg)) == 1


class _Point:
    def __init__(self, label, importance, performance):
        self.label, self.importance, self.performance = label, importance, performance


class _NearTheMeans:
    """Dimensions just beside the mean lines, where the label right of a dot crossed the
    dashed line (ux4): 信息公开 left of the importance mean, 办理便捷 under the
    performance mean, 公开公平 close to where the two lines cross."""
    importance_cut, performance_cut = 0.50, 85.0
    points = [_Point("信息公开", 0.49, 83.0), _Point("办理便捷", 0.40, 84.6),
              _Point("公开公平", 0.505, 84.7), _Point("政策知晓", 0.30, 90.0),
              _Point("补偿标准", 0.70, 78.0), _Point("投诉处理", 0.60, 88.0)]


def _svg_parts(svg):
    number = r"(-?[\d.]+)"
    dashed = [tuple(float(v) for v in m) for m in re.findall(
        rf'<line x1="{number}" y1="{number}" x2="{number}" y2="{number}"[^>]*dasharray', svg)]
    dots = [(float(x), float(y)) for x, y in re.findall(
        rf'<circle cx="{number}" cy="{number}"', svg)]
    texts = re.findall(rf'<text x="{number}" y="{number}" font-size="11"[^>]*'
                       r'text-anchor="(\w+)"[^>]*>([^<]+)</text>', svg)
    return dashed, dots, [(float(x), float(y), anchor, label) for x, y, anchor, label in texts]


def _text_box(x, y, anchor, label):
    w = _label_width(label, SIZE)
    left = {"start": x, "middle": x - w / 2}.get(anchor, x - w)
    return left, y - SIZE, left + w, y + 2


def test_labels_keep_off_the_dashed_mean_lines_and_every_dot():
    svg = str(ipa_chart(_NearTheMeans(), title="重要性—表现分析（IPA）"))
    dashed, dots, texts = _svg_parts(svg)
    assert len(dashed) == 2 and len(dots) == len(texts) == 6
    lines = [(min(x1, x2) - 1, min(y1, y2) - 1, max(x1, x2) + 1, max(y1, y2) + 1)
             for x1, y1, x2, y2 in dashed]
    boxes = [_text_box(*text) for text in texts]
    crossing = [text[3] for text, box in zip(texts, boxes, strict=True)
                if any(_overlaps(box, line) for line in lines)]
    assert crossing == []
    covered = [text[3] for text, box in zip(texts, boxes, strict=True)
               if any(_overlaps(box, (x - 5, y - 5, x + 5, y + 5)) for x, y in dots)]
    assert covered == []
    # Each name stays next to its own dot (within four line heights), not anywhere free.
    for (x, y), box in zip(dots, boxes, strict=True):
        assert box[0] - 60 <= x <= box[2] + 60 and abs((box[1] + box[3]) / 2 - y) <= 60


def test_the_old_placement_crossed_the_mean_lines():
    """The check above would have caught the labels written right of each dot."""
    svg = str(ipa_chart(_NearTheMeans(), title="IPA"))
    dashed, dots, _ = _svg_parts(svg)
    lines = [(min(x1, x2) - 1, min(y1, y2) - 1, max(x1, x2) + 1, max(y1, y2) + 1)
             for x1, y1, x2, y2 in dashed]
    old = [_text_box(x + 7, y - 6, "start", p.label)
           for (x, y), p in zip(dots, _NearTheMeans.points, strict=True)]
    assert sum(any(_overlaps(box, line) for line in lines) for box in old) >= 2
