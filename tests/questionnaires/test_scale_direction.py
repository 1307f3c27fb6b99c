"""Scale direction proven, never assumed (issue 17, item 2): the YAML loader and the XLSForm
import refuse a reverse-coded or unprovable scale and recode a declared reversed one."""

from __future__ import annotations

import pytest

from questionnaires import QuestionnaireError, load_text
from questionnaires.scale_direction import establish, label_position
from questionnaires.xlsform import convert_xlsform
from tests.questionnaires.conftest import MINI_YAML
from tests.questionnaires.test_xlsform import CHOICES, SURVEY, SURVEY_HEADER, write_workbook

FORWARD_CODES = """\
    "5": {zh_CN: 非常满意}
    "4": {zh_CN: 满意}
    "3": {zh_CN: 一般}
    "2": {zh_CN: 不满意}
    "1": {zh_CN: 非常不满意}
"""
REVERSED_CODES = """\
    "5": {zh_CN: 非常不满意}
    "4": {zh_CN: 不满意}
    "3": {zh_CN: 一般}
    "2": {zh_CN: 满意}
    "1": {zh_CN: 非常满意}
"""
UNKNOWN_CODES = """\
    "5": {zh_CN: 五星}
    "4": {zh_CN: 四星}
    "3": {zh_CN: 三星}
    "2": {zh_CN: 二星}
    "1": {zh_CN: 一星}
"""


def mini_with(codes: str, direction: str | None = None, show_if_code: str | None = None) -> str:
    assert FORWARD_CODES in MINI_YAML
    text = MINI_YAML.replace(FORWARD_CODES, codes)
    if direction is not None:
        text = text.replace('  na_code: "9"\n', f'  na_code: "9"\n  direction: {direction}\n')
    if show_if_code is not None:
        # complaint_handling is asked only of those who rated staff_attitude show_if_code.
        anchor = '        show_if: {question: has_complained, in: ["1"]}\n'
        assert anchor in text
        text = text.replace(anchor, "        show_if: {question: staff_attitude, "
                            f'in: ["{show_if_code}"]}}\n')
    return text


@pytest.mark.parametrize(("labels", "direction"), [
    (["非常不满意", "不满意", "一般", "满意", "非常满意"], "forward"),
    (["不满意", "不太满意", "一般", "比较满意", "满意"], "forward"),
    (["很差", "较差", "一般", "较好", "很好"], "forward"),
    (["非常不同意", "不同意", "中立", "同意", "非常同意"], "forward"),
    (["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
      "Strongly agree"], "forward"),
    (["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"],
     "reversed"),
    (["5 非常满意", "4.满意", "一般（3分）", "不满意 2分", "1、非常不满意"], "reversed"),
    (["非常满意", "其他", "一般", "其他", "非常不满意"], "reversed"),
    (["一星", "二星", "三星", "四星", "五星"], None),
    (["非常不满意", "一般", "不满意", "满意", "非常满意"], None),
], ids=["zh-satisfied", "zh-满意-on-top", "zh-好差", "zh-agree", "en-agree", "en-reversed",
        "numbered-reversed", "unknown-middle-labels", "stars", "out-of-order"])
def test_direction_read_from_the_labels(labels, direction):
    """Labels are listed for codes 1..5."""
    reading = establish({str(code): [label] for code, label in enumerate(labels, start=1)})
    assert reading.direction == direction
    assert (reading.reason == "") == (direction is not None)


def test_english_label_decides_when_the_chinese_is_unknown():
    assert label_position("五星") is None
    labels = {str(c): ["x", en] for c, en in zip(range(1, 6), [
        "Very poor", "Poor", "Fair", "Good", "Excellent"], strict=True)}
    assert establish(labels).direction == "forward"


# -- the YAML loader ----------------------------------------------------------------------------

def test_yaml_reverse_coded_scale_is_refused_with_its_labels(mini):
    with pytest.raises(QuestionnaireError) as caught:
        load_text(mini_with(REVERSED_CODES), source="q.yaml")
    assert [(i.file, i.path, i.message) for i in caught.value.issues] == [(
        "q.yaml", "scale.codes",
        "reverse-coded (5 = 非常不满意, 4 = 不满意, 3 = 一般, 2 = 满意, 1 = 非常满意): code 1 is "
        "the satisfied end, but the statistics read 5 as the most satisfied answer; declare "
        "the direction as reversed (反向) to recode it 1→5, 2→4, 4→2, 5→1",
    )]


def test_yaml_declared_reversed_scale_is_recoded_with_its_skip_logic(mini):
    questionnaire = load_text(mini_with(REVERSED_CODES, "reversed", show_if_code="1"))
    assert {code: label.zh_CN for code, label in questionnaire.scale.codes.items()} == {
        "5": "非常满意", "4": "满意", "3": "一般", "2": "不满意", "1": "非常不满意"}
    # "1" was 非常满意 in the file: it is "5" in our codes.
    assert questionnaire.question("complaint_handling").show_if.codes() == ("5",)
    # Stored forward, with the declaration that reloads it.
    assert questionnaire.scale.direction == "forward"
    again = load_text(mini_with(FORWARD_CODES, "forward", show_if_code="5"))
    assert again == questionnaire


