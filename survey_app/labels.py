"""Display labels for the stored codes (modes, groups, statuses, measures, rules, flags).

Stored values stay English codes; every page shows them through the ``label``
template filter so they appear in the visitor's language.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

LABELS = {
    # response modes
    "web_token": _l("Web (personal link)"),
    "web_open": _l("Web (open link)"),
    "paper": _l("Paper"),
    "interview": _l("Interview (worker's phone)"),
    # household groups
    "relocated": _l("Relocated households (cash compensation)"),
    "rental_subsidy": _l("Rental-subsidy households"),
    # campaign statuses
    "draft": _l("Draft"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    # response statuses
    "partial": _l("Saved, not submitted"),
    "complete": _l("Complete"),
    "superseded": _l("Superseded"),
    "deleted": _l("Deleted"),
    # indicator measures and rules
    "rate": _l("Satisfaction rate"),
    "score": _l("Satisfaction score"),
    "index": _l("Satisfaction index"),
    "proportional": _l("Proportional"),
    "stepwise": _l("Stepwise deduction"),
    "bands": _l("Bands"),
    # data-quality flag kinds (services.quality_flags.FLAG_KINDS)
    "too_fast": _l("Answered implausibly fast"),
    "straight_lining": _l("All rating answers identical"),
    "open_link_burst": _l("Many open-link responses from one device or network"),
    "web_and_paper": _l("Web and paper answers for the same household"),
    # roles
    "admin": _l("Administrator"),
    "worker": _l("Community worker"),
    "evaluator": _l("Evaluator"),
    # paper form statuses
    "awaiting_second": _l("Awaiting the second entry"),
    "conflict": _l("Entries disagree"),
    "verified": _l("Verified"),
    "held": _l("Held: also answered on the web"),
    # importance-performance quadrants (analysis.drivers.QUADRANTS)
    "concentrate here": _l("Concentrate here"),
    "keep up the good work": _l("Keep up the good work"),
    "low priority": _l("Low priority"),
    "possible overkill": _l("Possible overkill"),
    # levels of the region hierarchy (models.UnitLevel)
    "province": _l("Province"),
    "city": _l("City"),
    "county": _l("County or district"),
    "street": _l("Street or township"),
    "community": _l("Community or village"),
    # missing-answer policies of the reliability table
    "pairwise": _l("Pairwise deletion"),
    "listwise": _l("Listwise deletion"),
}


def label(code: object) -> str:
    """The translated label of a stored code, or the code itself when unknown."""
    text = LABELS.get(str(code))
    return str(text) if text is not None else str(code)


#: Full-width punctuation carries its own space: a label ending in one takes no other.
_FULL_WIDTH_END = "：；，。）、"


def before_value(text: object) -> str:
    """A label (``"Template:"``, ``"模板："``) as put before its value: a space after an
    ASCII colon, none after a full-width one (which would show a double gap).

    >>> before_value("Template:"), before_value("模板：")
    ('Template: ', '模板：')
    """
    text = str(text)
    return text if text.endswith(tuple(_FULL_WIDTH_END)) else text + " "


def _is_chinese(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef" or char in "“”"


def with_colon(text: object) -> str:
    """A label put before its value with the colon of its language: full-width (no space)
    after Chinese, ``": "`` after English, so a Chinese page never reads ``人数: 530``.

    >>> with_colon("加权方式"), with_colon("综合指数（各维度等权）"), with_colon("Weighting")
    ('加权方式：', '综合指数（各维度等权）：', 'Weighting: ')
    """
    text = str(text)
    return text + ("：" if text and _is_chinese(text[-1]) else ": ")


def colon_after(text: object) -> str:
    """Only the colon :func:`with_colon` would put after ``text`` (for a label that is a
    link: ``<a>标记</a>：3``).

    >>> colon_after("作答过快"), colon_after("Too fast")
    ('：', ': ')
    """
    return with_colon(text)[len(str(text)):]


def init_app(app: Flask) -> None:
    app.add_template_filter(label, "label")
    app.add_template_filter(with_colon, "with_colon")
    app.add_template_filter(colon_after, "colon_after")
    app.add_template_filter(before_value, "before_value")
