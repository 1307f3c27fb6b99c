"""Spellings and constructs of real XLSForms (issue 17, item 1): legacy column and type
spellings pyxform accepts convert like today's; a cascading select is refused, and its
repeated choice names no longer crash the conversion; groups' relevance is combined with the
questions'; 'or specify other' keeps its text question."""

from __future__ import annotations

import yaml

from questionnaires.xlsform import Problem, convert_xlsform
from tests.questionnaires.test_xlsform import (
    CHOICES,
    DIMENSIONS,
    SETTINGS,
    SURVEY,
    SURVEY_HEADER,
    write_workbook,
)

LEGACY_HEADER = ["type", "name", "label:Chinese (zh)", "label:English (en)", "hint:Chinese (zh)",
                 "bind:required", "bind:relevant", "bind:constraint", "dimension", "overall"]


def _form(tmp_path, name, survey, header=SURVEY_HEADER, choices=CHOICES):
    return write_workbook(tmp_path / f"{name}.xlsx", {
        "survey": [header, *survey], "choices": choices, "settings": SETTINGS,
        "dimensions": DIMENSIONS})


def test_legacy_spellings_convert_like_todays(tmp_path):
    legacy = [row[:] for row in SURVEY]
    legacy[3][0] = "select one from yesno"
    legacy[4][0] = "select all that apply channel"
    modern = convert_xlsform(_form(tmp_path, "modern", SURVEY))
    converted = convert_xlsform(_form(tmp_path, "legacy", legacy, header=LEGACY_HEADER))
    assert converted.problems == []
    assert converted.questionnaire == modern.questionnaire


def test_cascading_select_is_refused_and_repeated_names_do_not_crash(tmp_path):
    choices = [[*row, None] for row in CHOICES]
    choices[0] = [*CHOICES[0], "district"]
    # Street names repeat under two districts (as cascading lists have them; pyxform
    # accepts that with the allow_choice_duplicates setting).
    choices += [["street", "east", "东街", None, "a"], ["street", "west", "西街", None, "a"],
                ["street", "east", "东街", None, "b"]]
    survey = [row[:] for row in SURVEY]
    header = [*SURVEY_HEADER, "choice_filter"]
    survey.insert(2, ["select_one street", "street", "街道", None, None, "yes", None, None,
                      None, None, "district = 'a'"])
    settings = [[*SETTINGS[0], "allow_choice_duplicates"], [*SETTINGS[1], "yes"]]
    path = write_workbook(tmp_path / "cascade.xlsx", {
        "survey": [header, *survey], "choices": choices, "settings": settings,
        "dimensions": DIMENSIONS})
    result = convert_xlsform(path)
    assert result.refusals == [Problem(
        "survey", 4, "question 'street': choice_filter \"district = 'a'\" (a cascading select) "
        "is not supported", "choice_filter", refuses=True)]
    assert result.questionnaire is None
    assert Problem("choices", 12, "list 'street': choice names are not distinct numeric codes, "
                                  "renumbered (east→1, west→2, east→3)", "name") in result.problems
    assert "code: '3'\n      label:\n        zh_CN: 东街" in result.yaml_text


def test_short_language_suffix_and_pyxform_type_aliases(tmp_path):
    """`label:en` (one colon, a bare language code) and `int` for integer, as pyxform
    reads them."""
    header = ["type", "name", "label", "label:en", "required"]
    survey = [["int", "rooms", "房间数", "Rooms", "yes"], ["string", "why", "原因", "Why", "no"]]
    result = convert_xlsform(_form(tmp_path, "aliases", survey, header=header))
    definition = yaml.safe_load(result.yaml_text)
    questions = definition["sections"][0]["questions"]
    assert [(q["id"], q["type"], q["text"]) for q in questions] == [
        ("rooms", "integer", {"zh_CN": "房间数", "en": "Rooms"}),
        ("why", "text", {"zh_CN": "原因", "en": "Why"})]
    assert result.unsupported == []


NESTED = [
    ["begin group", "outer", "外层", None, None, None, "${has_complained} = '1' or "
     "${has_complained} = '2'"],
    ["begin group", "inner", "内层", None, None, None, "selected(${has_complained}, '1')"],
    ["text", "why", "原因", None, None, "no"],
    ["end group"],
    ["end group"],
]


def test_nested_group_relevance_is_combined(tmp_path):
    survey = [*SURVEY[:6], *NESTED, *SURVEY[6:]]
    result = convert_xlsform(_form(tmp_path, "nested", survey))
    assert result.refusals == []
    show_if = result.questionnaire.question("why").show_if
    assert (show_if.question, show_if.codes()) == ("has_complained", ("1",))


def test_nested_group_relevance_on_two_questions_is_refused(tmp_path):
    nested = [row[:] for row in NESTED]
    nested[1][6] = "${household_size} = 3"
    survey = [*SURVEY[:6], *nested, *SURVEY[6:]]
    result = convert_xlsform(_form(tmp_path, "two", survey))
    assert result.questionnaire is None
    assert result.refusals == [Problem(
        "survey", 9, "relevant '${household_size} = 3' names 'household_size' while an "
        "enclosing condition names 'has_complained': conditions on two questions are not "
        "supported", "relevant", refuses=True)]


def test_equals_on_a_select_multiple_is_refused(tmp_path):
    survey = [*SURVEY[:5], ["text", "which", "哪个", None, None, "no",
                            "${complaint_channels} = '1'"], *SURVEY[5:]]
    result = convert_xlsform(_form(tmp_path, "multi", survey))
    assert [p.message for p in result.refusals] == [
        "relevant \"${complaint_channels} = '1'\": '=' on the select_multiple "
        "'complaint_channels' means exactly that one choice, which show_if cannot say "
        "(selected() can)"]


def test_or_specify_other_adds_the_text_question_odk_asks(tmp_path):
    survey = [row[:] for row in SURVEY]
    survey[4][0] = "select_multiple channel or_other"
    result = convert_xlsform(_form(tmp_path, "other", survey))
    assert result.refusals == []
    channels = result.questionnaire.question("complaint_channels")
    assert [o.code for o in channels.options] == ["1", "2", "3"]  # other → 3
    other = result.questionnaire.question("complaint_channels_other")
    assert (other.type, other.required, other.show_if.codes()) == ("text", False, ("3",))


def test_a_workbook_pyxform_trips_on_is_refused_not_a_traceback(tmp_path, monkeypatch):
    import pyxform.xls2json

    def trip(**_):
        raise KeyError("label")

    monkeypatch.setattr(pyxform.xls2json, "workbook_to_json", trip)
    result = convert_xlsform(_form(tmp_path, "trip", SURVEY))
    assert (result.yaml_text, result.questionnaire) == ("", None)
    assert result.refusals == [Problem(
        "", None, "pyxform cannot read the form (KeyError: 'label')", refuses=True)]
