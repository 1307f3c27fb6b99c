"""An open-link flood from one client cannot move the demo campaign's indicator.

gunicorn (4 workers, Redis) serves the committed Heshan 2021 demo. One client (one
address, a few parallel connections) posts to the open poster link ``/c/<slug>/<group>``
for 30 s as a script would: a fresh cookie jar and a new User-Agent for every response,
the form fetched for its hidden fields, every question answered with the lowest code
(1 = very dissatisfied). It knows no household code, so where the page asks the resident
to identify the household it takes whatever way past that the page offers (a button or
link whose text says skip / do not provide). Nothing in it knows the app's field names
beyond what a page shows.

Pass (issue 16, "Done when"): the indicator (``Indicator.actual`` of the scores document)
moves by less than 0.005, and the number of counted responses grows by at most the number
of roster households the attacker identified correctly: none here.
"""

import random
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

import pytest

from survey_app.services import demo
from tests.reliability.browser import (
    Browser,
    Form,
    PageParser,
    Reply,
    answer_fields,
    path_of,
    read_page,
    survey_form,
)
from tests.reliability.harness import GROUPS, GunicornServer, demo_counted

pytestmark = pytest.mark.slow

SECONDS, CONNECTIONS, WORKERS = 30.0, 3, 4
# The resident's way past identification, as the page words it.
SKIP_WORDS = ("跳过", "不提供", "不核验", "直接答题", "skip", "without")
STEPS = 4  # pages an attempt may pass through before the questionnaire
ATTACKER = "127.0.0.2"


def _user_agent(rng: random.Random) -> str:
    build = f"{rng.randint(90, 131)}.0.{rng.randint(1000, 6999)}.{rng.randint(10, 199)}"
    device = rng.choice(["Linux; Android 13; V2227A", "iPhone; CPU iPhone OS 17_4 like Mac OS X",
                         "Linux; Android 12; M2102J2SC", "Windows NT 10.0; Win64; x64"])
    return f"Mozilla/5.0 ({device}) AppleWebKit/537.36 (KHTML, like Gecko) " \
           f"Chrome/{build} Mobile Safari/537.36 MicroMessenger/8.0.{rng.randint(1, 49)}"


def _says_skip(text: str) -> bool:
    return any(word in text.lower() for word in SKIP_WORDS)


def _skip_form(page: PageParser) -> tuple[Form, list[tuple[str, str]]] | None:
    """A form with a skip button, and what pressing that button sends (typed fields
    left empty)."""
    for form in page.forms:
        for button in form.buttons():
            if _says_skip(button.text or button.value):
                typed = [(c.name, "") for c in form.controls
                         if c.name and c.tag in ("input", "textarea")
                         and c.type not in ("hidden", "submit", "radio", "checkbox")]
                pressed = [(button.name, button.value)] if button.name else []
                return form, [*form.hidden(), *typed, *pressed]
    return None


@dataclass
class Flood:
    base_port: int
    slug: str
    deadline: float
    statuses: Counter = field(default_factory=Counter)  # of the answer submits
    acknowledged: int = 0
    stuck: Counter = field(default_factory=Counter)  # attempts that found no way on
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _next(self, client: Browser, path: str, reply: Reply) -> tuple[str, Reply] | None:
        """One step an attempt takes from ``reply`` (at ``path``); None once it submitted
        its answers or found no way on."""
        if reply.status in (301, 302, 303) and reply.location:
            target = path_of(reply.location)
            return target, client.get(target)
        page = read_page(reply.text)
        form = survey_form(page)
        if form is None:
            return self._skip(client, path, reply, page)
        submitted = client.post(urllib.parse.urljoin(path, form.action), answer_fields(form))
        with self.lock:
            self.statuses[submitted.status] += 1
            self.acknowledged += "/receipt/" in submitted.location
        return None

    def _skip(self, client: Browser, path: str, reply: Reply,
              page: PageParser) -> tuple[str, Reply] | None:
        """Past an identification step without identifying, if the page offers a way."""
        skip = _skip_form(page)
        if skip is not None:
            form, fields = skip
            target = urllib.parse.urljoin(path, form.action)
            return target, client.post(target, fields)
        link = next((a for a in page.links if _says_skip(a.text)), None)
        if link is not None:
            target = path_of(urllib.parse.urljoin(path, link.href))
            return target, client.get(target)
        with self.lock:
            self.stuck[reply.status] += 1
        return None

    def attempt(self, rng: random.Random) -> None:
        client = Browser("127.0.0.1", self.base_port, source=ATTACKER, timeout=30,
                         headers={"User-Agent": _user_agent(rng)})  # and a fresh cookie jar
        path = f"/c/{self.slug}/{rng.choice(GROUPS)}"
        step = (path, client.get(path))
        for _ in range(STEPS):
            step = self._next(client, *step)
            if step is None:
                return
        with self.lock:
            self.stuck["too many steps"] += 1

    def connection(self, index: int) -> None:
        rng = random.Random(index)  # noqa: S311 - test data
        while time.monotonic() < self.deadline:
            self.attempt(rng)


def test_open_link_flood_does_not_move_the_indicator(fresh_demo_database_url, private_redis):
    url = fresh_demo_database_url
    before = demo_counted(url)
    server = GunicornServer(url, workers=WORKERS, extra_env={
        "SURVEY_RATELIMIT_STORAGE_URI": private_redis.url})
    server.start()
    flood = Flood(server.port, demo.SLUG, time.monotonic() + SECONDS)
    threads = [threading.Thread(target=flood.connection, args=(i,))
               for i in range(CONNECTIONS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    after = demo_counted(url)
    # Figures for docs/RELIABILITY.md (shown with -s).
    print(f"\nsubmits {dict(sorted(flood.statuses.items()))}, acknowledged "
          f"{flood.acknowledged}, stuck {dict(flood.stuck)}; complete responses "
          f"{before.complete_responses} -> {after.complete_responses}, counted "
          f"{before.respondents} -> {after.respondents}, indicator {before.indicator} -> "
          f"{after.indicator}")
    # The attacker found its way to the questionnaire (a refusal of its posts is fine).
    assert sum(flood.statuses.values()) > 0, f"never reached the questionnaire: {flood.stuck}"
    assert not [code for code in flood.statuses if code >= 500], flood.statuses
    assert after.indicator is not None and before.indicator is not None
    assert abs(after.indicator - before.indicator) < 0.005
    assert after.respondents - before.respondents <= 0  # no household code was known
