"""The rating scale of an XLSForm conversion: the default scale, and a choice list's
direction proven or declared (:mod:`questionnaires.scale_direction`)."""

from __future__ import annotations

from typing import Any

from questionnaires import scale_direction
from questionnaires.elements import RATING_CODES
from questionnaires.xlsform.sheets import ChoiceList

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
