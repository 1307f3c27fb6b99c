"""Our XLSForm import against pyxform's reading of the same workbooks (issue 17, item 1).

pyxform (the ODK reference implementation) parses each of the XLSForm fixtures of these
tests. Every question pyxform reads must either be converted with the same name, type,
choices (codes and labels), required flag and relevance, or be reported by our import as a
problem on its survey row; a refused conversion must say why. Relevance is compared by
evaluating pyxform's expression (with the small evaluator below, written for this test) and
our ``show_if`` on every answer of the question it refers to.
"""

from __future__ import annotations

import re

import pytest
from pyxform import xls2json
from pyxform.errors import PyXFormError

from questionnaires.scale_direction import recode
from questionnaires.xlsform import convert_xlsform
from tests.questionnaires import test_xlsform as fixtures
from tests.questionnaires.test_scale_direction import _reversed_choices
from tests.questionnaires.test_xlsform_legacy import LEGACY_HEADER

_TRUE = {"yes", "true", "true()", "1", "y"}
_TYPES = {"select one": {"single", "rating"}, "select all that apply": {"multiple"},
          "integer": {"integer"}, "text": {"text"}}


def _survey_variants() -> dict[str, dict[str, list[list[object]]]]:
    base = {"survey": [fixtures.SURVEY_HEADER, *fixtures.SURVEY], "choices": fixtures.CHOICES,
            "settings": fixtures.SETTINGS, "dimensions": fixtures.DIMENSIONS}
    variants = {"mini": base}
    for param in fixtures.UNSUPPORTED:
        rows, _ = param.values
        variants[f"unsupported-{param.id}"] = {
            **base, "survey": [fixtures.SURVEY_HEADER, *fixtures.SURVEY[:5], *rows,
                               *fixtures.SURVEY[5:]]}
    renamed = [row[:] for row in fixtures.CHOICES]
    renamed[1][1], renamed[2][1] = "yes", "no"
    survey = [row[:] for row in fixtures.SURVEY]
    survey[8][6] = "${has_complained} = 'yes'"
    survey[4][6] = "selected(${has_complained}, 'yes')"
    variants["non-numeric-names"] = {**base, "survey": [fixtures.SURVEY_HEADER, *survey],
                                     "choices": renamed}
    reversed_survey = [row[:] for row in fixtures.SURVEY]
    reversed_survey[8][6] = "${staff_attitude} = '1'"
    variants["reversed-declared"] = {
        **base, "survey": [fixtures.SURVEY_HEADER, *reversed_survey],
        "choices": _reversed_choices("reversed")}
    variants["reversed-undeclared"] = {**base, "choices": _reversed_choices()}
    group_relevant = [*fixtures.SURVEY[:6], fixtures.SURVEY[9],
                      ["begin group", "ratings", "满意度", None, None, None,
                       "${has_complained} = '2'"],
                      fixtures.SURVEY[7], fixtures.SURVEY[8], fixtures.SURVEY[11]]
    variants["group-relevant"] = {**base, "survey": [fixtures.SURVEY_HEADER, *group_relevant]}
    # A nested group asked only of those who complained (the Kobo form of the issue).
    nested = [*fixtures.SURVEY[:7],
              ["begin group", "about_staff", "服务", None, None, None, "${has_complained} = '1'"],
              fixtures.SURVEY[7], ["end group"], *fixtures.SURVEY[8:]]
    variants["nested-group-relevant"] = {**base, "survey": [fixtures.SURVEY_HEADER, *nested]}
    legacy = [row[:] for row in fixtures.SURVEY]
    legacy[3][0] = "select one from yesno"
    legacy[4][0] = "select all that apply channel"
    variants["legacy-spellings"] = {**base, "survey": [LEGACY_HEADER, *legacy]}
    return variants


VARIANTS = _survey_variants()


def _pyxform_questions(node: dict, condition: tuple[str, ...] = ()) -> list[tuple[dict, tuple]]:
    """Questions in order, each with the relevance expressions that apply to it (its
    groups' and its own)."""
    found = []
    for child in node.get("children", []):
        relevant = (child.get("bind") or {}).get("relevant")
        applies = (*condition, relevant) if relevant else condition
        if child["type"] == "group":
            if child["name"] != "meta":
                found += _pyxform_questions(child, applies)
        elif child["type"] in _TYPES:
            found.append((child, applies))
        else:
            found.append((child, applies))  # unsupported: must be reported
    return found


