"""Import of ODK / KoboToolbox XLSForm workbooks into the questionnaire YAML format.

The workbook is read under the limits of :mod:`questionnaires.workbooks` and parsed by
pyxform, the ODK reference implementation (:mod:`~questionnaires.xlsform.reading`): whatever
pyxform accepts (its type and column spellings, ``bind:constraint``, ``label:en``,
``select one from LIST``, languages, groups) is read as pyxform reads it, and what pyxform
refuses is refused with pyxform's message. Only the mapping to our format is ours
(:mod:`~questionnaires.xlsform.converter`):

- ``select one`` / ``select all that apply`` with a list of the choices sheet, ``integer``,
  ``text``, ``note`` (the introduction, or a section's description) and groups (one
  section per top-level group; nested groups flattened into it);
- ``required`` yes/no; ``relevant`` of the forms ``${q} = 'c'``, ``selected(${q}, 'c')`` and
  several of them on one question joined with ``or``, combined with the ``relevant`` of
  every group around the question when all name the same question; simple ``constraint``
  bounds on integers (``. >= 1 and . <= 20``) and texts (``string-length(.) <= 200``);
- ``label`` / ``hint`` in Chinese and English (``label::Chinese (zh)``, ``label::English
  (en)``, or plain ``label`` as the Chinese text); ``form_title`` and ``form_id``.

Anything else with meaning (repeats, calculations, cascading-select ``choice_filter``,
defaults, media, other question types, relevance or constraints beyond those forms) refuses
the conversion with a :class:`Problem` naming the sheet, row and column; presentation-only
columns (``appearance``, constraint messages) and faithful changes (ids made snake_case,
choice names renumbered, metadata fields) are reported as notes. Nothing is dropped
silently. Repeated or non-numeric choice names are renumbered 1, 2, …

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from questionnaires.errors import QuestionnaireError
from questionnaires.loader import dump_definition, load_text
from questionnaires.model import Questionnaire
from questionnaires.xlsform.converter import Converter
from questionnaires.xlsform.reading import FormRefused, read_xlsform
from questionnaires.xlsform.sheets import Problem

__all__ = ["ConversionResult", "Problem", "convert_xlsform"]


@dataclass(frozen=True)
class ConversionResult:
    """``yaml_text`` is the converted definition (produced even when it is refused or
    invalid, to be finished by hand); ``questionnaire`` is set only when nothing was refused
    and that text validates."""

    yaml_text: str
    questionnaire: Questionnaire | None
    problems: list[Problem] = field(default_factory=list)
    # Our question id -> the survey row it was converted from.
    question_rows: dict[str, int | None] = field(default_factory=dict)

    @property
    def refusals(self) -> list[Problem]:
        """The problems that refuse the conversion."""
        return [problem for problem in self.problems if problem.refuses]

    @property
    def unsupported(self) -> list[Problem]:
        """The refusals for what the workbook holds (pyxform's own included), leaving out
        those of our checks on the converted definition."""
        return [problem for problem in self.refusals if not problem.invalid]


def convert_xlsform(path: str | PathLike[str]) -> ConversionResult:
    """Convert an XLSForm workbook (.xlsx) into the questionnaire YAML format.

    The workbook is read under :data:`~questionnaires.workbooks.XLSFORM_LIMITS`: a file too
    large, a zip bomb or a sheet declaring millions of cells is refused before it is loaded,
    and reading stops at the row or time limit. pyxform then parses it.
    """
    converter = Converter(Path(path).stem)
    try:
        form = read_xlsform(path)
    except FormRefused as exc:
        return ConversionResult("", None, [Problem("", None, str(exc), refuses=True)])
    data = converter.convert(form)
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
    return ConversionResult(yaml_text, questionnaire, converter.problems,
                            converter.rows_by_id())
