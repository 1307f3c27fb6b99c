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

Both include the test client's own work (building the request), which makes the ratio
conservative (it adds the same amount to both). The database server's instructions
(PostgreSQL runs in its own processes) are not counted.

Usage: .venv/bin/python benchmarks/bench_submit_instructions.py [--backends sqlite postgresql]
       [--posts 50]
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


def _child(case: str, backend: str, posts: int) -> None:
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
            client = make_bench_app(url).test_client()
            requests = []
            for _ in range(posts + WARMUP):
                group = rng.choice(GROUPS)
                page = client.get(f"/c/bench-open/{group}").get_data(as_text=True)
                data = {**_answers(rng, group), "instance_id": INSTANCE_RE.search(page).group(1),
                        "csrf_token": CSRF_RE.search(page).group(1), "submit": "1"}
                requests.append((f"/c/bench-open/{group}", data))
        for path, data in requests[:WARMUP]:
            assert client.post(path, data=data).status_code == 302
        control = ["callgrind_control", "--instr={}", str(os.getpid())]
        subprocess.run([part.format("on") for part in control], check=True, capture_output=True)
        for path, data in requests[WARMUP:]:
            status = client.post(path, data=data).status_code
            assert status == 302, status
        subprocess.run([part.format("off") for part in control], check=True, capture_output=True)


def _count(case: str, backend: str, posts: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/callgrind.out", sys.executable, __file__,
             "--child", case, backend, str(posts)],
            capture_output=True, text=True, check=True)
    collected = re.search(r"Collected : (\d+)", out.stderr)
    if collected is None:
        raise RuntimeError(out.stderr[-2000:])
    return int(collected.group(1)) / posts


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--posts", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install -y valgrind)")
    for backend in args.backends:
        bare = _count("bare", backend, args.posts)
        survey = _count("survey", backend, args.posts)
        print(f"[{backend}] instructions per request: bare insert {bare / 1e6:.2f} M, "
              f"survey submit {survey / 1e6:.2f} M, ratio bare/survey = {bare / survey:.2f} "
              f"({args.posts} posts each)", flush=True)


if __name__ == "__main__":
    main()