def _evaluate(expression: str, answers: dict[str, object]) -> bool | None:
    """XLSForm's ``${q} = 'c'``, ``selected(${q}, 'c')``, ``and``/``or``; None otherwise."""
    def selected(value: object, code: str) -> bool:
        return code in value if isinstance(value, list) else value == code

    python = re.sub(r"selected\(\s*\$\{(\w+)\}\s*,\s*'([^']*)'\s*\)",
                    r"selected(A.get('\1'), '\2')", expression)
    python = re.sub(r"\$\{(\w+)\}\s*=\s*(?:'([^']*)'|(\d+))",
                    lambda m: f"(A.get('{m[1]}') == '{m[2] or m[3]}')", python)
    if re.search(r"\$\{|[<>]|[^=!]=[^=]", python):
        return None
    return bool(eval(python, {"__builtins__": {}}, {"A": answers, "selected": selected}))


def _choices(question: dict) -> list[tuple[str, str]]:
    return [(choice["name"], next(iter(choice["label"].values()))) for choice in
            question.get("choices", [])]


def _survey_rows(sheets: dict) -> dict[str, int]:
    return {row[1]: number for number, row in enumerate(sheets["survey"][1:], start=2)
            if len(row) > 1 and row[1]}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_conversion_agrees_with_pyxform_or_reports_the_row(tmp_path, name):
    sheets = VARIANTS[name]
    path = fixtures.write_workbook(tmp_path / f"{name}.xlsx", sheets)
    result = convert_xlsform(path)
    try:
        pyxform = xls2json.parse_file_to_json(str(path))
    except PyXFormError as exc:
        # pyxform refuses the workbook: ours must not pass it silently either.
        assert result.problems, f"pyxform refuses ({exc}) but the conversion reports nothing"
        return
    if result.questionnaire is None:
        # Refused: with at least one specific message (sheet and row, or the file).
        assert result.problems and all(str(problem) for problem in result.problems)
        return
    reported = {p.row for p in result.problems if p.sheet == "survey"}
    rows = _survey_rows(sheets)
    questions = _pyxform_questions(pyxform)
    by_name = {q["name"]: q for q, _ in questions}
    for question, conditions in questions:
        row = rows[question["name"]]
        if row in reported:
            continue
        if question["type"] == "note":
            # Converted into the introduction or a section description.
            assert next(iter(question["label"].values())) in result.yaml_text
            continue
        ours = result.questionnaire.question(question["name"])
        assert ours.type in _TYPES[question["type"]], question["name"]
        required = str((question.get("bind") or {}).get("required", "")).lower() in _TRUE
        assert ours.required == required, question["name"]
        codes = _compare_choices(result.questionnaire, question, ours)
        _compare_relevance(result.questionnaire, ours, conditions, by_name, codes, reported,
                           rows)


def _compare_choices(questionnaire, question: dict, ours) -> dict[str, str]:
    """Check the choices; return pyxform's choice name -> our code for this question."""
    choices = _choices(question)
    if not choices:
        return {}
    if ours.type == "rating":
        scale = questionnaire.scale
        declared = any((c.get("scale_direction") or "") for c in question["choices"])
        mapping = {name: recode(name) if declared else name for name, _ in choices}
        for name, label in choices:
            code = mapping[name]
            shown = scale.na_label if code == scale.na_code else scale.codes[code]
            assert shown.zh_CN == label, (question["name"], name)
        return mapping
    options = [(o.code, o.label.zh_CN) for o in ours.options]
    assert [label for _, label in options] == [label for _, label in choices]
    return {name: code for (name, _), (code, _) in zip(choices, options, strict=True)}


def _compare_relevance(questionnaire, ours, conditions, by_name, codes, reported, rows):
    if not conditions:
        assert ours.show_if is None, ours.id
        return
    expression = " and ".join(f"({c})" for c in conditions)
    referenced = set(re.findall(r"\$\{(\w+)\}", expression))
    assert ours.show_if is not None, ours.id
    assert referenced == {ours.show_if.question}, ours.id
    target = by_name[ours.show_if.question]
    target_codes = _code_map(questionnaire, target)
    for name, code in target_codes.items():
        answer = [name] if target["type"] == "select all that apply" else name
        expected = _evaluate(expression, {target["name"]: answer})
        assert expected is not None, expression
        assert ours.show_if.matches(code) == expected, (ours.id, name)


def _code_map(questionnaire, question: dict) -> dict[str, str]:
    ours = questionnaire.question(question["name"])
    return _compare_choices(questionnaire, question, ours)


def test_pyxform_reads_all_but_the_calculation_without_formula(tmp_path):
    """The comparison above is only as good as pyxform's acceptance of the fixtures."""
    refused = []
    for name, sheets in VARIANTS.items():
        path = fixtures.write_workbook(tmp_path / f"{name}.xlsx", sheets)
        try:
            xls2json.parse_file_to_json(str(path))
        except PyXFormError:
            refused.append(name)
    assert refused == ["unsupported-calculate"]
