"""The scores, indicator and progress documents as typed, immutable models.

Every consumer of the documents (dashboard, JSON API, ``survey-app scores``, summary
workbook, Word report) reads these attributes, and the API's OpenAPI schema is generated
from them (:mod:`survey_app.api.openapi`), so the shape is described once.

Serialising a document (``model_dump(mode="json")``) gives the JSON the API returns. Fields
that the document leaves out in some cases are :data:`pydantic.MISSING` there, so they are
absent from the JSON rather than null: an item's ``effective_n`` when it has no rate, a
dimension's intervals unless it has one item. Suppressed cells (fewer than ``MIN_CELL``
respondents) are their own models with the counts only; ``suppressed`` tells them apart.

The builders (:func:`survey_app.services.scores.scores_document`, ``indicator_document``
and :func:`survey_app.services.progress.progress_document`) construct these models, leaving
unset what they leave out; being frozen, one document can be shared by every reader (the
score cache hands out the object it holds).

Examples
--------
>>> doc = IndicatorDocument(n_respondents=3, indicator=None)
>>> doc.n_respondents, doc.indicator
(3, None)
>>> cell = ItemCell.model_validate({
...     "respondents": 6, "n_valid": 0, "n_na": 6, "n_missing": 0, "na_share": 1.0,
...     "counts": {"n5": 0, "n4": 0, "n3": 0, "n2": 0, "n1": 0, "n9": 6, "missing": 0},
...     "weight_groups": [], "suppressed": False, "rate": None, "rate_ci": None,
...     "rate_se": None, "score": None, "score_ci": None, "index": None, "index_ci": None,
...     "index_se": None})
>>> "effective_n" in cell.model_dump()
False
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import MISSING, Field, NonNegativeInt

from survey_app.services.document_base import Document, DocumentModel, Interval, SnapshotId
from survey_app.services.year_over_year_model import YearOverYear

# ---------------------------------------------------------------- cells

class OptionCounts(DocumentModel):
    """Answers of one item in one cell by option: codes 5..1, the not-applicable code
    (不清楚, 9) and missing (not answered: skipped by the questionnaire's logic or blank).

    Unweighted counts of the counted respondents; n5+..+n1 = ``n_valid``. Only full cells
    carry them (a suppressed cell shows its respondent count only).
    """

    n5: NonNegativeInt
    n4: NonNegativeInt
    n3: NonNegativeInt
    n2: NonNegativeInt
    n1: NonNegativeInt
    n9: NonNegativeInt
    missing: NonNegativeInt


class ItemCell(DocumentModel):
    """The measures of one rating item in one cell (pooled, a group, project or community).

    ``rate``, its interval and the score and index are None when the item has no valid
    answer in the cell; ``effective_n`` (Kish) is then absent. ``weight_groups`` are the
    household groups whose N_h entered this item's weights (the groups with a valid answer
    to it in the cell; see the ``weighting`` convention).
    """

    respondents: NonNegativeInt
    n_valid: NonNegativeInt
    n_na: NonNegativeInt
    n_missing: NonNegativeInt
    na_share: float | None
    counts: OptionCounts
    weight_groups: list[str]
    suppressed: Literal[False]
    rate: float | None
    rate_ci: Interval | None
    rate_se: float | None
    effective_n: float | None | MISSING = MISSING
    score: float | None
    score_ci: Interval | None
    index: float | None
    index_ci: Interval | None
    index_se: float | None


class DimensionCell(DocumentModel):
    """A dimension in one cell: equal-weight means of its items' indices and rates, with
    their linearised SEs (with FPC; under raked weights, under the raking margins).

    A one-item dimension also carries its item's intervals, score and ``n_valid``.
    """

    index: float | None
    rate: float | None
    items: list[str]
    index_se: float | None
    rate_se: float | None
    rate_ci: Interval | None | MISSING = MISSING
    index_ci: Interval | None | MISSING = MISSING
    score: float | None | MISSING = MISSING
    score_ci: Interval | None | MISSING = MISSING
    n_valid: NonNegativeInt | MISSING = MISSING


class CompositeIndex(DocumentModel):
    """The overall index (equal-weight mean of the dimension indices) with its interval."""

    estimate: float | None
    ci: Interval
    se: float | None


class SuppressedCell(DocumentModel):
    """A cell with fewer than MIN_CELL respondents: the count only."""

    respondents: NonNegativeInt
    suppressed: Literal[True]


class FullCell(DocumentModel):
    """A cell's measures per item and dimension, and its composite index.

    ``population`` holds the roster households N_h of each group in the cell; ``items`` and
    ``dimensions`` are keyed by item and dimension id.
    """

    respondents: NonNegativeInt
    suppressed: Literal[False]
    population: dict[str, NonNegativeInt]
    items: dict[str, ItemCell]
    dimensions: dict[str, DimensionCell]
    composite_index: CompositeIndex | None


class _Named(DocumentModel):
    code: str
    label: str


# Named first in the bases so code and label come first, as the builder writes them.
class SuppressedBreakdownCell(SuppressedCell, _Named):
    """A suppressed group, project or community, named by its code and label."""


class BreakdownCell(FullCell, _Named):
    """A group, project or community with its measures, named by its code and label."""


Cell = Annotated[SuppressedCell | FullCell, Field(discriminator="suppressed")]
BreakdownRow = Annotated[SuppressedBreakdownCell | BreakdownCell,
                         Field(discriminator="suppressed")]


# ---------------------------------------------------------------- the scores document

class CampaignHeading(DocumentModel):
    slug: str
    title: str
    year: int
    district: str


class AppliedFilters(DocumentModel):
    """The filters the document was computed under (None: no restriction)."""

    group: str | None
    project: str | None
    community: str | None
    mode: str | None
    date_from: date | None
    date_to: date | None
    include_excluded: bool
    include_unverified: bool
    #: "design": N_h/r_h within each group; "raked": raked to the roster's margins (issue 18).
    weighting: Literal["design", "raked"] = "design"


class RatingItem(DocumentModel):
    """A rating item of the campaign's questionnaires (their union, first one's order)."""

    id: str
    label: str
    dimension: str | None
    overall: bool


class Dimension(DocumentModel):
    id: str
    label: str
    items: list[str]


class Stratum(DocumentModel):
    """A household group: roster households N_h, respondents r_h, design weight N_h/r_h."""

    group: str
    label: str
    population: NonNegativeInt
    respondents: NonNegativeInt
    design_weight: float | None


class Alpha(DocumentModel):
    """Cronbach's alpha under one missing-answer policy, with its Feldt interval."""

    alpha: float | None
    standardized_alpha: float | None
    ci: Interval | None
    n_used: NonNegativeInt
    n_items: NonNegativeInt
    convention: str


