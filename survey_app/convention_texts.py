"""The 计算口径 (dashboard block, summary workbook sheet) in the reader's language.

A scores document's ``conventions`` (analysis/conventions.py) state each statistic in the
compact technical English that the API and the exports carry, formulas included. The
dashboard explains the same conventions in words, one translatable text per key, with the
document's own settings (smallest cell, decimals, 不清楚 code) filled in; a key this module
does not know is shown as the document states it, so a new convention is never hidden.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from survey_app.services.score_filters import MIN_CELL, NA_CODE, RATE_DECIMALS, SCORE_DECIMALS

TITLES = {
    "counted_responses": _l("Counted responses"),
    "scale": _l("Rating scale"),
    "rate": _l("Satisfaction rate"),
    "score": _l("Satisfaction score"),
    "index": _l("Satisfaction index"),
    "weighting": _l("Weighting of the household groups"),
    "rate_ci": _l("Interval of a rate"),
    "index_ci": _l("Interval of a score or index"),
    "dimension": _l("Dimension results"),
    "composite": _l("Composite index"),
    "reliability": _l("Reliability"),
    "validity": _l("Construct validity"),
    "drivers": _l("Drivers"),
    "mode_effects": _l("Mode effects"),
    "comments": _l("Comment themes"),
    "suppression": _l("Small cells"),
    "indicator": _l("Indicator score"),
    "snapshot": _l("Data snapshot"),
    "rounding": _l("Rounding"),
    "raking": _l("Raked weighting"),
    "year_over_year": _l("Against last year"),
}

TEXTS = {
    "counted_responses": _l("Complete responses that no evaluator has excluded."),
    "scale": _l("Codes 5 very satisfied to 1 very dissatisfied; %(na)s (don't know) and "
                "unanswered questions are left out of every denominator and reported as "
                "their own share."),
    "rate": _l("Share of valid answers that are very satisfied or satisfied; neutral counts "
               "as not satisfied."),
    "score": _l("Average of the answers scored 100, 80, 60, 40 and 20 from very satisfied "
                "to very dissatisfied."),
    "index": _l("Average answer rescaled from 1–5 to 0–100."),
    "weighting": _l("The two household groups were sampled at different rates, so totals "
                    "weight each group's results by its roster households; a group without "
                    "valid answers to a question drops out of that question's weights."),
    "rate_ci": _l("95%% Wilson interval at the effective sample size, with the "
                  "finite-population correction."),
    "index_ci": _l("95%% normal interval from the stratified standard error, with the "
                   "finite-population correction."),
    "dimension": _l("Equal-weight mean of the dimension's questions."),
    "composite": _l("Equal-weight mean of the dimensions, the overall question left out."),
    "reliability": _l("Cronbach's α over every rating question except the overall one, "
                      "with don't-know answers as missing; Feldt interval."),
    "validity": _l("Per dimension a one-factor model of its questions gives the composite "
                   "reliability (CR) and the average variance extracted (AVE), which need at "
                   "least three questions; the explained share (R²) is that of the overall "
                   "question by the dimension scores."),
    "drivers": _l("Rank correlation (Spearman) of each dimension with the overall "
                  "question; the importance–performance chart is divided at the means."),
    "mode_effects": _l("Web and paper answers compared within each household group "
                       "(Mann–Whitney test and chi-square test)."),
    "comments": _l("Words of two or more characters found by word segmentation, common "
                   "words removed, ranked by the number of comments containing them; "
                   "comments that only praise or thank give no theme."),
    "suppression": _l("Cells with fewer than %(n)s respondents show counts only."),
    "indicator": _l("The campaign's scoring rule applied to the overall question; the "
                    "probability of meeting the target assumes a normal sampling "
                    "distribution."),
    "snapshot": _l("A fingerprint (SHA-256) of exactly the responses counted, so that any "
                   "later change of the data shows."),
    "rounding": _l("Rates to %(rate)s decimals, scores and indices to %(score)s decimals."),
    "raking": _l("Each group's respondents weighted to the roster's households by community "
                 "and by project (iterative proportional fitting), weights trimmed."),
    "year_over_year": _l("Change = this year's figure minus the previous campaign's, under the "
                         "same filters and weighting. The two years are independent samples, "
                         "so the change's standard error is the square root of the sum of the "
                         "two squared standard errors; 95%% normal interval; the probability "
                         "that the true change is at least 0 is a normal approximation. A "
                         "question worded differently in the two years (口径变化) is not "
                         "compared, nor the dimensions and overall index that contain it."),
}


def readable_conventions(conventions: dict[str, str]) -> list[tuple[str, str]]:
    """(title, text) per convention of a scores document, in the reader's language."""
    values = {"na": NA_CODE, "n": MIN_CELL, "rate": RATE_DECIMALS, "score": SCORE_DECIMALS}
    out = []
    for key, stated in conventions.items():
        if key in TEXTS:
            out.append((str(TITLES[key]), str(TEXTS[key]) % values))
        else:
            out.append((key, stated))
    return out


def rule_explanation(campaign) -> str:
    """The campaign's scoring rule in words, in the reader's language."""
    params = campaign.indicator_rule_params or {}
    if campaign.indicator_rule == "stepwise":
        return str(_l("Stepwise deduction: %(per)s points off for each percentage point (or "
                      "point of a score or index) below the target, at least %(floor)s "
                      "points.", per=format(float(params.get("deduction_per_point", 0.5)), "g"),
                      floor=format(float(params.get("floor", 0.0)), "g")))
    if campaign.indicator_rule == "bands":
        bands = "; ".join(f"≥ {float(t):g}: {float(p):g}" for t, p in params.get("bands", []))
        return str(_l("Bands: %(bands)s.", bands=bands))
    return str(_l("Proportional: full points when the actual value meets the target, "
                  "otherwise the points in proportion to actual value / target."))
