"""Praise is told from problems before the comment themes are counted (the report reads the
themes as the residents' main problems)."""

from __future__ import annotations

import pytest

from analysis import comment_themes, is_praise
from survey_app.services.demo_answers import COMPLAINTS, PRAISE

# Comments as residents write them; none of them comes from the demo's own phrase lists.
PRAISE_WRITTEN = [
    "非常满意，感谢政府。", "谢谢社区的工作人员，辛苦了！", "挺好的，没意见。",
    "政策很好，给老百姓办了实事，点赞。", "没有什么意见，整体不错。", "很满意，希望继续保持",
]
RAISING_WRITTEN = [
    "很满意，但是补贴发放太慢了。", "不满意，补偿标准太低。", "感谢政府，不过希望早点公示名单。",
    "物业维修不及时。", "希望增加补贴。", "楼道灯坏了半年没人修。", "办手续要跑很多趟，太麻烦。",
    "补贴到账时间不固定", "满意是满意，可是房租涨得比补贴快。",
]


@pytest.mark.parametrize("text", PRAISE_WRITTEN + list(PRAISE))
def test_praise_and_thanks_are_praise(text):
    assert is_praise(text)


@pytest.mark.parametrize("text", RAISING_WRITTEN + [c for cs in COMPLAINTS.values() for c in cs])
def test_a_wish_a_complaint_or_a_but_is_never_praise(text):
    assert not is_praise(text)


def test_the_problem_themes_leave_out_comments_that_only_thank():
    comments = ["解决了我家的实际困难，非常感谢。"] * 5 + ["补贴发放太慢。"] * 3 + [None, ""]
    raising = [c for c in comments if c and not is_praise(c)]
    terms = [t.term for t in comment_themes(raising).themes]
    assert "补贴" in terms and "困难" not in terms and "实际" not in terms
