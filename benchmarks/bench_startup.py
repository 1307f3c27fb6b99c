"""Start-up and memory under gunicorn: launch -> first 200, modules imported, PSS per worker.

For each backend, each ``--root`` (a checkout of this project: the tree under test and, to
compare, an older commit checked out with ``git worktree add``) and each repeat, in one run:

1. launch: ``gunicorn -c python:survey_app.gunicorn_conf 'survey_app:create_app()'`` (the production
   settings, ``--workers`` workers) on a scratch database holding the demo campaign, with
   ``PYTHONPATH=<root>`` so that the root's packages are the ones imported (checked first);
   the clock runs from just before the launch until a GET of the resident page (the open
   link ``/c/<slug>/<group>``) first answers 200, polled every 5 ms. Also the CPU time
   (user + system) the master and the workers had used by then: on a loaded machine the
   wall clock counts other processes' turns too. ``Pss`` from ``/proc/<pid>/smaps_rollup``
   of the master and of the workers forked so far is read at once ("at first 200");
2. older trees only (their master loads the comment segmenter right after forking a first
   worker, then replaces it): the time from launch until none of the first workers is left
   ("-": none within ``--settle`` seconds); PSS is measured after it;
3. PSS after resident pages: ``--pages`` more GETs of the resident page over fresh
   connections (spread over the workers by the shared socket);
4. PSS after submissions: ``--submissions`` residents fill in and submit the survey
   (tests/reliability/harness.Resident: two thirds write a comment, which is segmented). The
   current tree's master loads the segmenter once a worker has segmented a comment and then
   replaces the workers (survey_app/gunicorn_conf.py); the time from the first submission
   until none of the workers that took it is left is printed. Then as many submissions
   again (for both trees), so that the workers measured have served comments, and PSS.

Bytecode: the environment may set ``PYTHONDONTWRITEBYTECODE`` (this VM does), so a source
checkout compiles every module of the project at each launch (~0.2 s of CPU). An installed
wheel has its bytecode (pip compiles it at install): each root's packages are compiled with
``compileall`` first, unless ``--no-bytecode``.

Modules imported: a fresh interpreter with the root's ``PYTHONPATH`` creates the app,
serves the resident page and the paper-entry page (a community worker logged in) with the
test client, and reports ``len(sys.modules)`` and which of the statistics stack is loaded.

Figures are medians over ``--repeat``; roots alternate within each repeat so that the
machine's load falls on both alike.

Usage: .venv/bin/python benchmarks/bench_startup.py [--roots . /tmp/startup-base]
       [--backends sqlite postgresql] [--workers 4] [--repeat 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bulk_data import make_bench_app, scratch_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app.extensions import db  # noqa: E402
from survey_app.services import demo  # noqa: E402
from tests.reliability.harness import free_port, run_load  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")
RESIDENT_PATH = f"/c/{demo.SLUG}/relocated"
HEAVY = ("numpy", "scipy", "scipy.stats", "analysis", "jieba", "matplotlib", "docx",
         "openpyxl", "pandas", "pyreadstat")
# Run in a fresh interpreter under the root being measured: what serving the resident and
# the paper-entry page imports.
MODULES_PROBE = f"HEAVY = {HEAVY!r}\n" + """
import json, sys
from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Role, User
from sqlmodel import select
app = create_app({"SECRET_KEY": "bench", "PII_KEY": "bench", "CONTACT_KEY": "bench-contact",
                  "DATABASE_URL": sys.argv[1],
                  "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
at_create = len(sys.modules)
client = app.test_client()
assert client.get(sys.argv[2]).status_code == 200
with app.app_context():
    worker = db.session.exec(select(User).where(User.role == Role.WORKER)).first()
    worker_id = worker.get_id()
with client.session_transaction() as flask_session:
    flask_session["_user_id"] = worker_id
    flask_session["_fresh"] = True
entry = client.get("/entry/")
print(json.dumps({"at_create": at_create, "after_pages": len(sys.modules),
                  "entry_status": entry.status_code,
                  "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


@dataclass(frozen=True)
class Launch:
    """One gunicorn launch: seconds to the first 200 and PSS (MiB) by state."""

    first_200: float
    cpu_to_200: float
    workers_replaced: float | None
    replaced_after_comments: float | None
    worker_pss_first: float
    master_pss_first: float
    worker_pss_pages: float
    master_pss_pages: float
    worker_pss_submitted: float
    master_pss_submitted: float


def root_environment(root: Path, database_url: str, port: int, workers: int) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "SURVEY_DATABASE_URL": database_url,
            "SURVEY_SECRET_KEY": "bench-secret-key", "SURVEY_PII_KEY": "bench-pii",
            "SURVEY_CONTACT_KEY": "bench-contact",
            "SURVEY_WORKERS": str(workers), "SURVEY_BIND": f"127.0.0.1:{port}",
            "SURVEY_RATELIMIT_ENABLED": "0"}


def check_root(root: Path, env: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-c", "import survey_app; print(survey_app.__file__)"],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    imported = Path(out.stdout.strip()).resolve()
    if not imported.is_relative_to(root.resolve()):
        raise SystemExit(f"{root}: survey_app imported from {imported}")


def get_status(port: int, path: str) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


def pss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def memory(master: int, workers: int | None = None) -> tuple[float, float]:
    """Mean PSS of the workers and PSS of the master, once ``workers`` workers are up
    (``None``: the workers there are now)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = worker_pids(master)
        try:
            if pids and len(pids) == (workers or len(pids)):
                return statistics.mean(pss_mib(pid) for pid in pids), pss_mib(master)
        except (FileNotFoundError, ProcessLookupError):
            pass  # a worker was being replaced
        time.sleep(0.05)
    raise RuntimeError("workers did not settle")


def replaced_workers(master: int, first: set[int], workers: int, started: float,
                     settle: float) -> float | None:
    """Seconds from ``started`` until every worker of ``first`` was replaced (the master's
    re-fork after loading the comment segmenter), or None if none happened within
    ``settle``."""
    deadline = time.perf_counter() + settle
    while time.perf_counter() < deadline:
        pids = set(worker_pids(master))
        if len(pids) == workers and not pids & first:
            return time.perf_counter() - started
        time.sleep(0.02)
    return None


def loads_segmenter_at_start(root: Path) -> bool:
    """Older trees' masters load the comment segmenter right after forking a first worker;
    the current one once a worker has segmented a comment."""
    conf = root / "survey_app" / "gunicorn_conf.py"
    return not (conf.exists() and "SEGMENTER_WANTED" in conf.read_text(encoding="utf-8"))


def compile_bytecode(root: Path) -> None:
    """What pip does when it installs the wheel: the project's modules compiled."""
    packages = [str(root / name) for name in ("survey_app", "analysis", "questionnaires")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True,
                   stdout=subprocess.DEVNULL)


def gunicorn_config(root: Path) -> str:
    """The root's production settings: a module of the package, or (older commits) a file."""
    legacy = root / "gunicorn.conf.py"
    return str(legacy) if legacy.exists() else "python:survey_app.gunicorn_conf"


def launch(root: Path, database_url: str, args: argparse.Namespace) -> Launch:
    port = free_port()
    env = root_environment(root, database_url, port, args.workers)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(GUNICORN), "-c", gunicorn_config(root), "--access-logfile", "/dev/null",
         "--error-logfile", "/dev/null", "survey_app:create_app()"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        while get_status(port, RESIDENT_PATH) != 200:
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError(f"gunicorn from {root} did not serve {RESIDENT_PATH}")
            time.sleep(0.005)
        first_200 = time.perf_counter() - started
        # CPU of the master and every worker: on a loaded machine the wall clock also
        # counts other processes' turns.
        first = worker_pids(process.pid)
        cpu = sum(map(cpu_seconds, [process.pid, *first]))
        at_first_200 = memory(process.pid)
        replaced = (replaced_workers(process.pid, set(first), args.workers, started,
                                     args.settle) if loads_segmenter_at_start(root) else None)
        for _ in range(args.pages):
            assert get_status(port, RESIDENT_PATH) == 200
        time.sleep(0.5)
        pages = memory(process.pid, args.workers)
        before_comments = set(worker_pids(process.pid))
        submitting = time.perf_counter()
        ledger = run_load(f"http://127.0.0.1:{port}", demo.SLUG, residents=args.workers,
                          seconds=60, max_submissions=args.submissions)
        assert not ledger.server_errors, ledger.errors[:3]
        after_comments = (None if loads_segmenter_at_start(root) else replaced_workers(
            process.pid, before_comments, args.workers, submitting, args.settle))
        # As many again, so that the workers measured (the replacements, in the current
        # tree) have served submissions with comments too.
        ledger = run_load(f"http://127.0.0.1:{port}", demo.SLUG, residents=args.workers,
                          seconds=60, max_submissions=args.submissions, seed=2)
        assert not ledger.server_errors, ledger.errors[:3]
        time.sleep(0.5)
        submitted = memory(process.pid, args.workers)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return Launch(first_200, cpu, replaced, after_comments, *at_first_200, *pages,
                  *submitted)


def modules_imported(root: Path, database_url: str) -> dict:
    env = root_environment(root, database_url, 0, 1)
    out = subprocess.run([sys.executable, "-c", MODULES_PROBE, database_url, RESIDENT_PATH],
                         cwd=root, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def seeded_database(backend: str):
    database = scratch_database(backend)
    url = database.__enter__()
    app = make_bench_app(url)
    with app.app_context():
        demo.load_demo(session=db.session, example_links=0)
        db.session.commit()
    db.dispose(app)
    return database, url


def report(backend: str, root: Path, launches: list[Launch], modules: dict) -> None:
    def median(name: str) -> float:
        return statistics.median(getattr(run, name) for run in launches)

    def seconds(values) -> str:
        return ", ".join("-" if value is None else f"{value:.1f}" for value in values)

    replaced = seconds(run.workers_replaced for run in launches)
    after_comments = seconds(run.replaced_after_comments for run in launches)
    print(f"{backend:10} {str(root):24} first 200 {median('first_200'):.2f} s "
          f"(runs {', '.join(f'{run.first_200:.2f}' for run in launches)}), CPU "
          f"{median('cpu_to_200'):.2f} s; workers replaced at {replaced} s from launch, at "
          f"{after_comments} s from the first submission; PSS at first 200: "
          f"worker {median('worker_pss_first'):.1f} MiB, master {median('master_pss_first'):.1f} "
          f"MiB; "
          f"PSS after pages: worker {median('worker_pss_pages'):.1f} MiB, master "
          f"{median('master_pss_pages'):.1f} MiB; after submissions: worker "
          f"{median('worker_pss_submitted'):.1f} MiB, master "
          f"{median('master_pss_submitted'):.1f} MiB; modules {modules['at_create']} at "
          f"create_app, {modules['after_pages']} after resident + entry pages (entry "
          f"{modules['entry_status']}); loaded: {', '.join(modules['heavy']) or 'none'}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roots", nargs="+", type=Path, default=[ROOT])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds to wait for the workers' replacement before measuring")
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="do not compile the roots' modules first (see the docstring)")
    args = parser.parse_args()
    roots = [root.resolve() for root in args.roots]
    for root in roots if not args.no_bytecode else ():
        compile_bytecode(root)
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores; "
          f"{args.workers} workers; bytecode {'not ' if args.no_bytecode else ''}compiled "
          f"(PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})",
          flush=True)
    for backend in args.backends:
        database, url = seeded_database(backend)
        try:
            for root in roots:
                check_root(root, root_environment(root, url, 0, 1))
            modules = {root: modules_imported(root, url) for root in roots}
            launches: dict[Path, list[Launch]] = {root: [] for root in roots}
            for _ in range(args.repeat):
                for root in roots:
                    launches[root].append(launch(root, url, args))
            for root in roots:
                report(backend, root, launches[root], modules[root])
        finally:
            database.__exit__(None, None, None)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