def test_yaml_unprovable_scale_is_refused_unless_declared(mini):
    with pytest.raises(QuestionnaireError) as caught:
        load_text(mini_with(UNKNOWN_CODES))
    (issue,) = caught.value.issues
    assert issue.path == "scale.codes"
    assert issue.message.startswith(
        "the direction of the scale cannot be established (5 = 五星, 4 = 四星, 3 = 三星, "
        "2 = 二星, 1 = 一星): the labels of the end codes 5 and 1 are not in the known")
    declared = load_text(mini_with(UNKNOWN_CODES, "正向"))
    assert declared.scale.codes["5"].zh_CN == "五星"
    assert declared.scale.direction == "forward"
    # The dump carries the declaration, so it reads back equal.
    from questionnaires.loader import dump_yaml

    assert load_text(dump_yaml(declared)) == declared


@pytest.mark.parametrize(("codes", "direction", "message"), [
    (FORWARD_CODES, "reversed", "declared reversed, but the labels read forward (5 = 非常满意, "
                                "4 = 满意, 3 = 一般, 2 = 不满意, 1 = 非常不满意)"),
    (FORWARD_CODES, "upside_down", "scale direction 'upside_down' is not one of forward (正向) "
                                   "or reversed (反向)"),
], ids=["contradicted", "unknown-word"])
def test_yaml_declaration_contradicted_or_unknown(codes, direction, message):
    with pytest.raises(QuestionnaireError) as caught:
        load_text(mini_with(codes, direction))
    assert [(i.path, i.message) for i in caught.value.issues] == [("scale.direction", message)]


def test_yaml_forward_scale_is_unchanged_and_keeps_its_hash(mini):
    assert mini.scale.direction is None
    assert "direction" not in mini.to_dict()["scale"]


def test_reversed_scores_mapping_points_to_the_declaration():
    text = MINI_YAML.replace('  na_code: "9"\n', '  na_code: "9"\n  scores: '
                             '{"5": 20, "4": 40, "3": 60, "2": 80, "1": 100}\n')
    with pytest.raises(QuestionnaireError) as caught:
        load_text(text)
    (issue,) = caught.value.issues
    assert issue.path == "scale.scores"
    assert issue.message.endswith("declared with 'direction: reversed' and recoded")


# -- the XLSForm import -------------------------------------------------------------------------

def _reversed_choices(direction_column: str | None = None) -> list[list[object]]:
    """The test form's choices with 'sat' coded 1 = 非常满意 … 5 = 非常不满意."""
    header = [*CHOICES[0], *(["scale_direction"] if direction_column is not None else [])]
    rows = [header]
    for row in CHOICES[1:]:
        row = list(row)
        if row[0] == "sat" and row[1] != 9:
            row[1] = 6 - row[1]
        if direction_column is not None:
            row.append(direction_column if row[0] == "sat" else None)
        rows.append(row)
    return rows


@pytest.fixture
def form(tmp_path):
    from tests.questionnaires.test_xlsform import DIMENSIONS, SETTINGS

    def make(choices, survey=SURVEY, header=SURVEY_HEADER):
        return write_workbook(tmp_path / "form.xlsx", {
            "survey": [header, *survey], "choices": choices, "settings": SETTINGS,
            "dimensions": DIMENSIONS})

    return make


def test_xlsform_reverse_coded_list_is_refused(form):
    result = convert_xlsform(form(_reversed_choices()))
    assert result.questionnaire is None
    refusal = [str(p) for p in result.problems if "refused as a rating scale" in str(p)]
    assert refusal == [
        "choices row 6: list 'sat' refused as a rating scale: reverse-coded (5 = 非常不满意, "
        "4 = 不满意, 3 = 一般, 2 = 满意, 1 = 非常满意): code 1 is the satisfied end, but the "
        "statistics read 5 as the most satisfied answer; declare the direction as reversed "
        "(反向) to recode it 1→5, 2→4, 4→2, 5→1 (a scale_direction column on the choices or "
        "survey sheet declares it)"]


@pytest.mark.parametrize("where", ["choices", "survey"])
def test_xlsform_declared_reversed_list_is_recoded(form, where):
    survey = [list(row) for row in SURVEY]
    header = SURVEY_HEADER
    if where == "survey":
        header = [*SURVEY_HEADER, "scale_direction"]
        survey = [[*row, *[None] * (len(SURVEY_HEADER) - len(row)),
                   "反向" if row[0] == "select_one sat" else None] for row in survey]
    # Ask complaint_handling only of those who rated the staff 1 in the file (非常满意).
    survey[8][6] = "${staff_attitude} = '1'"
    choices = _reversed_choices("reversed" if where == "choices" else None)
    result = convert_xlsform(form(choices, survey, header))
    assert result.problems == []
    questionnaire = result.questionnaire
    assert {c: label.zh_CN for c, label in questionnaire.scale.codes.items()} == {
        "5": "非常满意", "4": "满意", "3": "一般", "2": "不满意", "1": "非常不满意"}
    assert questionnaire.question("complaint_handling").show_if.codes() == ("5",)
    assert load_text(result.yaml_text) == questionnaire


def test_xlsform_second_list_with_other_labels_stays_a_single_choice(form):
    choices = [list(row) for row in CHOICES]
    agree = ["非常同意", "同意", "一般", "不同意", "非常不同意"]
    choices += [["agree", code, label, None] for code, label in zip(
        (5, 4, 3, 2, 1), agree, strict=True)]
    survey = [list(row) for row in SURVEY]
    survey.insert(9, ["select_one agree", "fair_process", "过程公平", "Fair?", None, "yes",
                      None, None, "service"])
    result = convert_xlsform(form(choices, survey))
    assert [str(p) for p in result.problems] == [
        "survey row 11: list 'agree' has the codes 5..1 but other labels than the scale "
        "(list 'sat'): kept as a single choice"]
    question = result.questionnaire.question("fair_process")
    assert question.type == "single"
    assert [o.label.zh_CN for o in question.options] == agree
