"""Scores of a campaign with N responses (default 100,000): cold, cached, and the floors.

For each backend (SQLite WAL, PostgreSQL) it builds a scratch database (demo campaign +
N bulk-inserted households/responses/answers), then measures in one process:

- floor "fetch": the rating codes of the counted responses into Python, read the cheapest
  way known here: one SELECT aggregating Response.rating_codes into one string, split
  (what any implementation has to read, without the other columns or any statistics);
- floor "version": the data-version aggregate query of services.score_cache alone;
- ``scores_document`` cold (service call) with its parts: load_counted, comment themes;
  the raked document (``weighting="raked"``) cold and the raking alone;
  "cold" = nothing cached but jieba's dictionary, which gunicorn loads at start-up
  (survey_app/gunicorn_conf.py when_ready): the scores cache is cleared and so is the comment
  segmentation cache before each cold measurement;
- GET /api/v1/campaigns/<slug>/scores cold (cache empty) and warm (nothing changed),
  through the Flask test client with a bearer token;
- GET /evaluate/<slug> (dashboard: two documents + progress + charts) cold and warm;
- after one new response: the API again (the cache must miss).

Usage: .venv/bin/python benchmarks/bench_scores.py [--responses 100000] [--distinct-comments]
                                                   [--backends sqlite postgresql]
"""

from __future__ import annotations

import os

# As survey_app/gunicorn_conf.py sets for the workers, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import random
import time
import uuid

from bulk_data import build_campaign, make_bench_app, scratch_database
from sqlalchemy import func
from sqlmodel import select

from analysis import comments as comment_analysis
from survey_app.extensions import db
from survey_app.models import HouseholdGroup, Response, ResponseMode, Role, User
from survey_app.services import (
    answer_copies,
    api_tokens,
    campaigns,
    counted_data,
    demo_answers,
    nonresponse,
    questionnaire_versions,
    score_cache,
    scores,
)
from survey_app.services.responses import store_response
from survey_app.services.score_filters import ScoreFilters

#: Cold measurements are the best of this many runs, every cache emptied before each run.
COLD_REPEATS = 3


#: Best CPU seconds (time.process_time) of the last _timed call: under load the wall time
#: of a shared machine says little, the process's own CPU time much more.
LAST_CPU = {"seconds": float("nan")}


