"""Validation of questionnaire definitions: every problem reported with its path and reason."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from questionnaires import Issue, QuestionnaireError, load_file, load_text
from questionnaires.elements import RatingQuestion


def question(data: dict[str, Any], section: int, index: int) -> dict[str, Any]:
    return data["sections"][section]["questions"][index]


def set_in(path: list[Any], value: Any):
    """A mutation that sets data[path...] = value."""

    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def delete(path: list[Any]):
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


Q_CHANNELS = ["sections", 0, "questions", 2]
Q_STAFF = ["sections", 1, "questions", 0]
Q_OVERALL = ["sections", 1, "questions", 2]

BROKEN_DEFINITIONS = [
    pytest.param(
        set_in(["sections", 0, "questions", 1, "options", 1, "code"], "1"),
        [("sections[0].questions[1].options", "duplicate option code '1'")],
        id="duplicate-option-code",
    ),
    pytest.param(
        set_in([*Q_CHANNELS, "show_if", "question"], "staff_attitude"),
        [
            (
                "sections[0].questions[2].show_if.question",
                "show_if refers to question 'staff_attitude', which does not come before it",
            )
        ],
        id="skip-logic-refers-to-later-question",
    ),
    pytest.param(
        set_in([*Q_CHANNELS, "show_if", "question"], "complained"),
        [
            (
                "sections[0].questions[2].show_if.question",
                "show_if refers to unknown question 'complained'",
            )
        ],
        id="skip-logic-refers-to-unknown-question",
    ),
    pytest.param(
        set_in([*Q_CHANNELS, "show_if", "question"], "complaint_channels"),
        [
            (
                "sections[0].questions[2].show_if.question",
                "show_if refers to question 'complaint_channels', which does not come before it",
            )
        ],
        id="skip-logic-refers-to-itself",
    ),
    pytest.param(
        set_in([*Q_CHANNELS, "show_if", "equals"], "3"),
        [
            (
                "sections[0].questions[2].show_if.equals",
                "show_if code '3' is not an option of question 'has_complained' (options: 1, 2)",
            )
        ],
        id="skip-logic-unknown-code",
    ),
    pytest.param(
        set_in(["sections", 1, "questions", 1, "show_if", "in"], ["1", "7"]),
        [
            (
                "sections[1].questions[1].show_if.in[1]",
                "show_if code '7' is not an option of question 'has_complained' (options: 1, 2)",
            )
        ],
        id="skip-logic-unknown-code-in-list",
    ),
    pytest.param(
        set_in([*Q_CHANNELS, "show_if"], {"question": "household_size", "equals": "1"}),
        [
            (
                "sections[0].questions[2].show_if.question",
                "show_if can only refer to a rating or choice question; "
                "'household_size' is a integer question",
            )
        ],
        id="skip-logic-on-integer-question",
    ),
    pytest.param(
        set_in([*Q_CHANNELS, "show_if", "in"], ["1", "2"]),
        [("sections[0].questions[2].show_if", "show_if needs exactly one of 'equals' or 'in'")],
        id="skip-logic-equals-and-in",
    ),
    pytest.param(
        set_in([*Q_OVERALL, "overall"], False),
        [("", "no rating item is marked 'overall: true'; exactly one is required")],
        id="no-overall-item",
    ),
    pytest.param(
        set_in([*Q_STAFF, "overall"], True),
        [
            (
                "sections[1].questions[2].overall",
                "more than one overall item: 'staff_attitude' is already marked "
                "'overall: true', so 'overall_satisfaction' cannot be",
            )
        ],
        id="two-overall-items",
    ),
    pytest.param(
        set_in([*Q_OVERALL, "show_if"], {"question": "has_complained", "equals": "2"}),
        [
            (
                "sections[1].questions[2].show_if",
                "the overall item must be shown to every respondent, so it cannot have show_if",
            )
        ],
        id="overall-item-with-skip-logic",
    ),
    pytest.param(
        delete([*Q_STAFF, "text", "zh_CN"]),
        [("sections[1].questions[0].text.zh_CN", "missing required field 'zh_CN'")],
        id="missing-zh-text",
    ),
    pytest.param(
        set_in([*Q_STAFF, "text", "zh_CN"], "  "),
        [("sections[1].questions[0].text.zh_CN", "zh_CN text must not be empty")],
        id="blank-zh-text",
    ),
    pytest.param(
        set_in(["sections", 0, "questions", 1, "options", 0, "label"], {"en": "Yes"}),
        [("sections[0].questions[1].options[0].label.zh_CN", "missing required field 'zh_CN'")],
        id="option-label-without-zh",
    ),
    pytest.param(
        set_in([*Q_STAFF, "text"], "对服务态度是否满意？"),
        [
            (
                "sections[1].questions[0].text",
                "expected a mapping with zh_CN text (and optionally en)",
            )
        ],
        id="text-not-bilingual-mapping",
    ),
    pytest.param(
        set_in([*Q_STAFF, "dimension"], "servise"),
        [
            (
                "sections[1].questions[0].dimension",
                "unknown dimension 'servise' (declared: service, complaint, overall)",
            ),
            ("dimensions[0].id", "dimension 'service' has no rating item"),
        ],
        id="rating-item-unknown-dimension",
    ),
    pytest.param(
        delete([*Q_STAFF, "dimension"]),
        [("sections[1].questions[0].dimension", "missing required field 'dimension'")],
        id="rating-item-without-dimension",
    ),
    pytest.param(
        set_in(["sections", 1, "questions", 0, "id"], "has_complained"),
        [
            (
                "sections[1].questions[0].id",
                "duplicate question id 'has_complained' (first used at sections[0].questions[1])",
            )
        ],
        id="duplicate-question-id",
    ),
    pytest.param(
        set_in(["dimensions", 2, "id"], "service"),
        [
            ("dimensions[2].id", "duplicate dimension id 'service' (first used at dimensions[0])"),
            (
                "sections[1].questions[2].dimension",
                "unknown dimension 'overall' (declared: service, complaint, service)",
            ),
        ],
        id="duplicate-dimension-id",
    ),
    pytest.param(
        set_in(["sections", 1, "id"], "basics"),
        [("sections[1].id", "duplicate section id 'basics' (first used at sections[0])")],
        id="duplicate-section-id",
    ),
    pytest.param(
        set_in(["sections", 0, "questions", 0, "id"], "HouseholdSize"),
        [
            (
                "sections[0].questions[0].id",
                "'HouseholdSize' is not a snake_case identifier (lowercase letters, digits and "
                "underscores, starting with a letter, at most 64)",
            )
        ],
        id="question-id-not-snake-case",
    ),
    pytest.param(
        set_in(["sections", 0, "questions", 1, "options", 0, "code"], "A"),
        [
            (
                "sections[0].questions[1].options[0].code",
                "option code 'A' must be 1 to 4 digits without a leading zero",
            )
        ],
        id="option-code-not-digits",
    ),
    pytest.param(
        set_in(
            ["sections", 0, "questions", 1, "options"], [{"code": "1", "label": {"zh_CN": "是"}}]
        ),
        [
            (
                "sections[0].questions[1].options",
                "a choice question needs at least 2 options, got 1",
            )
        ],
        id="single-choice-with-one-option",
    ),
    pytest.param(
        set_in(["sections", 0, "questions", 0, "type"], "geopoint"),
        [
            (
                "sections[0].questions[0].type",
                "unknown question type 'geopoint' "
                "(expected one of: rating, single, multiple, integer, text)",
            )
        ],
        id="unknown-question-type",
    ),
    pytest.param(
        set_in(["sections", 0, "questions", 0, "requird"], False),
        [("sections[0].questions[0].requird", "unknown field 'requird'")],
        id="misspelt-field",
    ),
    pytest.param(
        set_in(["sections", 0, "questions", 0, "min"], 30),
        [("sections[0].questions[0]", "min (30) is greater than max (20)")],
        id="integer-min-above-max",
    ),
    pytest.param(
        delete(["scale", "codes", "1"]),
        [
            (
                "scale.codes",
                "the rating scale must use exactly the codes 5, 4, 3, 2, 1; got 5, 4, 3, 2",
            )
        ],
        id="scale-missing-code",
    ),
    pytest.param(
        set_in(["scale", "na_code"], "5"),
        [("scale.na_code", "na_code '5' must not be one of the scale codes 5..1")],
        id="na-code-on-the-scale",
    ),
    pytest.param(
        set_in(["scale", "scores"], {"5": 100, "4": 100, "3": 60, "2": 40, "1": 20}),
        [
            (
                "scale.scores",
                "scores are no longer part of the format and cannot be changed: the statistics "
                "score the codes 5 → 100, 4 → 80, 3 → 60, 2 → 40, 1 → 20 (满意度得分 = 20 × "
                "mean); remove 'scores'",
            )
        ],
        id="scores-other-than-the-fixed-ones",
    ),
    pytest.param(
        set_in(["scale", "scores"], {"5": "high"}),
        [("scale.scores[\"5\"]", "Input should be a valid number, unable to parse string as a "
          "number")],
        id="scores-not-numbers",
    ),
    pytest.param(
        lambda data: data["dimensions"].append({"id": "extra", "label": {"zh_CN": "其他"}}),
        [("dimensions[3].id", "dimension 'extra' has no rating item")],
        id="unused-dimension",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BROKEN_DEFINITIONS)
def test_broken_definition_reports_path_and_reason(load_mutated, mutate, expected):
    with pytest.raises(QuestionnaireError) as raised:
        load_mutated(mutate)
    found = [(issue.path, issue.message) for issue in raised.value.issues]
    assert found == expected
    assert all(issue.file == "mini.yaml" for issue in raised.value.issues)


def test_mini_definition_is_valid(mini):
    assert [q.id for q in mini.questions()][:3] == [
        "household_size",
        "has_complained",
        "complaint_channels",
    ]


def test_all_problems_are_reported_together(load_mutated):
    def break_three_ways(data):
        question(data, 0, 1)["options"][1]["code"] = "1"
        del question(data, 1, 0)["text"]["zh_CN"]
        question(data, 1, 3)["max_length"] = 0

    with pytest.raises(QuestionnaireError) as raised:
        load_mutated(break_three_ways)
    paths = [issue.path for issue in raised.value.issues]
    assert paths == [
        "sections[0].questions[1].options",
        "sections[1].questions[0].text.zh_CN",
        "sections[1].questions[3].max_length",
    ]
    message = str(raised.value)
    assert message.startswith("invalid questionnaire definition (3 problems):")
    for issue in raised.value.issues:
        assert str(issue) in message


def test_all_cross_reference_problems_are_reported_together(load_mutated):
    def break_references(data):
        question(data, 1, 2)["overall"] = False
        question(data, 0, 2)["show_if"]["question"] = "nowhere"
        question(data, 1, 0)["id"] = "has_complained"

    with pytest.raises(QuestionnaireError) as raised:
        load_mutated(break_references)
    assert {issue.path for issue in raised.value.issues} == {
        "",
        "sections[0].questions[2].show_if.question",
        "sections[1].questions[0].id",
    }


def test_issue_names_file_path_and_reason():
    issue = Issue("a.yaml", "sections[0].questions[1]", "bad")
    assert str(issue) == "a.yaml: sections[0].questions[1]: bad"
    assert str(Issue("a.yaml", "", "bad")) == "a.yaml: bad"


def test_duplicate_yaml_keys_are_errors():
    text = 'id: x\nscale:\n  codes:\n    "5": {zh_CN: 非常满意}\n    "5": {zh_CN: 满意}\nid: y\n'
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text, source="dup.yaml")
    assert [(i.path, i.message) for i in raised.value.issues] == [
        ("line 5, column 5", "duplicate key '5'"),
        ("line 6, column 1", "duplicate key 'id'"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: [unclosed\n",
            # libyaml's wording (the parser used where PyYAML has it, as its wheels do)
            ("line 2, column 1", "YAML syntax error: did not find expected ',' or ']'"
             if yaml.__with_libyaml__ else
             "YAML syntax error: expected ',' or ']', but got '<stream end>'"),
        ),
        ("", ("", "expected a mapping at the top level, got nothing")),
        ("- a\n- b\n", ("", "expected a mapping at the top level, got list")),
    ],
    ids=["syntax-error", "empty", "list"],
)
def test_unreadable_documents(text, expected):
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text)
    assert [(i.file, i.path, i.message) for i in raised.value.issues] == [("<string>", *expected)]


def test_load_file_names_the_file(tmp_path):
    from tests.questionnaires.conftest import MINI_YAML

    path = tmp_path / "broken.yaml"
    path.write_text(MINI_YAML.replace("max_length: 10", "max_length: ten"), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as raised:
        load_file(path)
    [issue] = raised.value.issues
    assert issue.file == str(path)
    assert issue.path == "sections[1].questions[3].max_length"
    assert str(path) in str(raised.value)


def test_load_file_reads_a_valid_file(tmp_path):
    from tests.questionnaires.conftest import MINI_YAML

    path = tmp_path / "mini.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINI_YAML.encode("utf-8"))  # a BOM from Windows editors
    assert load_file(path).id == "mini"


def test_codes_written_as_yaml_integers_are_stored_as_strings():
    from tests.questionnaires.conftest import MINI_YAML

    text = MINI_YAML.replace('{code: "2", label: {zh_CN: 否}}', "{code: 2, label: {zh_CN: 否}}")
    text = text.replace('"4": {zh_CN: 满意}', "4: {zh_CN: 满意}")
    questionnaire = load_text(text)
    assert [o.code for o in questionnaire.question("has_complained").options] == ["1", "2"]
    assert list(questionnaire.scale.codes) == ["5", "4", "3", "2", "1"]


def test_direct_model_validation_also_enforces_cross_references(mini_definition):
    from pydantic import ValidationError

    from questionnaires import Questionnaire

    question(mini_definition, 1, 2)["overall"] = False
    with pytest.raises(ValidationError, match="no rating item is marked 'overall: true'"):
        Questionnaire.model_validate(mini_definition)


def test_navigation(mini):
    assert [q.id for q in mini.rating_items()] == [
        "staff_attitude",
        "complaint_handling",
        "overall_satisfaction",
    ]
    assert isinstance(mini.overall_item(), RatingQuestion)
    assert mini.overall_item().id == "overall_satisfaction"
    assert mini.question("comments").type == "text"
    with pytest.raises(KeyError):
        mini.question("nope")
    assert [d.id for d in mini.dimensions] == ["service", "complaint", "overall"]
    assert mini.dimension("service").label.zh_CN == "服务态度"
    assert [o.code for o in mini.options("staff_attitude")] == ["5", "4", "3", "2", "1", "9"]
    assert [o.code for o in mini.options("overall_satisfaction")] == ["5", "4", "3", "2", "1"]
    assert mini.options("household_size") == ()
