"""Compare a campaign's scores document from the stored sums with the one from the response
rows, on a database of any size (issue 23 item 4): refresh the campaign's sums, build both
documents for design and raked weights, print "equal" or every differing field.

tests/services/test_sums_document*.py prove the equality on the demo and constructed
campaigns; this runs the same comparison on a benchmark database (100,000 responses: a
float tie that small data never meets would show here).

Usage (from benchmarks/):
    ../.venv/bin/python compare_document_sources.py URL [--slug heshan-2021]
"""

from __future__ import annotations

import argparse

from bulk_data import make_bench_app

from survey_app import row_security
from survey_app.extensions import db
from survey_app.services import campaigns, category_counts, scores
from survey_app.services.score_filters import ScoreFilters
from survey_app.services.score_sources import open_source
from survey_app.services.sums_source import SumsSource


def differences(a, b, path: str = "") -> list[str]:
    """The paths where two model_dump() trees differ, with both values."""
    if type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--slug", default="heshan-2021")
    args = parser.parse_args()
    app = make_bench_app(args.url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0)
    with app.app_context(), row_security.acting_as(row_security.ALL_UNITS):
        with db.write() as session:
            category_counts.refresh([campaigns.get_campaign(args.slug, session=session)],
                                    session=session)
        session = db.session
        campaign = campaigns.get_campaign(args.slug, session=session)
        for filters in (ScoreFilters(), ScoreFilters(weighting="raked")):
            if not isinstance(open_source(campaign, filters, session=session), SumsSource):
                raise SystemExit("the stored sums are not current: nothing to compare")
            sums = scores.scores_document(campaign, filters, session=session).model_dump()
            rows = scores.scores_document(campaign, filters, session=session,
                                          rows=True).model_dump()
            found = differences(sums, rows)
            print(f"{filters.weighting}: {rows['n_respondents']} responses, "
                  + ("equal" if not found else f"{len(found)} differences"))
            for line in found:
                print("  " + line)


if __name__ == "__main__":
    main()
