"""Survey page weight and first contentful paint under throttled 3G, vs the text alone.

Serves the app (werkzeug in a thread, scratch SQLite with the demo campaign) and, on a
second local port, the floor: the same questionnaire's title, question texts and option
labels as one plain HTML page with no CSS, no JS and no form controls. Debian Chromium
(/usr/bin/chromium via Playwright, headless, never downloaded) loads each page with the
cache disabled under CDP Network.emulateNetworkConditions:

- Slow 3G: 400 kbit/s down, 400 kbit/s up, 400 ms RTT;
- Fast 3G (Lighthouse mobile): 1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT.

FCP is ``performance.getEntriesByName('first-contentful-paint')``; median of ``--repeat``
fresh contexts. Weight = HTML + every stylesheet/script it references, uncompressed.

Usage: .venv/bin/python benchmarks/bench_page.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import html
import http.server
import re
import statistics
import tempfile
import threading
import urllib.request
from functools import partial
from pathlib import Path

from bulk_data import make_bench_app, scratch_database
from werkzeug.serving import make_server

from questionnaires import load_builtin
from survey_app.extensions import db
from survey_app.services import demo

ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)"')
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
PROFILES = {  # name: (latency ms, download bytes/s, upload bytes/s)
    "Slow 3G (400 kbit/s, 400 ms RTT)": (400, 400_000 / 8, 400_000 / 8),
    "Fast 3G (1.6 Mbit/s, 150 ms RTT)": (150, 1_600_000 / 8, 750_000 / 8),
}


def floor_page(group: str) -> str:
    """The questionnaire's text alone: what a resident must read, nothing else."""
    q = load_builtin(group)
    parts = [f"<!doctype html><html lang=zh><meta charset=utf-8><title>{html.escape(q.title.zh_CN)}"
             f"</title><h1>{html.escape(q.title.zh_CN)}</h1>"]
    for n, question in enumerate(q.questions(), 1):
        parts.append(f"<p>{n}. {html.escape(question.text.zh_CN)}</p>")
        options = getattr(question, "options", None) or ()
        labels = [o.label.zh_CN for o in options]
        if question.type == "rating":
            labels = [t.zh_CN for t in q.scale.codes.values()] + [q.scale.na_label.zh_CN]
        if labels:
            parts.append("<p>" + " / ".join(html.escape(x) for x in labels) + "</p>")
    return "".join(parts)


def weight(base: str, path: str) -> dict[str, int]:
    page = urllib.request.urlopen(base + path).read()
    sizes = {"html": len(page)}
    for url in ASSET.findall(page.decode()):
        assert url.startswith("/") and not url.startswith("//"), url
        sizes[url.rsplit("/", 1)[-1]] = len(urllib.request.urlopen(base + url).read())
    return sizes


def fcp(browser, url: str, profile: tuple[float, float, float]) -> float:
    latency, down, up = profile
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency, "downloadThroughput": down,
        "uploadThroughput": up})
    page.goto(url, wait_until="load", timeout=120_000)
    value = page.evaluate("""() => new Promise(resolve => {
        const e = performance.getEntriesByName('first-contentful-paint')[0];
        if (e) return resolve(e.startTime);
        new PerformanceObserver(list => resolve(list.getEntries()[0].startTime))
            .observe({type: 'paint', buffered: true});
    })""")
    context.close()
    return float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--group", default="relocated")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with scratch_database("sqlite") as url, tempfile.TemporaryDirectory() as tmp:
        app = make_bench_app(url, RATELIMIT_ENABLED=False)
        with app.app_context():
            demo.load_demo(session=db.session, example_links=0)
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        Path(tmp, "floor.html").write_text(floor_page(args.group), encoding="utf-8")
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=tmp)
        floor_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=floor_server.serve_forever, daemon=True).start()
        floor_url = f"http://127.0.0.1:{floor_server.server_address[1]}/floor.html"
        survey_path = f"/c/{demo.SLUG}/{args.group}"
        sizes = weight(base, survey_path)
        floor_bytes = len(urllib.request.urlopen(floor_url).read())
        total = sum(sizes.values())
        print(f"survey page {survey_path}: {sizes}; total {total:,} bytes "
              f"({total / 30720:.0%} of the 30 KB budget); floor (text alone) "
              f"{floor_bytes:,} bytes; ratio {total / floor_bytes:.2f}", flush=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                for name, profile in PROFILES.items():
                    survey = [fcp(browser, base + survey_path, profile)
                              for _ in range(args.repeat)]
                    floor = [fcp(browser, floor_url, profile) for _ in range(args.repeat)]
                    s, f = statistics.median(survey), statistics.median(floor)
                    print(f"{name}: FCP survey {s:,.0f} ms, floor {f:,.0f} ms, ratio "
                          f"{s / f:.2f} (runs survey {[round(x) for x in survey]}, "
                          f"floor {[round(x) for x in floor]})", flush=True)
            finally:
                browser.close()
        server.shutdown()
        floor_server.shutdown()


if __name__ == "__main__":
    main()
