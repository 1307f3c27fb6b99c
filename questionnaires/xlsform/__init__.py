"""Import of ODK / KoboToolbox XLSForm workbooks into the questionnaire YAML format.

Converted: the ``survey``, ``choices`` and ``settings`` sheets; the types ``select_one LIST``,
``select_multiple LIST``, ``integer``, ``text`` and ``note``; ``begin group`` / ``end group``
(one section per top-level group; a nested group's ``relevant`` applies to its questions);
``required``; ``relevant`` of the forms ``${q} = 'c'``, ``selected(${q}, 'c')`` and several
of them on one question joined with ``or``; simple ``constraint`` bounds on integers
(``. >= 1 and . <= 20``) and text (``string-length(.) <= 200``); ``label`` / ``hint``
columns in Chinese and English (``label::Chinese (zh)``, ``label::English (en)``, or plain
``label`` as the Chinese text); ``form_title`` and ``form_id`` in settings.

XLSForm has no dimensions or overall item, so the survey sheet may carry two extra columns:
``dimension`` (a snake_case dimension id on each rating item) and ``overall`` (``yes`` on the
overall-satisfaction item). Dimension labels come from an optional ``dimensions`` sheet with
``name`` and ``label`` columns. A ``select_one`` whose list has the codes 5, 4, 3, 2, 1 (and at
most one more code, taken as the "don't know" code) becomes a rating item, unless the survey
sheet has a ``dimension`` column and the row leaves it blank. Its direction must be proven
(:mod:`questionnaires.scale_direction`): by its labels, or by a ``scale_direction`` column
(``forward``/正向 or ``reversed``/反向) on the choices sheet (any row of the list) or on the
survey row. A declared reversed list is recoded to our codes (1→5 … 5→1, its ``relevant``
codes too); an unproven or undeclared reversed list is refused, and so is the conversion. A
second 5-point list with other labels than the scale's stays a single choice (one scale
serves every rating item).

Anything that cannot be converted is reported as a :class:`Problem` with its sheet and row
(1-based as Excel shows it; the header is row 1), and conversion continues with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from questionnaires import workbooks
from questionnaires.errors import QuestionnaireError
from questionnaires.loader import dump_definition, load_text
from questionnaires.model import Questionnaire
from questionnaires.xlsform.converter import Converter
from questionnaires.xlsform.sheets import Problem

__all__ = ["ConversionResult", "Problem", "convert_xlsform"]


@dataclass(frozen=True)
class ConversionResult:
    """``yaml_text`` is the converted definition (produced even when it is invalid, to be
    finished by hand); ``questionnaire`` is set only when that text validates."""

    yaml_text: str
    questionnaire: Questionnaire | None
    problems: list[Problem] = field(default_factory=list)


def convert_xlsform(path: str | PathLike[str]) -> ConversionResult:
    """Convert an XLSForm workbook (.xlsx) into the questionnaire YAML format.

    The workbook is read under :data:`~questionnaires.workbooks.XLSFORM_LIMITS`: a file too
    large, a zip bomb or a sheet declaring millions of cells is refused before it is loaded,
    and reading stops at the row or time limit.
    """
    converter = Converter(Path(path).stem)
    try:
        with workbooks.SafeWorkbook(path, workbooks.XLSFORM_LIMITS) as workbook:
            sheets = {sheet.title.strip().lower(): sheet for sheet in workbook.sheets()}
            if "survey" not in sheets:
                return ConversionResult(
                    "", None, [Problem("", None, "the workbook has no 'survey' sheet")]
                )
            data = converter.convert(sheets)
    except workbooks.FileRefused as exc:
        return ConversionResult("", None, [Problem("", None, str(exc))])
    yaml_text = f"# Converted from {Path(path).name} by questionnaires.xlsform\n" + dump_definition(
        data
    )
    questionnaire: Questionnaire | None = None
    try:
        questionnaire = load_text(yaml_text, source=str(path))
    except QuestionnaireError as exc:
        converter.problems.extend(
            converter.locate(issue.path, issue.message) for issue in exc.issues
        )
    if converter.refused:
        questionnaire = None
    return ConversionResult(yaml_text, questionnaire, converter.problems)
