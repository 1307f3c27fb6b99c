"""Which end of a rating scale is the satisfied one: proven from the labels or declared.

Every statistic reads code 5 as the most satisfied answer (METHODS.md section 1). A list
written the other way round (1 = 非常满意 … 5 = 非常不满意) would, taken as it stands, turn
every satisfaction rate into the dissatisfaction rate. So a scale is accepted only when its
direction is established:

- by its labels: those of the two end codes (5 and 1), and every other label that is known,
  are found in the satisfaction/agreement/quality vocabularies below and fall in order; or
- by an explicit declaration in the file: ``forward`` (正向: the highest code is the satisfied
  end) or ``reversed`` (反向: code 1 is the satisfied end). A reversed scale is recoded to our
  codes (1→5, 2→4, 3→3, 4→2, 5→1); a declaration the labels contradict is refused.

Used by the YAML loader (the ``scale.direction`` field) and the XLSForm conversion (a
``scale_direction`` column on the choices or survey sheet).

>>> establish({"5": ["非常满意"], "4": ["满意"], "3": ["一般"], "1": ["非常不满意"]})
Reading(direction='forward', reason='')
>>> establish({"5": ["很差"], "4": ["较差"], "3": ["一般"], "2": ["较好"], "1": ["很好"]}).direction
'reversed'
>>> settle({"5": ["A"], "4": ["B"], "3": ["C"], "2": ["D"], "1": ["E"]}, "反向").direction
'reversed'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FORWARD = "forward"
REVERSED = "reversed"

#: Spellings accepted in a declaration (case and surrounding spaces ignored).
DECLARATIONS: dict[str, str] = {
    "forward": FORWARD,
    "正向": FORWARD,
    "reversed": REVERSED,
    "reverse": REVERSED,
    "反向": REVERSED,
}

#: The five scale codes, lowest first.
SCALE_CODES: tuple[str, ...] = ("1", "2", "3", "4", "5")


def _entries(valence: int, *labels: str) -> dict[str, int]:
    return dict.fromkeys(labels, valence)


# Position of a label on one common line, 0 (most dissatisfied) to 10 (most satisfied). Only
# the order matters: a scale reads forward when its known labels rise with the code. Families
# (满意, 同意, 好/差, English satisfied/agree/good) share the line, so "满意 … 不满意" (满意 on
# top) and "非常满意 … 非常不满意" (满意 second) both fall in order.
VOCABULARY: dict[str, int] = {
    **_entries(10, "非常满意", "很满意", "十分满意", "特别满意", "完全满意", "极其满意",
               "非常同意", "很同意", "十分同意", "完全同意", "非常好", "很好", "优秀", "优",
               "very satisfied", "extremely satisfied", "completely satisfied",
               "strongly agree", "completely agree", "totally agree", "excellent"),
    **_entries(9, "very good"),
    **_entries(8, "满意", "同意", "好", "良好", "良", "satisfied", "agree", "good"),
    **_entries(7, "比较满意", "较满意", "还算满意", "挺满意", "比较同意", "较同意", "比较好",
               "较好", "somewhat satisfied", "fairly satisfied", "mostly satisfied",
               "somewhat agree", "slightly agree", "tend to agree", "mostly agree"),
    **_entries(6, "基本满意", "基本同意"),
    **_entries(5, "一般", "中立", "中等", "尚可", "还可以", "一般般", "neutral", "fair",
               "average", "neither satisfied nor dissatisfied", "neither agree nor disagree",
               "neither good nor bad"),
    **_entries(3, "不太满意", "不大满意", "比较不满意", "较不满意", "有点不满意", "不太同意",
               "比较不同意", "较不同意", "比较差", "较差", "somewhat dissatisfied",
               "fairly dissatisfied", "somewhat disagree", "slightly disagree",
               "tend to disagree", "poor"),
    **_entries(2, "不满意", "不同意", "差", "dissatisfied", "unsatisfied", "disagree", "bad"),
    **_entries(1, "very poor"),
    **_entries(0, "非常不满意", "很不满意", "十分不满意", "特别不满意", "极不满意", "完全不满意",
               "极其不满意", "非常不同意", "很不同意", "完全不同意", "非常差", "很差", "极差",
               "very dissatisfied", "extremely dissatisfied", "completely dissatisfied",
               "very unsatisfied", "strongly disagree", "completely disagree", "very bad"),
}

# Numbering people put around a label: "5 非常满意", "5.满意", "满意（5分）", "满意 5分".
_NUMBERING = re.compile(r"^\s*\d+\s*分?\s*[.、:：)-]?\s*|\s*[(（]\s*\d+\s*分?\s*[)）]\s*$"
                        r"|\s*\d+\s*分\s*$")
_PUNCTUATION = re.compile(r"[\s,，.。!！;；\"'“”‘’]+")


@dataclass(frozen=True)
class Reading:
    """What the labels say: ``forward``, ``reversed`` or None, and why when None."""

    direction: str | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The settled direction (``forward``/``reversed``), or None and the refusal."""

    direction: str | None
    refusal: str = ""


