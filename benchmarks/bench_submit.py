"""Completed survey submissions per second under gunicorn vs a bare one-row insert endpoint.

For each backend and worker count, in one run on this machine:

1. baseline: gunicorn serving benchmarks/bare_insert_app.py (one INSERT in one transaction
   per POST, same engine settings), driven by the same client with the same bodies;
2. the app: gunicorn -c python:survey_app.gunicorn_conf
   (tests/reliability/harness.GunicornServer) on a scratch database holding the demo
   campaign; the open link /c/<slug>/<group>.

The client pre-fetches a pool of survey forms (GET: session cookie, CSRF token, form
instance id) before the clock starts, then ``--clients`` processes each POST their share
of the pool over fresh connections (gunicorn's sync workers close after each response) for
at most ``--seconds``. A submission counts as completed when the server answers 302 to
the receipt. Client CPU time is reported: on 2 cores the client competes with the server.

Usage: .venv/bin/python benchmarks/bench_submit.py [--backends sqlite postgresql]
       [--workers 4] [--seconds 8] [--clients 2] [--concurrency 4] [--repeat 1]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import numpy as np
from bulk_data import make_bench_app, scratch_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app.extensions import db  # noqa: E402
from survey_app.services import demo  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    CSRF_RE,
    GROUPS,
    INSTANCE_RE,
    GunicornServer,
    _answers,
    free_port,
)

COOKIE_RE = re.compile(r"^([^=]+=[^;]*)")


def _get_form(port: int, path: str) -> tuple[str, str, str] | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    page = response.read().decode()
    cookies = [COOKIE_RE.match(v).group(1) for k, v in response.getheaders()
               if k.lower() == "set-cookie"]
    conn.close()
    csrf, instance = CSRF_RE.search(page), INSTANCE_RE.search(page)
    if response.status != 200 or not csrf or not instance:
        return None
    return "; ".join(cookies), csrf.group(1), instance.group(1)


def build_requests(port: int, slug: str | None, count: int, seed: int = 1) -> list[tuple]:
    """(path, headers, body) of ``count`` submissions; forms fetched now when ``slug``."""
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(seed)  # noqa: S311
    plans = []
    for _ in range(count):
        group = rng.choice(GROUPS)
        plans.append((group, {**_answers(rng, group), "submit": "1"}))
    if slug is None:
        forms = [("", "", "")] * count
    else:
        with ThreadPoolExecutor(4) as pool:
            forms = list(pool.map(lambda plan: _get_form(port, f"/c/{slug}/{plan[0]}"), plans))
    out = []
    for (group, fields), form in zip(plans, forms, strict=True):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if slug is None:
            path = "/insert"
        elif form is None:
            continue
        else:
            path = f"/c/{slug}/{group}"
            headers["Cookie"], fields["csrf_token"], fields["instance_id"] = form
        out.append((path, headers, urllib.parse.urlencode(fields)))
    return out


def _client(port: int, requests: list[tuple], deadline: float, concurrency: int, queue):
    import threading

    latencies, statuses, lock = [], {}, threading.Lock()
    it = iter(requests)

    def worker():
        while time.time() < deadline:
            with lock:
                item = next(it, None)
            if item is None:
                return
            path, headers, body = item
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 302
                status = response.status
                conn.close()
            except OSError as exc:
                ok, status = False, type(exc).__name__
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if ok:
                    latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = os.times()
    queue.put((latencies, statuses, cpu.user + cpu.system))


def drive(port: int, requests: list[tuple], *, clients: int, concurrency: int,
          seconds: float) -> dict:
    queue = multiprocessing.Queue()
    shares = [requests[i::clients] for i in range(clients)]
    start = time.time()
    deadline = start + seconds
    procs = [multiprocessing.Process(target=_client,
                                     args=(port, share, deadline, concurrency, queue))
             for share in shares]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.time() - start
    latencies = np.array([x for r in results for x in r[0]])
    statuses: dict = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    return {"completed": len(latencies), "seconds": elapsed,
            "rate": len(latencies) / elapsed,
            "p50_ms": float(np.percentile(latencies, 50) * 1000) if len(latencies) else None,
            "p99_ms": float(np.percentile(latencies, 99) * 1000) if len(latencies) else None,
            "statuses": statuses, "client_cpu_s": sum(r[2] for r in results)}


def _server_cpu(pid: int) -> float:
    """CPU seconds of the gunicorn master and its workers so far."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], text=True,
                                                    capture_output=True).stdout.split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, IndexError):
            pass
    return total