class Reliability(DocumentModel):
    """Alpha with pairwise and listwise deletion (None: fewer than 3 usable rows)."""

    pairwise: Alpha | None
    listwise: Alpha | None
    items: list[str]

    def policies(self) -> list[tuple[str, Alpha]]:
        """(policy, alpha) of the policies that have a result, pairwise first."""
        return [(policy, alpha) for policy, alpha in
                (("pairwise", self.pairwise), ("listwise", self.listwise)) if alpha]


class DimensionValidity(DocumentModel):
    """A dimension's one-factor model (``dimension`` "all": every rating item but the
    overall item, together): standardised loadings, composite reliability, average
    variance extracted and corrected item-total correlations, in ``items`` order; a figure
    is None where it is undefined (one or two items, too few rows) and ``note`` says why
    (``reason``: the same as a code; "heywood": a loading at the bound, figures shown)."""

    dimension: str
    label: str
    items: list[str]
    n_used: NonNegativeInt
    loadings: list[float] | None
    composite_reliability: float | None
    average_variance_extracted: float | None
    corrected_item_total: list[float] | None
    note: str | None
    reason: Literal["no_items", "one_item", "two_items", "too_few_rows", "no_variance",
                    "singular", "heywood", "not_converged"] | None


class OverallExplained(DocumentModel):
    """R² of the overall item regressed (OLS) on the ``dimensions``' scores; ``left_out``
    are dimensions scored for too few respondents to enter (a conditional question)."""

    r_squared: float | None
    adjusted_r_squared: float | None
    n_used: NonNegativeInt
    dimensions: list[str]
    left_out: list[str]
    note: str | None


class Validity(DocumentModel):
    """Construct validity (GB/T 19038-2009 annex C): per dimension, all items together,
    and how much of the overall item the dimensions explain."""

    dimensions: list[DimensionValidity]
    all_items: DimensionValidity
    overall: OverallExplained
    convention: str


class Driver(DocumentModel):
    """A dimension's importance: Spearman correlation with the overall item."""

    dimension: str
    label: str
    importance: float | None
    p_value: float | None
    n_used: NonNegativeInt


class IpaPoint(DocumentModel):
    dimension: str
    label: str
    importance: float | None
    performance: float | None
    quadrant: str


class ImportancePerformance(DocumentModel):
    """Importance-performance analysis: the points and the crosshair at their means."""

    importance_cut: float | None
    performance_cut: float | None
    points: list[IpaPoint]


class Indicator(DocumentModel):
    """The indicator score: the campaign's rule applied to the overall item's measure."""

    measure: Literal["rate", "score", "index"]
    actual: float | None
    se: float | None
    target: float
    points: float
    points_earned: float | None
    probability_meets_target: float | None
    rule: str
    convention: str


