"""The rating scale of an XLSForm conversion: the default scale, and a choice list's
direction proven or declared (:mod:`questionnaires.scale_direction`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from questionnaires import scale_direction
from questionnaires.elements import RATING_CODES
from questionnaires.xlsform.sheets import ChoiceList, Problem, row_of

DEFAULT_NA_LABEL = {"zh_CN": "不清楚", "en": "Don't know"}


def default_scale() -> dict[str, Any]:
    """The scale of METHODS.md section 1, for workbooks without a rating list."""
    labels = ["非常满意", "满意", "一般", "不满意", "非常不满意"]
    english = ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"]
    return {
        "codes": {
            code: {"zh_CN": zh, "en": en}
            for code, zh, en in zip(RATING_CODES, labels, english, strict=True)
        },
        "na_code": "9",
        "na_label": dict(DEFAULT_NA_LABEL),
    }


def settle_list_direction(choice_list: ChoiceList, declared_on_row: str) -> str | None:
    """Settle a 5-point list's direction once (``choice_list.settled``); a declared
    reversed list is recoded in place (its codes, and ``renamed`` for relevant
    expressions). Returns the refusal when the direction is not established."""
    if declared_on_row and not choice_list.direction:
        choice_list.direction = declared_on_row
    if choice_list.settled is not None:
        return None
    labels = {
        code: [text for text in (label or {}).values() if text]
        for code, label in zip(choice_list.codes, choice_list.labels, strict=True)
    }
    verdict = scale_direction.settle(labels, choice_list.direction or None)
    choice_list.settled = verdict.direction is not None
    if verdict.direction is None:
        return (f"list {choice_list.name!r} refused as a rating scale: {verdict.refusal} "
                "(a scale_direction column on the choices or survey sheet declares it)")
    if verdict.direction == scale_direction.REVERSED:
        originals = choice_list.renamed or {code: code for code in choice_list.codes}
        choice_list.renamed = {
            name: scale_direction.recode(code) for name, code in originals.items()}
        choice_list.codes = [scale_direction.recode(code) for code in choice_list.codes]
    return None


class RatingScales:
    """Which 5-point lists of a form become rating items, and the one scale they share.

    A ``select_one`` whose list has the codes 5, 4, 3, 2, 1 as its names (and at most one
    more code, the "don't know") is a rating item, unless the survey sheet has a
    ``dimension`` column and the question leaves it blank, or its list's direction is not
    established (then the conversion is refused). A second list with other labels than the
    scale's stays a single choice: one scale serves every rating item, and its labels must
    be the item's own.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.scale: dict[str, Any] | None = None
        self.scale_list = ""  # the choice list the scale's labels come from
        self.has_dimension_column = False

    def _candidate(self, element: dict[str, Any], choice_list: ChoiceList) -> bool:
        """The list has the scale's codes as its own names, and the row may be a rating."""
        extra = set(choice_list.codes) - set(RATING_CODES)
        if not set(RATING_CODES) <= set(choice_list.codes) or len(extra) > 1:
            return False
        if choice_list.invented:
            return False  # codes 1..n given in the order of the names, not a scale's
        return not (self.has_dimension_column and not element.get("dimension"))

    def is_rating(self, element: dict[str, Any], choice_list: ChoiceList) -> bool:
        if not self._candidate(element, choice_list):
            return False
        if not self._direction_settled(element, choice_list):
            return False
        extra = set(choice_list.codes) - set(RATING_CODES)
        labels = dict(zip(choice_list.codes, choice_list.labels, strict=True))
        na_code = next(iter(extra), None)
        codes = {code: labels[code] or {"zh_CN": code} for code in RATING_CODES}
        row = row_of(element)
        if self.scale is None:
            self.scale = default_scale()
            self.scale["codes"] = codes
            if choice_list.direction:
                self.scale["direction"] = scale_direction.FORWARD
            if na_code is not None:
                self.scale["na_code"] = na_code
                self.scale["na_label"] = labels[na_code] or DEFAULT_NA_LABEL
            self.scale_list = choice_list.name
        elif na_code is not None and na_code != self.scale["na_code"]:
            self.problems.append(Problem("survey", row, (
                f"'don't know' code {na_code!r} differs from the scale's "
                f"{self.scale['na_code']!r}: kept as a single choice")))
            return False
        elif codes != self.scale["codes"]:
            self.problems.append(Problem("survey", row, (
                f"list {choice_list.name!r} has the codes 5..1 but other labels than the "
                f"scale (list {self.scale_list!r}): kept as a single choice")))
            return False
        return True

    def _direction_settled(self, element: dict[str, Any], choice_list: ChoiceList) -> bool:
        """Whether the list's direction is proven (a declared reversed list is recoded)."""
        already = choice_list.settled
        refusal = settle_list_direction(choice_list, str(element.get("scale_direction") or ""))
        if refusal and already is None:
            self.problems.append(Problem("choices", choice_list.row, refusal,
                                         refuses=True))
        return bool(choice_list.settled)

    def rating_fields(self, element: dict[str, Any], choice_list: ChoiceList | None,
                      identifier: Callable[[str, str, int | None], str]) -> dict[str, Any]:
        """``dimension``, ``overall`` and ``allow_na`` of a rating item."""
        fields: dict[str, Any] = {}
        if element.get("dimension"):
            fields["dimension"] = identifier(str(element["dimension"]), "survey",
                                             row_of(element))
        if str(element.get("overall", "")).strip().lower() in {"yes", "true", "true()", "1",
                                                               "y"}:
            fields["overall"] = True
        codes = choice_list.codes if choice_list is not None else []
        fields["allow_na"] = len(set(codes) - set(RATING_CODES)) == 1
        return fields
