"""Our XLSForm import on forms nobody here wrote (issue 17, item 1): pyxform's and
KoboToolbox's public fixtures (``xlsform_corpus/``, see its README for sources and licences).

Each fixture is written as the .xlsx a user would upload, then read both by our import and by
pyxform (``xls2json.parse_file_to_json``, the ODK reference reading). For every file:

- no crash;
- pyxform refuses it: ours refuses it too, with pyxform's message;
- nothing is dropped silently: every question, note or group pyxform reads is converted, or a
  problem names its survey row;
- ours is refused: every refusal is specific (says where: sheet and row, or column);
- ours is not refused for a feature: every question pyxform reads has the same type, choices (codes and
  labels), required flag and relevance in our definition. Relevance is compared on every
  answer of the question it names, by evaluating pyxform's expressions (its groups' and its
  own, all required) with the small evaluator of ``test_xlsform_pyxform``.

The converted definition may then still fail our own checks (most public forms have no
overall satisfaction item, many no Chinese text); that refuses it too, with the validator's
message on its row, but only after the comparison above.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from pyxform import xls2json
from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import md_table_to_workbook

from questionnaires.scale_direction import recode
from questionnaires.xlsform import convert_xlsform
from questionnaires.xlsform.columns import our_type
from tests.questionnaires.test_xlsform_pyxform import _evaluate

CORPUS = Path(__file__).parent / "xlsform_corpus"
FILES = sorted(p for p in CORPUS.rglob("*")
               if p.suffix in {".md", ".json"} and p.name != "README.md")
_TRUE = {"yes", "true", "true()", "1", "y"}
_TYPES = {"select one": {"single", "rating"}, "select all that apply": {"multiple"},
          "integer": {"integer"}, "text": {"text"}}


def workbook_from_fixture(source: Path, target: Path) -> Path:
    """The fixture as the .xlsx a user would upload."""
    if source.suffix == ".md":
        workbook = md_table_to_workbook(source.read_text(encoding="utf-8"))
    else:
        workbook = _kobo_workbook(json.loads(source.read_text(encoding="utf-8")))
    workbook.save(target)
    return target


def _kobo_workbook(asset: dict) -> Workbook:
    """A KoboToolbox asset's ``content`` (survey/choices/settings rows; translated columns
    as lists beside its ``translations``) as a workbook."""
    content = asset.get("content", asset)
    translations = content.get("translations") or [None]
    translated = set(content.get("translated") or [])
    workbook = Workbook(write_only=True)
    for sheet in ("survey", "choices", "settings"):
        rows = content.get(sheet)
        if isinstance(rows, dict):
            rows = [rows]
        if not rows:
            continue
        records = [_kobo_row(row, translated, translations) for row in rows]
        header = list(dict.fromkeys(key for record in records for key in record))
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(header)
        for record in records:
            worksheet.append([record.get(key) for key in header])
    return workbook


def _kobo_row(row: dict, translated: set[str], translations: list) -> dict[str, object]:
    record: dict[str, object] = {}
    row = dict(row)
    if "select_from_list_name" in row:  # Kobo keeps the list apart from the type
        row["type"] = f"{row['type']} {row.pop('select_from_list_name')}"
    for key, value in row.items():
        if key.startswith("$") or isinstance(value, dict):
            continue
        if key in translated and isinstance(value, list):
            for language, text in zip(translations, value, strict=False):
                record[f"{key}::{language}" if language else key] = text
        elif isinstance(value, list):
            record[key] = " ".join(str(item) for item in value)
        elif isinstance(value, bool):
            record[key] = "true" if value else "false"
        else:
            record[key] = value
    return record


@pytest.fixture(scope="module")
def outcomes() -> Counter:
    return Counter()


@pytest.mark.parametrize("source", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_file_converts_faithfully_or_is_refused_specifically(tmp_path, source, outcomes):
    path = workbook_from_fixture(source, tmp_path / f"{source.stem}.xlsx")
    result = convert_xlsform(path)  # must not raise
    try:
        pyxform = xls2json.parse_file_to_json(str(path))
    except PyXFormError as exc:
        assert [p.message for p in result.refusals] == [f"pyxform refuses the form: {exc}"]
        outcomes["refused by pyxform (its message)"] += 1
        return
    assert result.yaml_text
    definition = yaml.safe_load(result.yaml_text)
    ours = {q["id"]: q for s in definition["sections"] for q in s["questions"]}
    by_row = {row: ours[qid] for qid, row in result.question_rows.items()}
    reported = {p.row for p in result.problems if p.sheet in {"survey", "choices"}}
    elements = list(_pyxform_elements(pyxform))
    for element, _ in elements:
        row = _row_of(element)
        assert row in by_row or row in reported or element["type"] in {"group", "note"}, (
            f"{source.name}: row {row} ({element['name']}) dropped silently")
    for problem in result.refusals:
        assert problem.row is not None or problem.column or problem.sheet == "", str(problem)
    if result.unsupported:
        outcomes[f"refused, unsupported: {_reason(result.unsupported[0])}"] += 1
        return
    names = {element["name"]: element for element, _ in elements}
    for element, conditions in elements:
        row = _row_of(element)
        if _kind(element) in _TYPES and row in by_row:
            _compare(element, conditions, by_row[row], definition, names, by_row)
        elif element["type"] == "note" and element.get("label"):
            assert _texts(element["label"])[0] in result.yaml_text
    # Converted faithfully; it may still lack what a satisfaction survey needs (an overall
    # item, Chinese text), which refuses it with our checks' messages on their rows.
    outcomes["converted, valid" if result.questionnaire else
             f"converted, then refused by our checks: {_reason(result.refusals[0])}"] += 1


def test_corpus_outcomes_are_counted(outcomes):
    """Runs last in this module; prints the counts for the report (``pytest -s -p no:xdist``;
    under xdist each worker sees only its share)."""
    print("\nXLSForm corpus outcomes:")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:3d}  {outcome}")
    assert sum(outcomes.values()) <= len(FILES)


def _pyxform_elements(node: dict, conditions: tuple[str, ...] = ()):
    """Every element pyxform read from a row (its own meta group left out), each with the
    relevance expressions that apply to it: its groups' and its own."""
    for child in node.get("children", []):
        relevant = (child.get("bind") or {}).get("relevant")
        applies = (*conditions, relevant) if relevant else conditions
        if _row_of(child) is None:
            continue
        yield child, applies
        if child["type"] == "group":
            yield from _pyxform_elements(child, applies)


