"""Our XLSForm import on forms nobody here wrote (issue 17, item 1): pyxform's public
fixtures (``xlsform_corpus/``, see its README for sources and licences).

Each fixture is written as the .xlsx a user would upload, then read both by our import and by
pyxform (``xls2json.parse_file_to_json``, the ODK reference reading). For every file:

- no crash;
- pyxform refuses it: ours refuses it too, with pyxform's message;
- nothing is dropped silently: every question, note or group pyxform reads is converted, or a
  problem names its survey row;
- ours is refused: every refusal is specific (says where: sheet and row, or column);
- ours is not refused for a feature: every question pyxform reads has the same type,
  choices (codes and labels), required flag and relevance in our definition. Relevance is
  compared on every answer of the question it names, by evaluating pyxform's expressions
  (its groups' and its own, all required) with the small evaluator of
  ``test_xlsform_pyxform``.

The converted definition may then still fail our own checks (most public forms have no
overall satisfaction item, many no Chinese text); that refuses it too, with the validator's
message on its row, but only after the comparison above.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from pyxform import xls2json
from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import md_table_to_workbook

from questionnaires.scale_direction import recode
from questionnaires.xlsform import convert_xlsform
from questionnaires.xlsform.columns import our_type
from tests.questionnaires.test_xlsform_pyxform import _evaluate

CORPUS = Path(__file__).parent / "xlsform_corpus"
FILES = sorted(p for p in CORPUS.rglob("*")
               if p.suffix == ".md" and p.name != "README.md")
_TRUE = {"yes", "true", "true()", "1", "y"}
_TYPES = {"select one": {"single", "rating"}, "select all that apply": {"multiple"},
          "integer": {"integer"}, "text": {"text"}}


def workbook_from_fixture(source: Path, target: Path) -> Path:
    """The fixture as the .xlsx a user would upload."""
    md_table_to_workbook(source.read_text(encoding="utf-8")).save(target)
    return target


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
    ours_by_id = {q["id"]: q for s in definition["sections"] for q in s["questions"]}
    by_row: dict[int | None, dict] = {}
    for qid, row in result.question_rows.items():
        by_row.setdefault(row, ours_by_id[qid])  # a row's own question comes first
    reported = {p.row for p in result.problems if p.sheet in {"survey", "choices"}}
    elements = list(_pyxform_elements(pyxform))
    row_of = _rows_of(elements, _survey_rows(path))
    refused_rows = {p.row for p in result.refusals}
    for element, _, ancestors in elements:
        row = row_of[id(element)]
        covered = (row in by_row or row in reported or element["type"] in {"group", "note"}
                   or any(row_of[id(a)] in refused_rows for a in ancestors)
                   or any(repr(element["name"]) in p.message for p in result.refusals))
        assert covered, f"{source.name}: row {row} ({element['name']}) dropped silently"
    for problem in result.refusals:
        # Specific: it says where (sheet, row, column) or names what (a quoted name, a
        # definition path of our checks).
        where = problem.row is not None or problem.column or problem.sheet
        assert where or "'" in problem.message or problem.invalid, str(problem)
    if result.unsupported:
        outcomes[f"refused, unsupported: {_reason(result.unsupported[0])}"] += 1
        return
    names = {element["name"]: element for element, _, _ in elements}
    compared = 0
    for element, conditions, _ in elements:
        row = row_of[id(element)]
        ours = _ours(element, row, by_row, ours_by_id)
        if _kind(element) in _TYPES and ours is not None:
            target = _target(conditions, names)
            ours_target = (_ours(target, row_of[id(target)], by_row, ours_by_id)
                           if target is not None else None)
            _compare(element, conditions, ours, (target, ours_target), definition)
            compared += 1
        elif element["type"] == "note" and element.get("label"):
            texts = [definition.get("intro") or {}] + [
                section.get("description") or {} for section in definition["sections"]]
            shown = "\n".join(text for texts_ in texts for text in texts_.values())
            assert _texts(element["label"])[0] in shown, element["name"]
    # Converted faithfully; it may still lack what a satisfaction survey needs (an overall
    # item, Chinese text), which refuses it with our checks' messages on their rows.
    assert compared == sum(_kind(element) in _TYPES for element, _, _ in elements)
    outcomes["converted, valid" if result.questionnaire else
             f"converted, then refused by our checks: {_reason(result.refusals[0])}"] += 1
    outcomes["(questions compared with pyxform's)"] += compared


def test_corpus_outcomes_are_counted(outcomes):
    """Runs last in this module; prints the counts for the report (``pytest -s -p no:xdist``;
    under xdist each worker sees only its share)."""
    print("\nXLSForm corpus outcomes:")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:3d}  {outcome}")
    assert sum(n for outcome, n in outcomes.items() if outcome[0] != "(") <= len(FILES)


def _pyxform_elements(node: dict, conditions: tuple[str, ...] = (), ancestors: tuple = ()):
    """Every element pyxform read, in the order of the rows (the meta group pyxform adds
    itself left out), each with the relevance expressions that apply to it (its groups' and
    its own) and the groups or repeats around it."""
    for child in node.get("children", []):
        if child["name"] == "meta" and (child.get("control") or {}).get("bodyless"):
            continue
        relevant = (child.get("bind") or {}).get("relevant")
        applies = (*conditions, relevant) if relevant else conditions
        yield child, applies, ancestors
        yield from _pyxform_elements(child, applies, (*ancestors, child))


def _rows_of(elements, rows: list[tuple[int, str]]) -> dict[int, int | None]:
    """Each element's survey row, matched by name in order; an element pyxform adds itself
    (the text question of 'or specify other', a repeat's count) gets the row before it."""
    found: dict[int, int | None] = {}
    position, previous = 0, None
    for element, _, _ in elements:
        if position < len(rows) and rows[position][1] == element["name"]:
            previous = rows[position][0]
            position += 1
            found[id(element)] = previous
        else:
            found[id(element)] = previous
    assert position == len(rows), "every survey row is an element of pyxform's"
    return found


def _ours(element, row, by_row, ours_by_id):
    """Our question for a pyxform element: by its row, or ``NAME_other`` for the text
    question pyxform adds to 'or specify other'."""
    question = by_row.get(row)
    if question is not None and element["name"].endswith("_other") and question["type"] != (
            "text"):
        return ours_by_id.get(f"{question['id']}_other")
    return question


def _kind(element) -> str:
    """pyxform's type, or the one it is another name for (``int`` is ``integer``)."""
    kind = element["type"]
    aliases = {"integer": "integer", "text": "text", "single": "select one",
               "multiple": "select all that apply", "note": "note"}
    return kind if kind in _TYPES else aliases.get(our_type(kind) or "", kind)


def _survey_rows(path: Path) -> list[tuple[int, str]]:
    """The Excel row and name of each survey row pyxform makes an element of (every row with
    a type but those ending a group, repeat or loop)."""
    workbook = load_workbook(path, read_only=True)
    sheets = {name.strip().lower(): name for name in workbook.sheetnames}
    sheet = workbook[sheets.get("survey", workbook.sheetnames[0])]
    rows = sheet.iter_rows(values_only=True)
    header = [str(cell or "").strip().lower() for cell in next(rows)]
    kind_at = header.index("type") if "type" in header else header.index("command")
    name_at = header.index("name") if "name" in header else header.index("value")
    found = []
    for number, values in enumerate(rows, start=2):
        cells = [str(value).strip() if value is not None else "" for value in values]
        cells += [""] * (len(header) - len(cells))
        kind = " ".join(cells[kind_at].lower().split())  # pyxform collapses spaces too
        if kind and not re.fullmatch(r"end[ _](group|repeat|loop)", kind):
            found.append((number, cells[name_at]))
    workbook.close()
    return found


def _target(conditions, names) -> dict | None:
    referenced = set(re.findall(r"\$\{(\w+)\}|\.\./(\w+)", " ".join(conditions)))
    referenced = {a or b for a, b in referenced}
    return names.get(referenced.pop()) if len(referenced) == 1 else None


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [text for text in (value or {}).values() if text]


def _reason(problem) -> str:
    """The kind of a refusal, for the counts."""
    if problem.invalid:
        if problem.column == "overall":
            return "no overall satisfaction item (the survey needs one)"
        if "zh_CN" in problem.message:
            return "no Chinese text"
        if problem.message.startswith(("dimensions:", "sections:")):
            return "no rating item or no question left (a satisfaction survey needs both)"
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\)|\d+", "…", problem.message)
    return f"{problem.column or problem.sheet or 'file'}: {text[:60]}"


