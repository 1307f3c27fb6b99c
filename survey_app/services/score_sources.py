"""Where the scores document's numbers come from: the counted response rows, or the stored
sums of an up-to-date campaign (issue 23 item 4).

:func:`survey_app.services.scores.scores_document` builds one document from a *source*
that answers a few questions — the items and their layout, the cells' statistics, the
pooled analyses (reliability, validity, mode effects, comment themes), the raking and the
respondents who came through the sample. :class:`RowSource` answers them from the counted
responses read as arrays (:func:`counted_data.load_counted`; any filters);
:class:`~survey_app.services.sums_source.SumsSource` from the stored category counts, pair
sums and per-campaign sums (:mod:`category_counts`), for the unfiltered document of a
campaign whose stored sums are current. Both give the same document (tests/services/
test_sums_document.py); the rows remain the reference.
"""

from __future__ import annotations

import numpy as np
from sqlmodel import Session

from survey_app.models import Campaign
from survey_app.services import nonresponse
from survey_app.services.cell_statistics import cell_statistics, raked_headline
from survey_app.services.counted_data import CountedData, load_counted, snapshot_id
from survey_app.services.pooled_sections import (
    comments_section,
    mode_effects_section,
    reliability_section,
    validity_section,
)
from survey_app.services.score_filters import NA_CODE, ScoreFilters

#: A document cell: None (pooled) or ("groups" | "projects" | "communities", code).
Selector = tuple[str, str] | None


class RowSource:
    """The counted responses under any filters, as arrays (the reference path)."""

    def __init__(self, campaign: Campaign, filters: ScoreFilters, *, session: Session):
        self.campaign = campaign
        self.data: CountedData = load_counted(campaign, filters, session=session)
        data = self.data
        self.item_ids, self.overall_item = data.item_ids, data.overall_item
        self.dimensions, self.labels = data.dimensions, data.labels
        self.n = len(data.response_ids)

    @property
    def snapshot(self) -> str:
        return snapshot_id(self.data.snapshot_lines)

    def groups(self) -> set[str]:
        """The household groups of the counted responses."""
        return set(self.data.groups)

    def values(self, key: str) -> list[str]:
        """The project or community codes of the counted responses, sorted."""
        return self.data.factor(key).values()

    def _mask(self, selector: Selector) -> np.ndarray:
        if selector is None:
            return np.ones(self.n, dtype=bool)
        return self.data.factor(selector[0]).mask(selector[1])

    def respondents(self, selector: Selector) -> int:
        return int(self._mask(selector).sum())

    def cell(self, selector: Selector, pops: dict[str, int], *, drivers: bool = False,
             raking=None):
        """(respondents, statistics, design-weighted statistics, summary(j), group_of) of
        the cell (the statistics None when nothing is computable)."""
        import analysis

        mask = self._mask(selector)
        stats, design = cell_statistics(self.data, mask, pops, drivers=drivers,
                                        raking=raking)
        labels = self.data.factor("groups").labels

        def summary(j: int):
            counts = analysis.category_counts(self.data.codes[j, mask], na_code=NA_CODE)
            return analysis.summary_from_counts(counts.counts, n_na=counts.n_na,
                                                n_missing=counts.n_missing)

        return int(mask.sum()), stats, design, summary, lambda stratum: labels[stratum]

    def raking(self, roster_counts: dict, pops: dict[str, int], filters: ScoreFilters):
        return nonresponse.rake_counted(self.data, roster_counts, pops, filters)

    def raked_headline(self, stats, pops: dict[str, int], raking):
        return raked_headline(self.data, stats, pops, raking)

    def raking_ratio_range(self, raking) -> tuple[float, float]:
        ratio = raking.weights / raking.design_weights
        return float(ratio.min()), float(ratio.max())

    def sample_respondents(self) -> dict[tuple, int]:
        return nonresponse.sample_respondents(self.data)

    def reliability(self):
        return reliability_section(self.data)

    def validity(self):
        return validity_section(self.data)

    def mode_effects(self):
        return mode_effects_section(self.data)

    def comments(self):
        return comments_section(self.data)


def open_source(campaign: Campaign, filters: ScoreFilters, *, session: Session,
                rows: bool = False):
    """The source of ``campaign``'s document under ``filters``: the stored sums when they
    can give it (unless ``rows``), else the rows."""
    if not rows:
        from survey_app.services.sums_source import SumsSource

        source = SumsSource.open(campaign, filters, session=session)
        if source is not None:
            return source
    return RowSource(campaign, filters, session=session)
