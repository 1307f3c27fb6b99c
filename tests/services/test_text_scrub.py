"""The free-text scrubber: the corpus (every personal string gone, every clean comment
unchanged) and the documented rules one by one."""

from __future__ import annotations

import pytest

from survey_app.services.text_scrub import (
    WITHHELD_COMMENT,
    Redaction,
    scrub,
    scrub_numbers,
    without_placeholders,
)
from tests.services.comment_corpus import clean_comments, leaks, personal_comments


def test_the_corpus_is_large_enough_and_every_personal_item_names_its_data():
    assert len(personal_comments()) >= 100 and len(clean_comments()) >= 100
    assert all(c.personal and all(p in c.text for p in c.personal)
               for c in personal_comments())


@pytest.mark.parametrize("comment", personal_comments(), ids=lambda c: c.text[:12])
def test_personal_data_is_replaced(comment):
    scrubbed = scrub(comment.text)
    assert leaks(scrubbed, comment.personal) == []
    assert "[" in scrubbed
    assert scrub(scrubbed) == scrubbed


@pytest.mark.parametrize("comment", clean_comments())
def test_clean_comments_come_through_unchanged(comment):
    assert scrub(comment) == comment


@pytest.mark.parametrize(("text", "expected"), [
    # ID numbers: 18 characters with or without separators, 15 digits; never from 0.
    ("43090319900101123x", "[身份证号]"),
    ("4309 0319 9001 0112 34", "[身份证号]"),
    ("430903900101123", "[身份证号]"),
    # Mobiles with +86/0086, spaces, dashes, full-width digits.
    ("+86 138-1234-5678", "[电话]"),
    ("0086 13812345678", "[电话]"),
    ("１３８１２３４５６７８", "[电话]"),
    ("13812345678、13987654321", "[电话]、[电话]"),
    # Landlines: area code in brackets or not, extensions.
    ("（0731）8555-1234", "[电话]"),
    ("0731-85551234转801", "[电话]"),
    ("021 6438 1234 ext. 12", "[电话]"),
    # Other long numbers, unless dates or amounts.
    ("卡号6217003120001234567", "卡号[号码]"),
    ("电话5556666", "电话[电话]"),
    ("20210315交的材料", "20210315交的材料"),
    ("2021-03-15交的材料", "2021-03-15交的材料"),
    ("补偿款1200000元", "补偿款1200000元"),
    # Addresses: buildings with a room or a floor, rooms, roads; not a building alone.
    ("3栋2单元501室", "[地址]"),
    ("5号楼302", "[地址]"),
    ("十二幢1402", "[地址]"),
    ("3-2-501", "[地址]"),
    ("3栋2单元5楼", "[地址]"),
    ("住502室", "住[地址]"),
    ("住在人民路88号3栋302", "住在[地址]"),
    ("3栋2单元的楼道", "3栋2单元的楼道"),
    ("5楼漏水", "5楼漏水"),
    ("每月8号发1200元", "每月8号发1200元"),
    ("1402房间的窗户", "[地址]的窗户"),
    ("9幢1402房间", "[地址]房间"),
    # Names after a cue; roles after 我是 are no names.
    ("我叫王芳，", "我叫[姓名]，"),
    ("我姓欧阳", "我姓[姓名]"),
    ("姓名：李四", "姓名：[姓名]"),
    ("我老婆尹小燕，号码", "我老婆[姓名]，号码"),
    ("张建国 13812345678", "[姓名] [电话]"),
    ("我是党员", "我是党员"),
    ("我是江西人", "我是江西人"),
    ("我是高龄老人", "我是高龄老人"),
    ("女儿和我住在一起", "女儿和我住在一起"),
    ("老百姓的心声", "老百姓的心声"),
    ("写信给 zhang.wei@example.cn", "写信给 [邮箱]"),
    ("车牌湘A12345的车天天占消防通道", "车牌[车牌]的车天天占消防通道"),
    ("湘AD12345", "[车牌]"),
    ("3号线地铁，打12345市长热线", "3号线地铁，打12345市长热线"),
])
def test_rules(text, expected):
    assert scrub(text) == expected


def test_withheld_fragments_and_whole_comments():
    assert scrub("楼下王阿姨家的狗，电话13812345678", Redaction(("王阿姨",))) == (
        "楼下[已隐去]家的狗，电话[电话]")
    assert scrub("随便什么", Redaction(withhold_all=True)) == WITHHELD_COMMENT
    assert scrub("", Redaction(withhold_all=True)) == ""
    assert without_placeholders(WITHHELD_COMMENT).strip() == ""


def test_number_patterns_alone_leave_words():
    assert scrub_numbers("我叫王芳 138 1234 5678") == "我叫王芳 [电话]"
