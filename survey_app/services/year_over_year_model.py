"""The scores document's year-over-year section as typed, immutable models (see
:mod:`survey_app.services.year_over_year` for how it is built and the ``year_over_year``
convention for the statistics)."""

from __future__ import annotations

from typing import Literal

from pydantic import NonNegativeInt

from survey_app.services.document_base import DocumentModel, Interval


class YearOverYearFigure(DocumentModel):
    """A headline figure this year against the previous campaign's.

    ``scope`` "pooled" (the document's pooled cell) or "group" (the household group
    ``group``); ``figure`` the overall item's rate or index, the composite index, or a
    dimension's rate or index (``dimension``). ``current``/``previous`` and their SEs are
    the two documents' values; ``change`` = current − previous with its 95 % interval and
    SE (independent samples), ``probability_not_lower`` = P(true change ≥ 0) and
    ``not_lower`` whether the target 不低于上年 is met. ``not_compared`` says why the change
    is absent: "wording_changed" (口径变化: an item's question text differs between the
    years, or one year does not ask it), "no_estimate" (a cell suppressed, no valid answer
    or no SE in one year).
    """

    scope: Literal["pooled", "group"]
    group: str | None
    figure: Literal["overall_rate", "overall_index", "composite_index", "dimension_rate",
                    "dimension_index"]
    dimension: str | None
    current: float | None
    current_se: float | None
    previous: float | None
    previous_se: float | None
    not_compared: Literal["wording_changed", "no_estimate"] | None
    change: float | None
    change_se: float | None
    change_ci: Interval | None
    probability_not_lower: float | None
    not_lower: bool | None


class YearOverYear(DocumentModel):
    """This campaign against its predecessor (``previous_*``), under the same filters and
    weighting: every headline figure (:class:`YearOverYearFigure`), the items whose wording
    changed (口径变化), and a paragraph for the report (Simplified Chinese)."""

    previous_slug: str
    previous_title: str
    previous_year: int
    previous_respondents: NonNegativeInt
    changed_items: list[str]
    figures: list[YearOverYearFigure]
    summary_zh: str
    convention: str

    def figure(self, figure: str, *, group: str | None = None,
               dimension: str | None = None) -> YearOverYearFigure | None:
        """The figure of that kind, group and dimension (None: not in the section)."""
        return next((f for f in self.figures if f.figure == figure and f.group == group
                     and f.dimension == dimension), None)
