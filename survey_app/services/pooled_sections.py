"""The pooled cell's reliability, validity, web-vs-paper mode effects and comment themes,
as the scores document shows them (split from :mod:`survey_app.services.scores`)."""

from __future__ import annotations

import numpy as np

import analysis
from survey_app.models import ResponseMode
from survey_app.services.answer_copies import COMMENT_USER_WORDS
from survey_app.services.counted_data import CountedData
from survey_app.services.score_filters import MIN_CELL, NA_CODE, STAT_DECIMALS
from survey_app.services.score_filters import rounded as _r
from survey_app.services.scores_model import (
    Alpha,
    Comments,
    CommentTheme,
    DimensionValidity,
    ModeEffect,
    OverallExplained,
    Reliability,
    Validity,
)


def reliability_section(data: CountedData) -> Reliability:
    scale = [j for j, qid in enumerate(data.item_ids) if qid != data.overall_item]
    y = data.codes[scale].T.copy()
    y[y == NA_CODE] = np.nan
    out = {}
    for policy in ("pairwise", "listwise"):
        usable = (~np.isnan(y)).sum(axis=1)
        rows = usable >= 2 if policy == "pairwise" else usable == len(scale)
        out[policy] = (None if rows.sum() < 3
                       else analysis.cronbach_alpha(y, missing=policy))
    return reliability_from(out, [data.item_ids[j] for j in scale])


def reliability_from(alphas: dict, items: list[str]) -> Reliability:
    """The section from each policy's ``analysis.CronbachAlpha`` (None: fewer than three
    usable responses)."""
    out = {}
    for policy, a in alphas.items():
        out[policy] = None if a is None else Alpha(
            alpha=_r(a.alpha, STAT_DECIMALS),
            standardized_alpha=_r(a.standardized_alpha, STAT_DECIMALS),
            ci=(_r(a.ci_low, STAT_DECIMALS), _r(a.ci_high, STAT_DECIMALS)),
            n_used=a.n_used, n_items=a.n_items, convention=a.convention)
    return Reliability(**out, items=items)


def _rounded_all(values) -> list[float] | None:
    return None if values is None else [_r(v, STAT_DECIMALS) for v in values]


def _dimension_validity(v, label: str) -> DimensionValidity:
    return DimensionValidity(
        dimension=v.name, label=label, items=list(v.items), n_used=v.n_used,
        loadings=_rounded_all(v.loadings),
        composite_reliability=_r(v.composite_reliability, STAT_DECIMALS),
        average_variance_extracted=_r(v.average_variance_extracted, STAT_DECIMALS),
        corrected_item_total=_rounded_all(v.corrected_item_total), note=v.note,
        reason=v.reason)


def validity_section(data: CountedData) -> Validity:
    """One-factor model per dimension and over all scale items, and the overall item's R²
    on the dimension scores (:func:`analysis.construct_validity`), 9 as missing."""
    return validity_from(analysis.construct_validity(data.codes.T, data.item_ids,
                                                     data.dimensions, data.overall_item,
                                                     na_code=NA_CODE), data.labels)


def validity_from(v, labels: dict[str, str]) -> Validity:
    """The section from an ``analysis.Validity`` (``labels`` the dimensions' names)."""
    o = v.overall
    return Validity(
        dimensions=[_dimension_validity(d, labels["dim:" + d.name]) for d in v.dimensions],
        all_items=_dimension_validity(v.scale, "全部评价题"),
        overall=OverallExplained(r_squared=_r(o.r_squared, STAT_DECIMALS),
                                 adjusted_r_squared=_r(o.adjusted_r_squared, STAT_DECIMALS),
                                 n_used=o.n_used, dimensions=list(o.dimensions),
                                 left_out=list(o.left_out), note=o.note),
        convention=v.convention)


def mode_effects_section(data: CountedData) -> list[ModeEffect]:
    """Web against paper, and web against interviews (issue 22) when there are any, per item
    and household group (groups in their sorted order); each comparison leaves the third
    mode out."""
    factor = data.factor("modes")
    modes = np.where(factor.mask(ResponseMode.PAPER.value), "paper",
                     np.where(factor.mask(ResponseMode.INTERVIEW.value), "interview", "web"))
    groups = data.factor("groups")
    compared = ["paper"] + (["interview"] if (modes == "interview").any() else [])
    out = []
    for other in compared:
        effects = analysis.item_mode_effects(data.codes, modes, groups.codes, na_code=NA_CODE,
                                             paper=other)
        # The group codes follow the sorted labels: sorted by code, the rows do not depend
        # on which group answered first.
        effects = [sorted(item_effects, key=lambda e: e.stratum) for item_effects in effects]
        out += mode_effect_rows(data.item_ids, effects, other,
                                lambda stratum: groups.labels[stratum])
    return out


def mode_effect_rows(item_ids, effects, other: str, group_of) -> list[ModeEffect]:
    """The section's rows of one comparison (web against ``other``): ``effects`` per item,
    one per stratum; ``group_of`` the household group of a stratum label."""
    return [_mode_effect_row(qid, group_of(effect.stratum), other, effect)
            for qid, item_effects in zip(item_ids, effects, strict=True)
            for effect in item_effects]


def _mode_effect_row(qid: str, group: str, other: str, effect) -> ModeEffect:
    row = {"item": qid, "group": group, "mode": other, "n_web": effect.n_web,
           "n_paper": effect.n_paper, "mann_whitney_u": None, "p_value": None,
           "rank_biserial": None, "chi_square_p": None}
    if effect.n_web < MIN_CELL or effect.n_paper < MIN_CELL:
        return ModeEffect(**row, suppressed=True)
    if effect.mann_whitney is not None:
        row.update(mann_whitney_u=_r(effect.mann_whitney.u, 2),
                   p_value=_r(effect.mann_whitney.p_value, STAT_DECIMALS),
                   rank_biserial=_r(effect.mann_whitney.rank_biserial, STAT_DECIMALS))
    if effect.chi_square is not None:
        row["chi_square_p"] = _r(effect.chi_square.p_value, STAT_DECIMALS)
    return ModeEffect(**row, suppressed=False)


def comments_section(data: CountedData) -> Comments:
    return comments_from(data.comments, len(data.comments), data.comment_tokens)


def comments_from(comments: list[str], n_responses: int,
                  tokens: dict[str, list[str]]) -> Comments:
    """The comment themes of the counted responses' ``comments`` (in response order; empty
    ones may be left out, ``n_responses`` counts them), ``tokens`` their stored words."""
    # The themes are read as the residents' problems (the report's 主要问题): a comment that
    # only thanks or praises counts as a comment but gives no theme.
    written = [c.strip() for c in comments if c and c.strip()]
    praise = {text for text in set(written) if analysis.is_praise(text)}  # once per text
    raising = [c for c in written if c not in praise]
    themes = analysis.comment_themes(raising, top_n=10, user_words=COMMENT_USER_WORDS,
                                     segmented=tokens)
    return Comments(n_comments=n_responses, n_empty=n_responses - len(written),
                    themes=[CommentTheme(term=t.term, comment_count=t.comment_count,
                                         occurrences=t.occurrences, examples=list(t.examples))
                            for t in themes.themes])
