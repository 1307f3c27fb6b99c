"""Spellings and constructs of real XLSForms (issue 17, item 1): legacy column and type
spellings pyxform accepts convert like today's; a cascading select is reported, and its
repeated choice names no longer crash the conversion."""

from __future__ import annotations

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
