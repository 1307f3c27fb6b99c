"""Concurrent resident submissions into one cell of one campaign: does anything on the
submission path make them wait on each other?

Each of ``--threads`` threads stores ``--per-thread`` web responses of the same household
group and mode into the demo campaign through ``services.responses.store_response`` and
commits each in its own transaction, as a resident's POST does. Every response lands in the
same category-count cell (issue 23 item 4), which is where trigger-maintained running totals
made PostgreSQL sessions queue on one row; the change ledger of migration 0028 only inserts.
Run it against a database holding the demo (``survey-app demo load``) with the code of each
branch to compare (the trees differ only in that path).

Usage: .venv/bin/python benchmarks/bench_concurrent_submit.py --database <url>
       [--threads 4] [--per-thread 100]
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid

from bulk_data import make_bench_app

from survey_app.extensions import db
from survey_app.models import HouseholdGroup, ResponseMode
from survey_app.services import campaigns, demo
from survey_app.services.demo_answers import Resident, simulated_answers
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import store_response


def _submit(app, n: int, seed: int, latencies: list) -> None:
    rng = random.Random(seed)  # noqa: S311
    group = HouseholdGroup.RENTAL_SUBSIDY
    with app.app_context():
        campaign = campaigns.get_campaign(demo.SLUG, session=db.session)
        version = version_for_group(campaign, group, session=db.session)
        questionnaire = questionnaire_of(version)
        pool = [simulated_answers(questionnaire, rng, Resident(group, 0.5)) for _ in range(20)]
        db.session.commit()
        for i in range(n):
            t0 = time.perf_counter()
            store_response(session=db.session, campaign=campaign, version=version, group=group,
                           mode=ResponseMode.WEB_TOKEN, instance_id=str(uuid.uuid4()),
                           values=pool[i % len(pool)])
            db.session.commit()
            latencies.append(time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--per-thread", type=int, default=100)
    args = parser.parse_args()
    app = make_bench_app(args.database)
    _submit(app, 3, 0, [])  # warm-up: imports, questionnaire parsing
    latencies: list[float] = []
    threads = [threading.Thread(target=_submit, args=(app, args.per_thread, k + 1, latencies))
               for k in range(args.threads)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    print(f"{len(latencies)} submissions by {args.threads} threads in {elapsed:.2f} s: "
          f"{len(latencies) / elapsed:.1f}/s; latency median "
          f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
          f"{latencies[int(0.99 * (len(latencies) - 1))] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