def _compare(element, conditions, question, target, definition):
    """``target``: pyxform's element and our question that the relevance names."""
    assert question["type"] in _TYPES[_kind(element)], element["name"]
    required = str((element.get("bind") or {}).get("required", "")).lower() in _TRUE
    assert question["required"] == required, element["name"]
    _compare_choices(element, question, definition)
    _compare_relevance(element, conditions, question, target, definition)


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


def _compare_relevance(element, conditions, question, target, definition):
    """Our show_if against pyxform's expressions (its groups' and its own, all required),
    on every answer of the question they name."""
    show_if = question.get("show_if")
    if not conditions:
        assert show_if is None, element["name"]
        return
    target_element, target_question = target
    assert show_if is not None and target_question is not None, element["name"]
    assert show_if["question"] == target_question["id"], element["name"]
    allowed = [show_if["equals"]] if "equals" in show_if else show_if["in"]
    if target_question["type"] in {"single", "multiple", "rating"}:
        answers = _compare_choices(target_element, target_question, definition)
    else:
        answers = {code: code for code in [*allowed, "another answer"]}
    expression = re.sub(r"\.\./(\w+)", r"${\1}", " and ".join(f"({c})" for c in conditions))
    for name, code in answers.items():
        value = [name] if target_question["type"] == "multiple" else name
        expected = _evaluate(expression, {target_element["name"]: value})
        assert expected is not None, expression
        assert (code in allowed) == expected, (element["name"], name)
