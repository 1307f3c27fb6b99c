"""Questionnaire definitions for resident-satisfaction surveys (居民满意度调查问卷).

A questionnaire is a YAML file, validated by typed models (:mod:`questionnaires.model` for
the document, :mod:`questionnaires.elements` for its parts) when loaded. Invalid files raise
:class:`QuestionnaireError`; its ``issues`` name the file, the path inside it
(``sections[2].questions[4].options``) and the reason, for every problem found.
The package imports neither Flask nor SQLModel.

Format
------
Every piece of text the respondent sees is bilingual: a mapping with ``zh_CN`` (required,
non-empty) and ``en`` (optional)::

    id: relocated                  # snake_case identifier
    title: {zh_CN: 棚改货币化安置户满意度调查问卷, en: ...}
    intro: {zh_CN: 您好！..., en: ...}          # optional greeting shown first

    scale:                         # the 5-point scale shared by all rating items
      codes:                       # exactly the codes 5..1, stored raw
        "5": {zh_CN: 非常满意, en: Very satisfied}
        "4": {zh_CN: 满意, en: Satisfied}
        "3": {zh_CN: 一般, en: Neutral}
        "2": {zh_CN: 不满意, en: Dissatisfied}
        "1": {zh_CN: 非常不满意, en: Very dissatisfied}
      na_code: "9"                 # 不清楚/不适用: its own code, excluded from ratings
      na_label: {zh_CN: 不清楚, en: Don't know}
      direction: forward           # optional: only when the labels do not prove it (below)

    dimensions:                    # every rating item belongs to one; each needs an item
      - id: benefit_standard
        label: {zh_CN: 补偿标准, en: Compensation standard}
      - id: overall
        label: {zh_CN: 总体满意度, en: Overall satisfaction}

    sections:
      - id: satisfaction
        title: {zh_CN: 三、满意度评价, en: ...}
        description: {zh_CN: ..., en: ...}     # optional
        questions:
          - id: benefit_standard   # stable snake_case id, unique in the questionnaire
            type: rating           # rating | single | multiple | integer | text
            dimension: benefit_standard
            text: {zh_CN: 您对补偿标准是否满意？, en: ...}
            help: {zh_CN: ..., en: ...}        # optional, any type
            required: true         # default true, any type
            allow_na: true         # rating only: offer 不清楚 (default true)
          - id: has_complained
            type: single           # single and multiple need options
            options:
              - {code: "1", label: {zh_CN: 是, en: "Yes"}}
              - {code: "2", label: {zh_CN: 否, en: "No"}}
            text: {...}
          - id: complaint_handling
            type: rating
            dimension: complaint_handling
            show_if: {question: has_complained, equals: "1"}   # or  in: ["1", "2"]
            text: {...}
          - id: overall_satisfaction
            type: rating
            dimension: overall
            overall: true          # exactly one item: the overall-satisfaction criterion
            text: {...}
          - {id: household_size, type: integer, min: 1, max: 20, text: {...}}
          - {id: comments, type: text, max_length: 500, required: false, text: {...}}

Rules beyond the types: option codes are 1 to 4 digits without a leading zero (quote them in
YAML) and unique within a question; question, section and dimension ids are unique;
``show_if`` refers to an *earlier* rating or choice question and to codes it offers (for a
multiple-choice question it holds if any selected code matches); the overall item has no
``show_if``; a rating item's dimension is declared, and every declared dimension is used.
Duplicate YAML keys are errors rather than silently overwritten. The score of each code
(5 → 100 … 1 → 20, METHODS.md) belongs to the method, not the format: older files that spell
out exactly that mapping as ``scale.scores`` still load (it is dropped), any other is refused.
The scale's direction is proven, never assumed (:mod:`questionnaires.scale_direction`): the
labels of codes 5 and 1 must be known satisfaction/agreement/quality words in order (非常满意 …
非常不满意, 满意 … 不满意, 很好 … 很差, strongly agree …), or ``direction`` declares it:
``forward`` (正向) or ``reversed`` (反向, code 1 is the satisfied end), which the loader recodes
to our codes (labels and the ``show_if`` codes on rating items). A reverse-coded scale without
the declaration is refused.

Using it
--------
>>> from questionnaires import load_builtin, validate_answers
>>> q = load_builtin("relocated")
>>> q.overall_item().id
'overall_satisfaction'
>>> check = validate_answers(q, {"has_complained": "2", "complaint_handling": "5"}, partial=True)
>>> "complaint_handling" in check.values     # hidden by skip logic, so dropped
False
"""

from questionnaires.answers import (
    AnswerCheck,
    AnswerValue,
    ErrorCode,
    clean_text,
    validate_answers,
    visible_questions,
)
from questionnaires.elements import (
    Dimension,
    IntegerQuestion,
    LocalizedText,
    MultipleChoiceQuestion,
    Option,
    Question,
    RatingQuestion,
    Scale,
    Section,
    ShowIf,
    SingleChoiceQuestion,
    TextQuestion,
)
from questionnaires.errors import Issue, QuestionnaireError
from questionnaires.loader import (
    builtin_names,
    dump_yaml,
    load_builtin,
    load_file,
    load_text,
)
from questionnaires.model import Questionnaire

__all__ = [
    "AnswerCheck",
    "AnswerValue",
    "Dimension",
    "ErrorCode",
    "IntegerQuestion",
    "Issue",
    "LocalizedText",
    "MultipleChoiceQuestion",
    "Option",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "RatingQuestion",
    "Scale",
    "Section",
    "ShowIf",
    "SingleChoiceQuestion",
    "TextQuestion",
    "builtin_names",
    "clean_text",
    "dump_yaml",
    "load_builtin",
    "load_file",
    "load_text",
    "validate_answers",
    "visible_questions",
]
