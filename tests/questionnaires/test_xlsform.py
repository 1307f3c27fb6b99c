"""XLSForm import: workbooks are built here with openpyxl, converted and validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from questionnaires import RatingQuestion, load_text
from questionnaires.xlsform import Problem, convert_xlsform
from questionnaires.xlsform.expressions import constraint_bounds, relevant_codes

SURVEY_HEADER = [
    "type",
    "name",
    "label::Chinese (zh)",
    "label::English (en)",
    "hint::Chinese (zh)",
    "required",
    "relevant",
    "constraint",
    "dimension",
    "overall",
]
# Excel rows 2.. (row 1 is the header).
SURVEY = [
    ["note", "welcome", "您好，本调查匿名进行。", "Hello, this survey is anonymous."],
    ["begin group", "basics", "基本情况", "About you"],
    [
        "integer",
        "household_size",
        "家庭人口",
        "Household size",
        "包括本人",
        "yes",
        None,
        ". >= 1 and . <= 20",
    ],
    ["select_one yesno", "has_complained", "是否投诉过？", "Complained?", None, "yes"],
    [
        "select_multiple channel",
        "complaint_channels",
        "投诉渠道",
        "Channels",
        None,
        "TRUE",
        "selected(${has_complained}, '1')",
    ],
    ["end group"],
    ["begin group", "ratings", "满意度", "Satisfaction"],
    [
        "select_one sat",
        "staff_attitude",
        "对服务态度是否满意？",
        "Staff attitude?",
        None,
        "yes",
        None,
        None,
        "service",
    ],
    [
        "select_one sat",
        "complaint_handling",
        "对投诉处理是否满意？",
        "Complaint handling?",
        None,
        "yes",
        "${has_complained} = '1'",
        None,
        "complaint",
    ],
    [
        "select_one sat",
        "overall_satisfaction",
        "总体是否满意？",
        "Overall?",
        None,
        "true",
        None,
        None,
        "overall",
        "yes",
    ],
    ["text", "comments", "意见和建议", "Comments", None, "no", None, "string-length(.) <= 200"],
    ["end group"],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yesno", 1, "是", "Yes"],
    ["yesno", 2, "否", "No"],
    ["channel", "1", "电话", "Phone"],
    ["channel", "2", "上门", "In person"],
    ["sat", 5, "非常满意", "Very satisfied"],
    ["sat", 4, "满意", "Satisfied"],
    ["sat", 3, "一般", "Neutral"],
    ["sat", 2, "不满意", "Dissatisfied"],
    ["sat", 1, "非常不满意", "Very dissatisfied"],
    ["sat", 9, "不清楚", "Don't know"],
]
SETTINGS = [
    ["form_title::Chinese (zh)", "form_title::English (en)", "form_id"],
    ["测试问卷", "Test questionnaire", "mini_xls"],
]
DIMENSIONS = [
    ["name", "label::Chinese (zh)", "label::English (en)"],
    ["service", "服务态度", "Service"],
    ["complaint", "投诉处理", "Complaints"],
    ["overall", "总体满意度", "Overall"],
]


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def make_form(tmp_path):
    """Factory: write an XLSForm workbook from survey rows (header added) and other sheets."""

    def make(survey=SURVEY, header=SURVEY_HEADER, **sheets):
        sheets = {"choices": CHOICES, "settings": SETTINGS, "dimensions": DIMENSIONS, **sheets}
        sheets = {name: rows for name, rows in sheets.items() if rows is not None}
        return write_workbook(tmp_path / "form.xlsx", {"survey": [header, *survey], **sheets})

    return make


def test_round_trip_into_a_valid_questionnaire(make_form):
    result = convert_xlsform(make_form())
    assert result.problems == []
    questionnaire = result.questionnaire
    assert questionnaire is not None
    assert load_text(result.yaml_text) == questionnaire
    assert questionnaire.id == "mini_xls"
    assert (questionnaire.title.zh_CN, questionnaire.title.en) == ("测试问卷", "Test questionnaire")
    assert questionnaire.intro is not None and questionnaire.intro.zh_CN == "您好，本调查匿名进行。"
    assert [s.id for s in questionnaire.sections] == ["basics", "ratings"]
    assert [(q.id, q.type, q.required) for q in questionnaire.questions()] == [
        ("household_size", "integer", True),
        ("has_complained", "single", True),
        ("complaint_channels", "multiple", True),
        ("staff_attitude", "rating", True),
        ("complaint_handling", "rating", True),
        ("overall_satisfaction", "rating", True),
        ("comments", "text", False),
    ]
    size = questionnaire.question("household_size")
    assert (size.min, size.max, size.help.zh_CN) == (1, 20, "包括本人")
    assert questionnaire.question("comments").max_length == 200
    for qid in ("complaint_channels", "complaint_handling"):
        show_if = questionnaire.question(qid).show_if
        assert (show_if.question, show_if.codes()) == ("has_complained", ("1",))
    assert questionnaire.overall_item().id == "overall_satisfaction"
    staff = questionnaire.question("staff_attitude")
    assert isinstance(staff, RatingQuestion)
    assert (staff.dimension, staff.allow_na) == ("service", True)
    assert [d.label.en for d in questionnaire.dimensions] == ["Service", "Complaints", "Overall"]
    assert questionnaire.scale.codes["3"].zh_CN == "一般"
    assert (questionnaire.scale.na_code, questionnaire.scale.na_label.zh_CN) == ("9", "不清楚")
    assert [o.label.en for o in questionnaire.question("complaint_channels").options] == [
        "Phone",
        "In person",
    ]


REPEAT = [
    ["begin repeat", "members", "家庭成员"],
    ["text", "member_name", "姓名"],
    ["end repeat"],
]
_ONLY = "(only ${q} = 'c' and selected(${q}, 'c') on one earlier question, joined with 'or')"
UNSUPPORTED = [
    pytest.param(
        [["geopoint", "location", "位置"]],
        Problem("survey", 7, "question type 'geopoint' ('location') is not supported", "type",
                refuses=True),
        id="geopoint",
    ),
    pytest.param(
        # pyxform itself refuses a calculate without a calculation, with its row.
        [["calculate", "total", None, None, None, None, None, None]],
        Problem("", None, "pyxform refuses the form: [row : 7] Missing calculation.",
                refuses=True),
        id="calculate",
    ),
    pytest.param(
        REPEAT,
        Problem("survey", 7, "repeat 'members' is not supported (its questions would be asked "
                "once per repetition)", "type", refuses=True),
        id="repeat",
    ),
    pytest.param(
        [["integer", "rooms", "房间数", None, None, "yes", "${household_size} > 3"]],
        Problem("survey", 7, f"relevant '${{household_size}} > 3' is not supported {_ONLY}",
                "relevant", refuses=True),
        id="comparison-relevant",
    ),
    pytest.param(
        [
            [
                "text",
                "why",
                "原因",
                None,
                None,
                "no",
                "${has_complained} = '1' and ${household_size} = '2'",
            ]
        ],
        Problem("survey", 7, "relevant \"${has_complained} = '1' and ${household_size} = '2'\" "
                f"is not supported {_ONLY}", "relevant", refuses=True),
        id="and-relevant",
    ),
    pytest.param(
        [["integer", "rooms", "房间数", None, None, "yes", None, ". mod 2 = 0"]],
        Problem("survey", 7, "constraint '. mod 2 = 0' is not supported (only bounds on an "
                "integer and string-length(.) on a text)", "constraint", refuses=True),
        id="complex-constraint",
    ),
    pytest.param(
        [["integer", "rooms", "房间数", None, None, "${household_size} > 1"]],
        Problem("survey", 7, "required '${household_size} > 1' is not supported (only yes or "
                "no)", "required", refuses=True),
        id="required-expression",
    ),
    pytest.param([["start", "start"]], Problem(
        "survey", 7, "metadata field 'start' is not asked and not kept", "type"), id="metadata"),
]


@pytest.mark.parametrize(("rows", "problem"), UNSUPPORTED)
def test_unsupported_construct_is_refused_with_sheet_row_and_column(make_form, rows, problem):
    # Insert after the 'basics' questions (Excel row 7), before its 'end group'.
    survey = [*SURVEY[:5], *rows, *SURVEY[5:]]
    result = convert_xlsform(make_form(survey=survey))
    assert result.problems == [problem]
    if problem.refuses:
        # Refused: nothing is dropped silently, the YAML is still there to finish by hand.
        assert result.questionnaire is None
        assert result.refusals == [problem]
    else:
        assert result.questionnaire is not None
        assert result.questionnaire.question("comments").type == "text"


def test_or_of_equalities_becomes_in(make_form):
    survey = [row[:] for row in SURVEY]
    survey[8][6] = "${has_complained} = '1' or ${has_complained} = 2"
    result = convert_xlsform(make_form(survey=survey))
    show_if = result.questionnaire.question("complaint_handling").show_if
    assert show_if.codes() == ("1", "2")


def test_group_relevant_applies_to_its_questions(make_form):
    survey = [
        *SURVEY[:6],
        SURVEY[9],  # the overall item, outside the conditional group
        ["begin group", "ratings", "满意度", None, None, None, "${has_complained} = '2'"],
        SURVEY[7],
        SURVEY[8],
        SURVEY[11],
    ]
    # Both the group's and the question's condition must hold (as in ODK): together they
    # are never true here, which is refused rather than converted into a question never shown.
    result = convert_xlsform(make_form(survey=survey))
    assert result.problems == [
        Problem("survey", 11, "relevant \"${has_complained} = '1'\" with its group's condition "
                "is never true: the question would never be shown", "relevant", refuses=True)]
    assert result.questionnaire is None
    # With a question condition that narrows the group's, the two are combined.
    survey[9] = [*SURVEY[8][:6], "${has_complained} = '2' or ${has_complained} = '1'",
                 *SURVEY[8][7:]]
    result = convert_xlsform(make_form(survey=survey))
    assert result.problems == []
    questionnaire = result.questionnaire
    assert questionnaire.question("staff_attitude").show_if.codes() == ("2",)
    assert questionnaire.question("complaint_handling").show_if.codes() == ("2",)
    assert [s.id for s in questionnaire.sections] == ["basics", "section_2", "ratings"]


def test_without_dimension_and_overall_columns_the_result_needs_them(make_form):
    header = SURVEY_HEADER[:-2]
    survey = [row[:8] for row in SURVEY]
    result = convert_xlsform(make_form(survey=survey, header=header, dimensions=None))
    assert result.questionnaire is None
    assert result.yaml_text.startswith("# Converted from form.xlsx")
    messages = {(p.sheet, p.row, p.message) for p in result.problems}
    assert (
        "survey",
        1,
        "no 'dimension' column: every rating item needs a dimension id "
        "(add the column, and a 'dimensions' sheet for labels)",
    ) in messages
    assert (
        "survey",
        1,
        "no overall item: add an 'overall' column and put 'yes' on the overall-satisfaction "
        "rating item",
    ) in messages
    # Validation problems point at the rows they come from.
    assert (
        "survey",
        9,
        "sections[1].questions[0].dimension: missing required field 'dimension'",
    ) in messages


def test_non_numeric_choice_names_are_renumbered(make_form):
    choices = [row[:] for row in CHOICES]
    choices[1][1], choices[2][1] = "yes", "no"
    survey = [row[:] for row in SURVEY]
    survey[8][6] = "${has_complained} = 'yes'"
    survey[4][6] = "selected(${has_complained}, 'yes')"
    result = convert_xlsform(make_form(survey=survey, choices=choices))
    assert result.problems == [
        Problem(
            "choices",
            2,
            "list 'yesno': choice names are not distinct numeric codes, renumbered "
            "(yes→1, no→2)", "name",
        )
    ]
    assert result.questionnaire.question("complaint_handling").show_if.codes() == ("1",)


def test_plain_label_column_and_names_needing_renaming(make_form):
    header = ["type", "name", "label", "required", "dimension", "overall"]
    survey = [
        ["select_one sat", "Overall-Satisfaction", "总体是否满意？", "yes", "overall", "yes"],
    ]
    dimensions = [["name", "label"], ["overall", "总体满意度"]]
    result = convert_xlsform(make_form(survey=survey, header=header, dimensions=dimensions))
    assert result.questionnaire is not None
    assert [q.id for q in result.questionnaire.questions()] == ["overall_satisfaction"]
    assert result.questionnaire.sections[0].title.zh_CN == "测试问卷"
    assert result.problems == [
        Problem(
            "survey",
            2,
            "name 'Overall-Satisfaction' renamed to 'overall_satisfaction' (ids are snake_case)",
            "name",
        )
    ]


def test_workbook_without_survey_sheet(tmp_path):
    path = write_workbook(tmp_path / "empty.xlsx", {"choices": CHOICES})
    result = convert_xlsform(path)
    assert (result.yaml_text, result.questionnaire) == ("", None)
    assert result.problems == [Problem(
        "", None, "pyxform refuses the form: You must have a sheet named 'survey'. ",
        refuses=True)]


def test_unreadable_file(tmp_path):
    path = tmp_path / "not.xlsx"
    path.write_text("plain text", encoding="utf-8")
    result = convert_xlsform(path)
    assert result.questionnaire is None
    assert result.problems[0].message.startswith(
        "不是可读取的 .xlsx 文件 / not a readable .xlsx file")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${a} = '1'", ("a", ["1"])),
        ('${a}="2"', ("a", ["2"])),
        ("${a} = 3", ("a", ["3"])),
        ("selected(${a}, 'x')", ("a", ["x"])),
        ("(${a} = '1') or (selected(${a}, '2'))", ("a", ["1", "2"])),
        ("((${a} = '1' or ${a} = '1'))", ("a", ["1", "1"])),
        ("${a} = '1' or ${b} = '2'", None),
        ("${a} = '1' and ${a} = '2'", None),
        ("${a} != '1'", None),
        ("(${a} = '1'", None),
    ],
)
def test_relevant_codes(expression, expected):
    assert relevant_codes(expression) == expected


@pytest.mark.parametrize(
    ("constraint", "question_type", "expected"),
    [
        (". >= 1 and . <= 20", "integer", {"min": 1, "max": 20}),
        (". > 0 and . < 21", "integer", {"min": 1, "max": 20}),
        (". >= -5", "integer", {"min": -5}),
        (". >= 1 and . <= 20", "text", None),
        (". >= 1 or . <= 20", "integer", None),
        ("string-length(.) <= 200", "text", {"max_length": 200}),
        ("string-length(.) < 200", "text", {"max_length": 199}),
        ("string-length(.) <= 200", "integer", None),
        ("regex(., '[0-9]+')", "text", None),
    ],
)
def test_constraint_bounds(constraint, question_type, expected):
    assert constraint_bounds(constraint, question_type) == expected
