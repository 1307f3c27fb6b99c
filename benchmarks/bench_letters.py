"""What printing letters costs (issue 21): sealing and opening the encrypted link copies, and
rendering the letters page of N live links (segno QR codes dominate).

    .venv/bin/python benchmarks/bench_letters.py [N ...]

Runs on a scratch SQLite file; prints CPU seconds (``time.process_time``, best of 3).
"""

from __future__ import annotations

import sys
import tempfile
import time

from survey_app import create_app
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import Community, Household, utcnow
from survey_app.services import campaigns, letters, link_copies, tokens

SETTINGS = {"TESTING": True, "SECRET_KEY": "bench", "PII_KEY": "bench-pii",
            "PUBLIC_BASE_URL": "https://survey.example.gov.cn"}


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main(sizes: list[int]) -> None:
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    app = create_app({**SETTINGS, "DATABASE_URL": url})
    with app.app_context(), app.test_request_context():
        box = link_copies.current_fernet()
        token = "x" * 27
        sealed = [link_copies.seal(token, box=box) for _ in range(1000)]
        seal = _best(lambda: [link_copies.seal(token, box=box) for _ in range(1000)])
        unseal = _best(lambda: [link_copies.unseal(c, box=box) for c in sealed])
        print(f"seal 1000 links: {seal * 1000:.1f} ms CPU; open 1000: {unseal * 1000:.1f} ms")
        session = db.session
        for n in sizes:
            campaign = campaigns.create_campaign(f"bench-{n}", "测试调查", 2026,
                                                session=session)
            community = Community(code=f"B{n}", name="桃花仑社区", street="桃花仑街道")
            session.add(community)
            session.flush()
            session.add_all(Household(campaign_id=campaign.id, household_code=f"B{n}-{i:05d}",
                                      household_group="relocated", community_id=community.id,
                                      pseudonym=f"P{n}-{i:05d}", sampled=True)
                            for i in range(n))
            campaign.sample_drawn_at = utcnow()
            session.flush()
            tokens.issue_tokens(campaign, session=session)
            session.commit()

            def render(campaign=campaign):
                links = tokens.live_links(campaign, session=session)
                batches = letters.letters_by_community(links.printable, session=session,
                                                       base_url=SETTINGS["PUBLIC_BASE_URL"])
                return letters.render_letters(campaign, batches,
                                              base_url=SETTINGS["PUBLIC_BASE_URL"],
                                              css_href="letters.css")

            page = render()
            print(f"letters page of {n} links: {_best(render):.2f} s CPU, "
                  f"{len(page.encode()) / 1e6:.1f} MB HTML")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [300, 1000])