def bare_run(url: str, workers: int, args) -> dict:
    from bare_insert_app import create_table

    create_table(url)
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--chdir", str(ROOT / "benchmarks"), "--access-logfile", "/dev/null",
                             "bare_insert_app:create_app()"], env=env, start_new_session=True,
                            # gunicorn reads ./gunicorn.conf.py of a working directory;
                            # none may configure the bare endpoint.
                            cwd=ROOT / "benchmarks",
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the bare insert endpoint did not start under gunicorn")
        # Bare posts cost nothing to prepare: enough of them to fill the same --seconds.
        requests = build_requests(port, None, args.pool * 4)
        cpu0 = _server_cpu(proc.pid)
        result = drive(port, requests, clients=args.clients, concurrency=args.concurrency,
                       seconds=args.seconds)
        result["server_cpu_s"] = _server_cpu(proc.pid) - cpu0
        return result
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)


def app_run(url: str, workers: int, args) -> dict:
    server = GunicornServer(url, workers=workers,
                            extra_env={"SURVEY_RATELIMIT_ENABLED": "false"})
    server.start()
    try:
        t0 = time.perf_counter()
        requests = build_requests(server.port, demo.SLUG, args.pool)
        form_seconds = time.perf_counter() - t0
        cpu0 = _server_cpu(server.process.pid)
        result = drive(server.port, requests, clients=args.clients,
                       concurrency=args.concurrency, seconds=args.seconds)
        result["server_cpu_s"] = _server_cpu(server.process.pid) - cpu0
        result["form_get_rate"] = len(requests) / form_seconds
        return result
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workers", nargs="+", type=int, default=[4])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--pool", type=int, default=2500,
                        help="submissions prepared per run (the run stops when they are used)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per client")
    parser.add_argument("--repeat", type=int, default=1,
                        help="bare/survey pairs per worker count, run alternately; the ratio "
                             "is the median of the pairs' (the machine drifts between runs)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; client: {args.clients} processes x {args.concurrency} "
          f"connections; at most {args.seconds} s or {args.pool} posts per run", flush=True)
    for backend in args.backends:
        with scratch_database(backend) as url:
            app = make_bench_app(url)
            with app.app_context():
                demo.load_demo(session=db.session, example_links=0)
                db.session.commit()
            for workers in args.workers:
                ratios, rates, p99s = [], [], []
                for _ in range(args.repeat):
                    bare = bare_run(url, workers, args)
                    full = app_run(url, workers, args)
                    ratio = full["rate"] / bare["rate"] if bare["rate"] else float("nan")
                    ratios.append(ratio)
                    rates.append(full["rate"])
                    p99s.append(full["p99_ms"])
                    for name, r in (("bare insert", bare), ("survey submit", full)):
                        print(f"[{backend} w={workers}] {name:<14} {r['rate']:7.1f}/s "
                              f"p50 {r['p50_ms']:6.1f} ms p99 {r['p99_ms']:6.1f} ms "
                              f"({r['completed']} in {r['seconds']:.1f} s; statuses "
                              f"{r['statuses']}; CPU server {r['server_cpu_s']:.1f} s "
                              f"= {r['server_cpu_s'] / r['completed'] * 1000:.2f} ms each, "
                              f"client {r['client_cpu_s']:.1f} s)", flush=True)
                    print(f"[{backend} w={workers}] ratio survey/bare = {ratio:.2f} "
                          f"(goal >= 0.5); form GETs while preparing: "
                          f"{full['form_get_rate']:.0f}/s (4 client threads)", flush=True)
                if args.repeat > 1:
                    print(f"[{backend} w={workers}] median of {args.repeat} pairs: ratio "
                          f"{np.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f}), "
                          f"survey {np.median(rates):.0f}/s (range {min(rates):.0f}-"
                          f"{max(rates):.0f}), p99 {np.median(p99s):.1f} ms", flush=True)


if __name__ == "__main__":
    main()
