"""The vocabulary of the scores: which responses count, how cells are cut, how numbers print.

Small on purpose: forms, exports and the CLI need the filters and labels without loading
the counted-data reader or the statistics behind :mod:`survey_app.services.scores`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta, timezone

from survey_app.models import ResponseMode

#: Cells (groups, projects, communities) with fewer respondents show counts only.
MIN_CELL = 5
#: Decimals in the document; the dashboard shows no more than these.
RATE_DECIMALS = 4
SCORE_DECIMALS = 2
STAT_DECIMALS = 4
NA_CODE = 9
#: Days are Beijing days (UTC+8) for the date filter and for the report.
BEIJING = timezone(timedelta(hours=8), "UTC+08:00")
WEB_MODES = (ResponseMode.WEB_TOKEN, ResponseMode.WEB_OPEN)
MODE_FILTERS = ("web", ResponseMode.WEB_TOKEN.value, ResponseMode.WEB_OPEN.value,
                ResponseMode.PAPER.value, ResponseMode.INTERVIEW.value)
GROUP_LABELS = {"relocated": "棚改货币化安置户", "rental_subsidy": "租赁补贴户"}
#: Respondent weights: design N_h/r_h, or raked to the roster's margins (analysis.raking).
WEIGHTINGS = ("design", "raked")


class ScoresError(ValueError):
    """The scores could not be computed for these filters; the message says why."""


@dataclass(frozen=True)
class ScoreFilters:
    """Which counted responses enter the scores. ``None`` means no restriction."""

    group: str | None = None
    project: str | None = None  # project code
    community: str | None = None  # community code
    mode: str | None = None  # "web", "web_token", "web_open", "paper" or "interview"
    date_from: date | None = None  # Beijing day of submission, inclusive
    date_to: date | None = None
    include_excluded: bool = False  # True: the score *without* evaluator exclusions
    # True: open-link answers that identified no household count too (they are stored
    # "unverified" and left out by default, services.open_identity).
    include_unverified: bool = False
    weighting: str = "design"  # one of WEIGHTINGS

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("date_from", "date_to"):
            out[key] = out[key].isoformat() if out[key] else None
        return out

    @classmethod
    def from_dict(cls, data: dict) -> ScoreFilters:
        """The filters :meth:`as_dict` wrote (a background job's parameters)."""
        days = {key: date.fromisoformat(data[key]) if data.get(key) else None
                for key in ("date_from", "date_to")}
        return cls(**{**data, **days})


def rounded(value: float | None, decimals: int) -> float | None:
    """``value`` rounded for a document; None for a missing, NaN or infinite value.

    The value is first taken to 12 significant digits: a figure whose exact value is a tie
    at ``decimals`` (a raked rate of 99/160 = 0.61875) is computed from the response rows
    and from the stored sums with different last bits (0.6187499999999999, 0.61875), and
    rounding those directly would print 0.6187 from one and 0.6188 from the other.

    >>> rounded(0.123456, 4), rounded(float("nan"), 2), rounded(None, 2)
    (0.1235, None, None)
    >>> rounded(0.6187499999999999, 4) == rounded(0.61875, 4)
    True
    """
    if value is None:
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return round(float(f"{value:.12g}"), decimals)