class ModeEffect(DocumentModel):
    """Web vs another mode (``mode``: paper, or interview on a worker's phone) for one item
    within one household group (statistics None if suppressed). ``n_paper`` counts the
    respondents of ``mode``."""

    item: str
    group: str
    mode: Literal["paper", "interview"] = "paper"
    n_web: NonNegativeInt
    n_paper: NonNegativeInt
    mann_whitney_u: float | None
    p_value: float | None
    rank_biserial: float | None
    chi_square_p: float | None
    suppressed: bool


class CommentTheme(DocumentModel):
    term: str
    comment_count: NonNegativeInt
    occurrences: NonNegativeInt
    examples: list[str]


class Comments(DocumentModel):
    n_comments: NonNegativeInt
    n_empty: NonNegativeInt
    themes: list[CommentTheme]


class RakingSummary(DocumentModel):
    """How the raking went: passes, convergence, largest margin error (households), weights
    at a trimming bound, the trimming band, the merged margin categories (households but no
    respondents: their households spread over the rest of the margin) and the range of the
    raked weight over the design weight."""

    margins: list[str]
    iterations: NonNegativeInt
    converged: bool
    max_margin_error: float
    trimmed: NonNegativeInt
    trim: tuple[float, float]
    merged_categories: list[str]
    weight_ratio_range: Interval


class ResponseRateRow(DocumentModel):
    """Sampled households of a group, project or community and how many of them have a
    counted response; the rate with its Wilson interval."""

    kind: Literal["group", "project", "community"]
    code: str
    label: str
    sampled: NonNegativeInt
    responded: NonNegativeInt
    response_rate: float | None
    ci: Interval | None


class HeadlineDifference(DocumentModel):
    """A headline figure of the pooled cell with design weights and raked, and raked − design."""

    figure: str
    design: float | None
    raked: float | None
    difference: float | None


class NonResponse(DocumentModel):
    """The non-response section: response rates, the raking and what it changes, and a
    sentence for the report's limitations (Simplified Chinese)."""

    weighting: Literal["design", "raked"]
    response_rates: list[ResponseRateRow]
    raking: RakingSummary | None
    headline: list[HeadlineDifference]
    limitation_zh: str
    convention: str


class ScoresDocument(Document):
    """Every number the evaluator sees for one campaign under one set of filters.

    ``conventions`` names the convention behind each kind of number (key -> text).
    ``reliability``, ``validity``, ``ipa``, ``indicator`` and ``comments`` are None, and
    ``drivers`` and ``mode_effects`` empty, when fewer than MIN_CELL responses are counted.
    ``year_over_year`` compares the headline figures with the previous campaign's.
    """

    campaign: CampaignHeading
    filters: AppliedFilters
    snapshot: SnapshotId
    n_respondents: NonNegativeInt
    #: Open-link answers that identified no roster household, under the other filters; part
    #: of ``n_respondents`` only when ``filters.include_unverified``.
    unverified: NonNegativeInt
    conventions: dict[str, str]
    items: list[RatingItem]
    dimensions: list[Dimension]
    overall_item: str
    strata: list[Stratum]
    pooled: Cell
    groups: list[BreakdownRow]
    projects: list[BreakdownRow]
    communities: list[BreakdownRow]
    reliability: Reliability | None
    validity: Validity | None
    drivers: list[Driver]
    ipa: ImportancePerformance | None
    indicator: Indicator | None
    mode_effects: list[ModeEffect]
    comments: Comments | None
    nonresponse: NonResponse | None = None
    #: This campaign's headline figures against its predecessor's (None: no predecessor).
    year_over_year: YearOverYear | None = None

    def dimension_labels(self) -> dict[str, str]:
        """Dimension id -> label."""
        return {d.id: d.label for d in self.dimensions}


class IndicatorDocument(Document):
    """``n_respondents`` and ``indicator`` of a scores document, and nothing else."""

    n_respondents: NonNegativeInt
    indicator: Indicator | None


# ---------------------------------------------------------------- the progress document

class ProgressCampaign(DocumentModel):
    slug: str
    title: str
    status: str
    opens_on: date | None
    closes_on: date | None


class ProgressRow(DocumentModel):
    """Fieldwork of one household group or community (response rate: AAPOR RR1)."""

    code: str
    label: str
    households: NonNegativeInt
    sampled: NonNegativeInt
    refused: NonNegativeInt
    completed: NonNegativeInt
    response_rate: float | None


class ProgressDocument(Document):
    """Fieldwork progress: sample, completes by mode, response rates by group and community."""

    campaign: ProgressCampaign
    households: NonNegativeInt
    sampled: NonNegativeInt
    completed: NonNegativeInt
    completed_from_sample: NonNegativeInt
    completed_open_link: NonNegativeInt
    excluded: NonNegativeInt
    partial: NonNegativeInt
    completed_by_mode: dict[str, NonNegativeInt]
    response_rate: float | None
    groups: list[ProgressRow]
    communities: list[ProgressRow]
    convention: str
