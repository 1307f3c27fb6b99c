"""Copies of a response's answers kept on the response row, the ones the scores read.

``Response.rating_codes`` holds one character per rating item of the response's
questionnaire version, in ``Questionnaire.rating_items()`` order: ``"1"``..``"5"`` the scale
code, ``"9"`` the questionnaire's 不清楚 answer (``scale.na_code``, which is ``"9"`` in the
built-in questionnaires) and ``"-"`` no answer (skipped by skip logic, or a draft).
``Response.comment`` holds the free-text answers, in question order, each stripped and
joined with a space (``""`` for none), scrubbed of personal data (``text_scrub.scrub``,
with the evaluator's hand redaction if there is one): everything that reads it (comment
themes and their examples, the report's quotes, the API, the dashboard) never sees a
resident's phone or name; the answer rows keep the original. ``Response.comment_terms``
holds the scrubbed comment's word tokens, placeholders left out
(``analysis.word_tokens`` with :data:`COMMENT_USER_WORDS`) joined with a space: the
comment themes of 100,000 respondents count stored tokens instead of segmenting ~65,000
distinct comments (about 0.06 ms each) in every worker. The tokens depend on jieba's
dictionary: a change of :data:`COMMENT_USER_WORDS` needs a migration that segments the
stored comments again (as 0006 did first).

All three are written together with the answer rows (``responses.store_response`` and
``responses.replace_answers``, the only writers of answers, through
:func:`answer_copies`) so that the scores of 100,000 responses read 100,000 short rows
instead of ~1.5 M answer rows and one index probe per respondent for the comment. The
answer rows stay the record; these are derived copies, and this module is the one place
that derives them. They are read back by ``counted_data.decode_rating_codes`` (numpy, which
the resident's submit that writes them does not load).
"""

from __future__ import annotations

from collections.abc import Mapping

from questionnaires import Questionnaire
from questionnaires.model import RATING_CODES
from survey_app.services.text_scrub import NO_REDACTION, Redaction, scrub, without_placeholders

#: Domain terms added to jieba's dictionary for the comment tokens and themes.
COMMENT_USER_WORDS = ("租赁补贴", "补偿款", "棚改", "补偿标准")
NO_ANSWER = "-"
NOT_APPLICABLE = "9"


class RatingCodesError(ValueError):
    """A rating answer or a stored rating-code string cannot be encoded or decoded."""


def answer_copies(values: Mapping[str, object], questionnaire: Questionnaire,
                  redaction: Redaction = NO_REDACTION) -> dict[str, str]:
    """The Response columns copied from validated answer ``values``."""
    comment = scrub(joined_comment(values, questionnaire), redaction)
    return {"rating_codes": encode_rating_codes(values, questionnaire),
            "comment": comment, "comment_terms": comment_terms(comment)}


def load_comment_segmenter() -> None:
    """Load the comment segmenter (jieba's dictionary, ~1 s of CPU) and the domain words now.

    Called by the gunicorn master once a worker has segmented a comment, before it forks
    the workers again to share it (survey_app/gunicorn_conf.py); other processes load it on
    their first comment (:func:`comment_terms`).
    """
    from analysis import load_segmenter

    load_segmenter(COMMENT_USER_WORDS)


def comment_terms(comment: str) -> str:
    """The stored form of a (scrubbed) comment's word tokens: joined with a space (tokens
    have none); the placeholders are no words of the resident's."""
    comment = without_placeholders(comment).strip()
    if not comment:
        return ""
    # `analysis` (scipy, jieba) is imported by the first comment, not at start-up.
    from analysis import word_tokens

    return " ".join(word_tokens(comment, COMMENT_USER_WORDS)) if comment else ""


def joined_comment(values: Mapping[str, object], questionnaire: Questionnaire) -> str:
    """The free-text answers among ``values`` in question order, joined with a space."""
    comment = ""
    for question in questionnaire.questions():
        text = values.get(question.id) if question.type == "text" else None
        if text:
            comment = (comment + " " + str(text)).strip()
    return comment


def rating_item_ids(questionnaire: Questionnaire) -> list[str]:
    """The rating items in the order of the characters of ``rating_codes``."""
    return [item.id for item in questionnaire.rating_items()]


def encode_rating_codes(values: Mapping[str, object], questionnaire: Questionnaire) -> str:
    """The ``rating_codes`` string of validated answer ``values`` (other questions ignored)."""
    na_code = questionnaire.scale.na_code
    out = []
    for item_id in rating_item_ids(questionnaire):
        code = values.get(item_id)
        if code is None or code == "":
            out.append(NO_ANSWER)
        elif code in RATING_CODES:
            out.append(code)
        elif code == na_code:
            out.append(NOT_APPLICABLE)
        else:
            raise RatingCodesError(f"{item_id}: {code!r} is neither a scale code nor "
                                   f"the not-applicable code {na_code!r}")
    return "".join(out)