def _row_of(element: dict) -> int | None:
    row = element.get("survey_app_row")
    return int(row) if row else None


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [text for text in (value or {}).values() if text]


def _reason(problem) -> str:
    """The kind of a refusal, for the counts."""
    if problem.invalid:
        if "zh_CN" in problem.message:
            return "no Chinese text"
        if problem.message.startswith(("dimensions:", "sections:")):
            return "no rating item or no question left (a satisfaction survey needs both)"
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\)|\d+", "…", problem.message)
    return f"{problem.column or problem.sheet or 'file'}: {text[:60]}"


def _compare(element, conditions, question, definition, names, by_row):
    assert question["type"] in _TYPES[_kind(element)], element["name"]
    required = str((element.get("bind") or {}).get("required", "")).lower() in _TRUE
    assert question["required"] == required, element["name"]
    codes = _compare_choices(element, question, definition)
    _compare_relevance(element, conditions, question, definition, names, by_row, codes)


def _compare_choices(element, question, definition) -> dict[str, str]:
    """Choice labels as pyxform reads them; returns pyxform's name -> our code."""
    choices = element.get("choices") or []
    if question["type"] == "rating":
        scale = definition["scale"]
        declared = any(c.get("scale_direction") for c in choices)
        mapping = {c["name"]: recode(c["name"]) if declared else c["name"] for c in choices}
        for choice in choices:
            code = mapping[choice["name"]]
            shown = scale["na_label"] if code == scale["na_code"] else scale["codes"][code]
            assert set(shown.values()) <= set(_texts(choice.get("label"))) | {code}
        return mapping
    if not choices:
        return {}
    options = question["options"]
    assert len(options) == len(choices), element["name"]
    names = [c["name"] for c in choices]
    numeric = all(re.fullmatch(r"0|[1-9][0-9]{0,3}", n) for n in names)
    expected = names if numeric and len(set(names)) == len(names) else [
        str(i) for i in range(1, len(names) + 1)]
    assert [o["code"] for o in options] == expected, element["name"]
    for option, choice in zip(options, choices, strict=True):
        assert set((option.get("label") or {}).values()) <= set(_texts(choice.get("label")))
    mapping: dict[str, str] = {}
    for name, option in zip(names, options, strict=True):
        mapping.setdefault(name, option["code"])
    return mapping


def _compare_relevance(element, conditions, question, definition, names, by_row, _codes):
    show_if = question.get("show_if")
    if not conditions:
        assert show_if is None, element["name"]
        return
    assert show_if is not None, element["name"]
    expression = " and ".join(f"({c})" for c in conditions)
    referenced = set(re.findall(r"\$\{(\w+)\}", expression))
    assert len(referenced) == 1, expression
    target = names[referenced.pop()]
    ours = by_row[_row_of(target)]
    assert show_if["question"] == ours["id"]
    allowed = [show_if["equals"]] if "equals" in show_if else show_if["in"]
    answers = _code_map(target, ours, definition) or {c: c for c in [*allowed, "other"]}
    for name, code in answers.items():
        value = [name] if _kind(target) == "select all that apply" else name
        expected = _evaluate(expression, {target["name"]: value})
        assert expected is not None, expression
        assert (code in allowed) == expected, (element["name"], name)


def _code_map(target, ours, definition) -> dict[str, str]:
    if _kind(target) not in _TYPES or ours["type"] in {"integer", "text"}:
        return {}
    return _compare_choices(target, ours, definition)
