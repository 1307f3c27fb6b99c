"""CPU instructions per survey submission vs per bare one-row insert, counted by callgrind.

Throughput on a shared 2-core machine moves with whatever else runs (bench_submit.py's
figures swung 2x between runs of the same code); an instruction count does not. This script
runs each case in a child process under ``valgrind --tool=callgrind --instr-atstart=no``;
the child builds its scratch database and prepares the posts uninstrumented, switches
counting on (``callgrind_control --instr=on``) for ``--posts`` POSTs through the Flask test
client, and off again. Printed: instructions per request (Ir) for

- ``bare``: benchmarks/bare_insert_app.py (same engine settings, same POST bodies), the floor;
- ``survey``: the open link ``/c/<slug>/<group>`` of the app (CSRF on, validation with skip
  logic, response + ~15 answers + audit event, 302 to the receipt).

Each survey post comes from its own browser (a fresh test-client cookie jar: it fetched its
form, then posts it), as each resident does: a browser that answered an open link is sent to
its receipt and stores nothing (one device, one open-link submission). The form's signed
start stamp (``started``) is posted when the form carries one. ``--ablate stamp`` (omit the
stamp) and ``--ablate cookie`` (a session interface that writes no cookie) are analysis
variants that price those two parts of a post; they are not the app as deployed.

Both include the test client's own work (building the request), which makes the ratio
conservative (it adds the same amount to both). The database server's instructions
(PostgreSQL runs in its own processes) are not counted.

Usage: .venv/bin/python benchmarks/bench_submit_instructions.py [--backends sqlite postgresql]
       [--posts 50] [--cases bare survey] [--ablate stamp cookie] [--keep PREFIX]
Needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WARMUP = 20


STARTED_RE = re.compile(r'name="started"[^>]*value="([^"]+)"')


class _NoCookieWrites:
    """Analysis only: the app's session interface, but save_session writes nothing."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def save_session(self, app, session, response):
        return None


def _check(response, case: str, data: dict) -> None:
    """A 302 to this post's own receipt: the response was stored (not an earlier receipt)."""
    assert response.status_code == 302, response.status_code
    assert case == "bare" or data["instance_id"] in response.location, response.location


def _child(case: str, backend: str, posts: int, ablate: frozenset[str]) -> None:
    sys.path[:0] = [str(ROOT), str(HERE)]
    from bulk_data import make_bench_app, scratch_database

    from tests.reliability.harness import (
        CSRF_RE,
        GROUPS,
        INSTANCE_RE,
        _answers,
        prepare_open_campaign,
    )

    rng = random.Random(1)  # noqa: S311 - reproducible answers, not secrets
    with scratch_database(backend) as url:
        if case == "bare":
            os.environ["BENCH_DATABASE_URL"] = url
            import bare_insert_app

            bare_insert_app.create_table(url)
            client = bare_insert_app.create_app().test_client()
            requests = []
            for _ in range(posts + WARMUP):
                data = {**_answers(rng, rng.choice(GROUPS)), "instance_id": "x" * 36,
                        "csrf_token": "y" * 91, "submit": "1"}
                requests.append(("/insert", data))
        else:
            prepare_open_campaign(url, "bench-open", "Bench")
            app = make_bench_app(url)
            requests = []
            for _ in range(posts + WARMUP):
                client = app.test_client()  # a new browser for each resident
                group = rng.choice(GROUPS)
                page = client.get(f"/c/bench-open/{group}").get_data(as_text=True)
                data = {**_answers(rng, group), "instance_id": INSTANCE_RE.search(page).group(1),
                        "csrf_token": CSRF_RE.search(page).group(1), "submit": "1"}
                if (started := STARTED_RE.search(page)) and "stamp" not in ablate:
                    data["started"] = started.group(1)
                requests.append((client, f"/c/bench-open/{group}", data))
        if case == "bare":
            requests = [(client, path, data) for path, data in requests]
        elif "cookie" in ablate:  # the forms' GETs above did set their cookies
            app.session_interface = _NoCookieWrites(app.session_interface)
        for client, path, data in requests[:WARMUP]:
            _check(client.post(path, data=data), case, data)
        control = ["callgrind_control", "--instr={}", str(os.getpid())]
        subprocess.run([part.format("on") for part in control], check=True, capture_output=True)
        for client, path, data in requests[WARMUP:]:
            _check(client.post(path, data=data), case, data)
        subprocess.run([part.format("off") for part in control], check=True, capture_output=True)


def _count(case: str, backend: str, posts: int, ablate: frozenset[str] = frozenset(),
           keep: str | None = None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/callgrind.out", sys.executable, __file__,
             "--child", case, backend, str(posts), ",".join(sorted(ablate))],
            capture_output=True, text=True, check=True)
        if keep:
            shutil.copy(f"{tmp}/callgrind.out", keep)
    collected = re.search(r"Collected : (\d+)", out.stderr)
    if collected is None:
        raise RuntimeError(out.stderr[-2000:])
    return int(collected.group(1)) / posts


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]),
               frozenset(filter(None, sys.argv[5].split(","))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--cases", nargs="+", default=["bare", "survey"])
    parser.add_argument("--ablate", nargs="*", default=[], choices=["stamp", "cookie"],
                        help="analysis only: post without the start stamp / write no cookie")
    parser.add_argument("--keep", help="copy each callgrind output to KEEP-<case>-<backend>")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install -y valgrind)")
    ablate = frozenset(args.ablate)
    for backend in args.backends:
        counts = {case: _count(case, backend, args.posts, ablate,
                               args.keep and f"{args.keep}-{case}-{backend}")
                  for case in args.cases}
        parts = [f"{'bare insert' if case == 'bare' else 'survey submit'} {n / 1e6:.2f} M"
                 for case, n in counts.items()]
        if len(counts) == 2:
            parts.append(f"ratio bare/survey = {counts['bare'] / counts['survey']:.2f}")
        extra = f", ablated: {' '.join(sorted(ablate))}" if ablate else ""
        print(f"[{backend}] instructions per request: {', '.join(parts)} "
              f"({args.posts} posts each{extra})", flush=True)


if __name__ == "__main__":
    main()