def label_position(label: str) -> int | None:
    """The label's position on the satisfaction line (0..10), None if not in the vocabulary.

    >>> [label_position(t) for t in (" 5. 非常满意 ", "Strongly  Agree", "满意（4分）")]
    [10, 10, 8]
    >>> label_position("少于1年") is None
    True
    """
    text = unicodedata.normalize("NFKC", label).strip().lower()
    text = _NUMBERING.sub("", text)
    if re.search(r"[a-z]", text):
        text = " ".join(re.sub(r"[^a-z ]+", " ", text).split())
    else:
        text = _PUNCTUATION.sub("", text)
    return VOCABULARY.get(text)


def _position(texts: Sequence[str]) -> int | None:
    # The Chinese label first; the English one when the Chinese is not known.
    for text in texts:
        position = label_position(text)
        if position is not None:
            return position
    return None


def establish(labels: Mapping[str, Sequence[str]]) -> Reading:
    """Read the direction of a scale from its labels (code -> texts, Chinese first).

    Forward when the labels of codes 5 and 1 are known and every known label rises with the
    code; reversed when they all fall; otherwise None with the reason.
    """
    known = [(code, _position(labels.get(code, ()))) for code in SCALE_CODES]
    if known[0][1] is None or known[-1][1] is None:
        return Reading(None, "the labels of the end codes 5 and 1 are not in the known "
                             "satisfaction, agreement or quality vocabularies")
    positions = [position for _, position in known if position is not None]
    steps = list(zip(positions, positions[1:], strict=False))
    if all(low < high for low, high in steps):
        return Reading(FORWARD, "")
    if all(low > high for low, high in steps):
        return Reading(REVERSED, "")
    return Reading(None, "the labels are not in order from one end of the scale to the other")


def parse_declaration(value: str) -> str | None:
    """``forward``/``reversed`` for a declaration, None when blank; ValueError otherwise."""
    text = value.strip().lower()
    if not text:
        return None
    if text not in DECLARATIONS:
        raise ValueError(f"scale direction {value!r} is not one of "
                         "forward (正向) or reversed (反向)")
    return DECLARATIONS[text]


def describe(labels: Mapping[str, Sequence[str]]) -> str:
    """The labels as a message shows them: ``5 = 非常满意, …, 1 = 非常不满意``."""
    return ", ".join(
        f"{code} = {next(iter(labels.get(code, ())), '') or '(no label)'}"
        for code in reversed(SCALE_CODES)
    )


