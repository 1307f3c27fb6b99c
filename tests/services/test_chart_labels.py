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
