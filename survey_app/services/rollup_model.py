"""The roll-up document of a region (city or province) for a year, as typed models.

The evaluator page, ``/api/v1/units/<code>/<year>/rollup`` and ``survey-app rollup`` all
render :func:`survey_app.services.rollups.rollup_document`; the API's OpenAPI schema is
generated from these models (:mod:`survey_app.api.openapi`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import NonNegativeInt

from survey_app.services.scores_model import Document, DocumentModel, Interval


class UnitHeading(DocumentModel):
    """An administrative unit: GB/T 2260 code, name, level and the names above it."""

    code: str
    name: str
    level: Literal["province", "city", "county", "street", "community"]
    ancestors: list[str]


class RolledEstimate(DocumentModel):
    """A measure rolled up over county × group strata: estimate, SE (with FPC), 95 %
    interval."""

    estimate: float | None
    se: float | None
    ci: Interval | None


class CountyRow(DocumentModel):
    """One county campaign in the league table and on the funnel.

    ``rate`` is the overall item's satisfaction rate summed over the county's household
    groups (its campaign's pooled figure); ``rank_ci`` the 95 % interval of its rank (1 =
    highest); ``funnel`` where it falls against the region's rate: ``within`` the 95 %
    limits, ``high_95``/``low_95`` between the 95 % and 99.8 % limits, ``high_998``/
    ``low_998`` outside the 99.8 % limits (None: a census, off the plot).
    """

    code: str
    name: str
    campaign: str
    title: str
    population: NonNegativeInt
    respondents: NonNegativeInt
    effective_n: float | None
    rate: RolledEstimate
    score: RolledEstimate
    rank: int
    rank_ci: tuple[int, int]
    p_best: float
    funnel: Literal["within", "high_95", "low_95", "high_998", "low_998"] | None
    z: float | None
    limits_95: Interval | None
    limits_998: Interval | None


class FunnelLine(DocumentModel):
    """The funnel's limits on a grid of effective sample sizes (for drawing)."""

    sizes: list[float]
    low_95: list[float]
    high_95: list[float]
    low_998: list[float]
    high_998: list[float]


class DimensionAlpha(DocumentModel):
    """A dimension's Cronbach alpha over every counted response of the region (pairwise
    deletion, 9 and no answer missing), from the campaigns' pooled item-pair sums: equal to
    the computation on all the rows. ``dimension`` "all": every rating item but the overall
    one, as the scores document's reliability. None where undefined (one item, a pair
    answered together by fewer than two responses).

    ``ci`` (95 % Feldt) and ``n_used`` (responses with at least two answered items) only
    for "all", from the campaigns' pooled counts of responses by answered scale items; None
    for a dimension (those counts are kept for the whole scale only) and where alpha is
    undefined (absent from older documents: None too)."""

    dimension: str
    items: list[str]
    alpha: float | None
    standardized_alpha: float | None
    ci: Interval | None = None
    n_used: NonNegativeInt | None = None


class RollupDocument(Document):
    """A region's roll-up for a year: the stratified estimate over every county × group
    stratum of the campaigns in its subtree, the league table and the funnel.

    ``left_out`` names the strata (``<county code>/<group>``) without an estimate (no
    valid answers, or a suppressed cell of fewer than 5 respondents); their households are
    not in ``population``; ``skipped`` the campaigns without a scores document.
    """

    unit: UnitHeading
    year: int
    item: str | None
    n_campaigns: NonNegativeInt
    population: NonNegativeInt
    respondents: NonNegativeInt
    effective_n: float | None
    rate: RolledEstimate
    score: RolledEstimate
    counties: list[CountyRow]
    funnel: FunnelLine | None
    left_out: list[str]
    #: Campaigns of the region and year whose scores cannot be computed (no questionnaire
    #: attached yet): not in the roll-up.
    skipped: list[str] = []
    #: Each dimension's alpha over the region's responses (absent from older documents).
    reliability: list[DimensionAlpha] | None = None
    conventions: dict[str, str]