def settle(labels: Mapping[str, Sequence[str]], declared: str | None) -> Verdict:
    """The direction to use, from the labels and the declaration (raw text or None)."""
    try:
        declaration = parse_declaration(declared or "")
    except ValueError as exc:
        return Verdict(None, str(exc))
    reading = establish(labels)
    shown = describe(labels)
    if declaration is None:
        if reading.direction == FORWARD:
            return Verdict(FORWARD)
        if reading.direction == REVERSED:
            return Verdict(None, f"reverse-coded ({shown}): code 1 is the satisfied end, but "
                                 "the statistics read 5 as the most satisfied answer; declare "
                                 "the direction as reversed (反向) to recode it 1→5, 2→4, 4→2, "
                                 "5→1")
        return Verdict(None, f"the direction of the scale cannot be established ({shown}): "
                             f"{reading.reason}; declare it as forward (正向, 5 is the "
                             "satisfied end) or reversed (反向, 1 is)")
    if reading.direction is not None and reading.direction != declaration:
        return Verdict(None, f"declared {declaration}, but the labels read {reading.direction} "
                             f"({shown})")
    return Verdict(declaration)


def recode(code: str) -> str:
    """Our code for a code of a reversed scale: 1→5, 2→4, 3→3, 4→2, 5→1; others unchanged.

    >>> [recode(c) for c in ("1", "2", "3", "4", "5", "9")]
    ['5', '4', '3', '2', '1', '9']
    """
    return str(6 - int(code)) if code in SCALE_CODES else code


# -- a definition as parsed from YAML ---------------------------------------------------------

def settle_definition(data: object) -> tuple[object, list[tuple[str, str]]]:
    """Check the scale of parsed definition data; recode it when declared reversed.

    Returns the data (recoded: the scale's labels moved to our codes, ``direction: forward``,
    and the codes of every ``show_if`` on a rating item) and the problems as (path, message).
    Data whose scale is malformed is returned as it is, for the model to report.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("scale"), Mapping):
        return data, []
    scale = data["scale"]
    codes = scale.get("codes")
    if not isinstance(codes, Mapping) or {str(code) for code in codes} != set(SCALE_CODES):
        return data, []
    labels = {str(code): _texts(label) for code, label in codes.items()}
    declared = scale.get("direction")
    verdict = settle(labels, declared if isinstance(declared, str) else None)
    if verdict.direction is None:
        path = "scale.direction" if declared is not None else "scale.codes"
        return data, [(path, verdict.refusal)]
    if verdict.direction == FORWARD:
        # A declaration is kept, spelled as the model reads it ("正向" -> "forward").
        if declared is None:
            return data, []
        return {**data, "scale": {**scale, "direction": FORWARD}}, []
    recoded = {**data, "scale": {**scale, "direction": FORWARD,
                                 "codes": {recode(str(k)): v for k, v in codes.items()}}}
    if isinstance(data.get("sections"), list):
        recoded["sections"] = _recode_show_ifs(data["sections"])
    return recoded, []


def _texts(label: object) -> list[str]:
    if isinstance(label, Mapping):
        return [text for key in ("zh_CN", "en") if isinstance(text := label.get(key), str)]
    return [label] if isinstance(label, str) else []


def _recode_show_ifs(sections: list[object]) -> list[object]:
    questions = [q for s in sections if isinstance(s, Mapping)
                 for q in (s.get("questions") or []) if isinstance(q, Mapping)]
    rating_ids = {q.get("id") for q in questions if q.get("type") == "rating"}

    def recoded(question: object) -> object:
        show_if = question.get("show_if") if isinstance(question, Mapping) else None
        if not isinstance(show_if, Mapping) or show_if.get("question") not in rating_ids:
            return question
        changed = dict(show_if)
        if isinstance(show_if.get("equals"), str | int):
            changed["equals"] = recode(str(show_if["equals"]))
        if isinstance(show_if.get("in"), list):
            changed["in"] = [recode(str(c)) if isinstance(c, str | int) else c
                             for c in show_if["in"]]
        return {**question, "show_if": changed}

    return [
        {**section, "questions": [recoded(q) for q in section["questions"]]}
        if isinstance(section, Mapping) and isinstance(section.get("questions"), list)
        else section
        for section in sections
    ]