def _timed(fn, repeat: int = 1, label: str = "", reset=None):
    """Best of ``repeat`` runs; ``reset`` (untimed) runs before each, e.g. to empty caches."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        if reset is not None:
            reset()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    LAST_CPU["seconds"] = best_cpu
    print(f"    ... {label or fn.__name__}: {best:.4f} s (CPU {best_cpu:.4f} s)", flush=True)
    return best, result


def run(backend: str, n: int, distinct_comments: bool = False) -> dict:
    with scratch_database(backend) as url:
        info = build_campaign(url, n, distinct_comments=distinct_comments)
        print(f"[{backend}] built {info['bulk_responses']:,} responses, "
              f"{info['bulk_answers']:,} answers in {info['bulk_seconds']:.1f} s "
              f"({info['answer_rows_per_second']:,.0f} answer rows/s)", flush=True)
        # The demo part of the campaign was written seconds ago, so its newest change is
        # inside the cache's settle window (120 s) and nothing would be stored; measure
        # the settled case (after fieldwork) without waiting two minutes.
        app = make_bench_app(url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0)
        out = {}
        with app.app_context():
            session = db.session
            campaign = campaigns.get_campaign(info["slug"], session=session)
            evaluator = session.exec(select(User).where(User.role == Role.EVALUATOR)).first()
            token = api_tokens.create_api_token(evaluator, session=session)
            session.commit()
            fetch = counted_data.counted_query(campaign, ScoreFilters(), codes=False).order_by(
                None).with_only_columns(func.aggregate_strings(Response.rating_codes, ","))
            out["floor_fetch"], rows = _timed(
                lambda: session.connection().execute(fetch).scalar().split(","), 3)
            out["floor_fetch_cpu"] = LAST_CPU["seconds"]
            out["floor_fetch_rows"] = len(rows)
            out["floor_version"], _ = _timed(
                lambda: score_cache.data_version(campaign, session=session), 5)
            # As in a gunicorn worker: the dictionary was loaded by the master at start-up.
            out["segmenter_load"], _ = _timed(answer_copies.load_comment_segmenter)
            out["load_counted"], data = _timed(
                lambda: counted_data.load_counted(campaign, session=session), COLD_REPEATS)
            out["load_counted_cpu"] = LAST_CPU["seconds"]
            out["comments"], _ = _timed(lambda: scores._comments(data), COLD_REPEATS,
                                        reset=comment_analysis._segment.cache_clear)
            out["document_cold"], doc = _timed(
                lambda: scores.scores_document(campaign, session=session), COLD_REPEATS,
                reset=comment_analysis._segment.cache_clear)
            out["document_cold_cpu"] = LAST_CPU["seconds"]
            out["n_respondents"] = doc.n_respondents
            # issue 18: raking + the whole raked document, cold
            out["document_raked_cold"], _ = _timed(
                lambda: scores.scores_document(campaign, ScoreFilters(weighting="raked"),
                                               session=session), COLD_REPEATS,
                reset=comment_analysis._segment.cache_clear)
            out["document_raked_cold_cpu"] = LAST_CPU["seconds"]
            raked_data = counted_data.load_counted(campaign, session=session)
            roster = scores.roster_counts(campaign, session=session)
            out["raking"], _ = _timed(lambda: nonresponse.rake_counted(
                raked_data, roster.counts, roster.populations(), ScoreFilters()), 3)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        api = f"/api/v1/campaigns/{info['slug']}/scores"

        def get(path, **kw):
            response = client.get(path, **kw)
            assert response.status_code == 200, response.status_code
            return response

        def empty_caches():
            with app.app_context():
                score_cache.cache_of_app().clear()
            comment_analysis._segment.cache_clear()

        out["api_cold"], _ = _timed(lambda: get(api, headers=headers), COLD_REPEATS,
                                    reset=empty_caches)
        out["api_warm"], _ = _timed(lambda: get(api, headers=headers), 5)
        client.post("/auth/login", data={"username": "evaluator",
                                          "password": "heshan-pingjia-2021"})
        dash = f"/evaluate/{info['slug']}"
        # Once, right after the API: its main document is in the cache, the second
        # document (without exclusions), the progress block and the charts are not.
        comment_analysis._segment.cache_clear()
        out["dashboard_cold"], _ = _timed(lambda: get(dash))
        out["dashboard_warm"], _ = _timed(lambda: get(dash), 3)
        with app.app_context():
            session = db.session
            campaign = campaigns.get_campaign(info["slug"], session=session)
            version = questionnaire_versions.version_for_group(
                campaign, HouseholdGroup.RENTAL_SUBSIDY, session=session)
            resident = demo_answers.Resident(HouseholdGroup.RENTAL_SUBSIDY, 1.65)
            values = demo_answers.simulated_answers(
                questionnaire_versions.questionnaire_of(version), random.Random(5), resident)
            store_response(session=session, campaign=campaign, version=version,
                           group=HouseholdGroup.RENTAL_SUBSIDY, mode=ResponseMode.WEB_OPEN,
                           instance_id=str(uuid.uuid4()), values=values)
            session.commit()
        out["api_after_new_response"], response = _timed(lambda: get(api, headers=headers))
        out["n_after_new_response"] = response.get_json()["n_respondents"]
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--distinct-comments", action="store_true",
                        help="make every non-empty comment distinct, as real comments are "
                             "(the default repeats the demo's 10 phrases)")
    args = parser.parse_args()
    for backend in args.backends:
        r = run(backend, args.responses, args.distinct_comments)
        print(f"\n[{backend}] {r['n_respondents']:,} counted responses "
              f"({r['floor_fetch_rows']:,} rating-code strings)")
        print(f"  floor: fetch rating codes     {r['floor_fetch']:8.3f} s   ratio 1.00"
              f"   (CPU {r['floor_fetch_cpu']:.3f} s)")
        print(f"  (start-up, not a request: jieba dictionary {r['segmenter_load']:.3f} s)")
        for key in ("load_counted", "comments", "raking", "document_cold", "document_raked_cold",
                    "api_cold", "dashboard_cold"):
            cpu = (f"   (CPU {r[key + '_cpu']:.3f} s)" if key + "_cpu" in r else "")
            print(f"  {key:<30}{r[key]:8.3f} s   ratio {r[key] / r['floor_fetch']:6.2f}{cpu}")
        print(f"  floor: data-version query     {r['floor_version'] * 1000:8.1f} ms  ratio 1.00")
        for key in ("api_warm", "dashboard_warm"):
            print(f"  {key:<30}{r[key] * 1000:8.1f} ms  ratio "
                  f"{r[key] / r['floor_version']:6.2f}")
        print(f"  api after one new response    {r['api_after_new_response']:8.3f} s   "
              f"(n = {r['n_after_new_response']:,}: the cache missed, as it must)")
        print(f"  issue 18: document cold < 1 s: design "
              f"{'met' if r['document_cold'] < 1 else 'MISSED'}, raked "
              f"{'met' if r['document_raked_cold'] < 1 else 'MISSED'} (wall; check the load)")
        print(f"  goals: cold < 1 s: {'met' if r['api_cold'] < 1 else 'MISSED'}; "
              f"unchanged < 100 ms: {'met' if r['api_warm'] < 0.1 else 'MISSED'}", flush=True)


if __name__ == "__main__":
    main()
