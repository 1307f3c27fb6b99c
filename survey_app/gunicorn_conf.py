"""Production gunicorn settings, a module of the package so that an installed wheel has them:
`gunicorn -c python:survey_app.gunicorn_conf 'survey_app:create_app()'`.

Start-up and memory (measured in docs/BENCHMARKS.md, "Start-up and memory"): the master
imports the app, which imports none of the statistics stack (numpy, scipy, analysis, jieba,
python-docx, openpyxl), and forks the workers, which share what it imported
(``preload_app``). The comment segmenter (jieba's dictionary, ~1 s of CPU and ~70 MB) is
loaded when comments are first segmented: the first worker that segments one loads its own
copy and tells the master (one byte of shared memory, :func:`post_request`); the master then
loads it too and reloads itself (SIGHUP): new workers are forked that share its copy, and the
old ones finish their requests and exit. A server that never receives a comment never loads
it; one that does holds one shared copy instead of one per worker. Before forking, the
master also serves a few pages of a campaign that cannot exist (:func:`warm_up`), so that
what every worker's first request would set up is shared as well.

``SURVEY_COMMENT_SEGMENTER=start`` loads it at start instead, for a restart during busy
fieldwork: the master forks one worker, which serves at once, loads the segmenter meanwhile
and then replaces that worker by the configured number (no worker loads a copy of its own
when many residents post comments in the first seconds, at ~1 s of CPU each).
"""

import gc
import mmap
import os
import sys

# No cyclic garbage collection while the master imports and creates the app (~0.15 s of
# CPU at start, a seventh of it): imports make few cycles (~750 unreachable objects), and
# when_ready freezes everything anyway, then turns collection back on for the master and
# the workers it forks.
gc.disable()

# One BLAS thread per worker: the workers are the parallelism. The statistics' matrix
# products are small (2 x 100,000 for a correlation), and OpenBLAS's own threads mostly
# spun (a tenth of the instructions of a scores document) and oversubscribed the cores.
# Set here, before any process imports numpy (a worker's first scores request).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

bind = os.environ.get("SURVEY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SURVEY_WORKERS", "4"))
#: When the master loads the comment segmenter: "first-comment" (the default) or "start".
comment_segmenter = os.environ.get("SURVEY_COMMENT_SEGMENTER", "first-comment")
if comment_segmenter not in ("first-comment", "start"):
    raise ValueError(f"SURVEY_COMMENT_SEGMENTER={comment_segmenter!r}: 'first-comment' or 'start'")
# Short requests; a slow client must not hold a worker for long.
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
logger_class = "survey_app.log_redaction.RedactingGunicornLogger"
# Only the path, never the query string or headers.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
# Import the app once in the master and fork the workers: what the master imported is
# shared copy-on-write (PSS per worker), and a restarted worker is back at once.
preload_app = True


def post_fork(server, worker):
    # Connections must never be shared across processes; engines connect lazily, but
    # drop any pool the master might have opened before forking.
    from survey_app.extensions import db

    gc.enable()  # already on, unless a settings file (not this module) was run again
    db.dispose(server.app.callable)


def on_reload(server):
    gc.enable()  # as in post_fork: a settings *file* is run again on SIGHUP


#: One byte of memory shared by the master and every worker it forks (an anonymous shared
#: mapping): set by the first worker that has loaded the comment segmenter.
SEGMENTER_WANTED = mmap.mmap(-1, 1)


#: Served once by the master before it forks (a campaign that cannot exist: no data is read
#: or written, no failed link lookup is counted).
WARM_UP_PATHS = ("/", "/c/-", "/c/-/relocated")


def when_ready(server):
    # Runs once in the master after the app was preloaded, before the workers are forked
    # (not again on SIGHUP).
    import threading

    from survey_app.cli import database_problem

    try:
        problem = database_problem(server.app.callable)
        if problem:  # one line, not a traceback per warm-up page; the workers start anyway
            server.log.error("%s; pages answer 500 until it answers", problem)
        else:
            warm_up(server.app.callable)
    except Exception:
        server.log.exception("Warming up the app in the master failed")  # workers still serve
    _freeze_shared_objects()
    gc.enable()
    if comment_segmenter == "start":
        server.num_workers = 1  # serves while the master loads; the reload forks the rest
    threading.Thread(target=share_comment_segmenter, args=(server,), daemon=True,
                     name="share-comment-segmenter").start()


def warm_up(app) -> None:
    """Do in the master what every worker's first requests would do in each worker: compile
    the resident pages' templates, load the translations, compile the SQL of a link's
    look-up, let the interpreter specialise the code of a request. The workers then share
    those pages instead of each writing its own copy (PSS per worker: docs/BENCHMARKS.md,
    "Start-up and memory"). No connection is left open across the fork.
    """
    from survey_app.extensions import db, limiter

    env = app.jinja_env
    for name in env.list_templates(
            filter_func=lambda name: name.startswith(("public/", "base.", "error.", "macros."))):
        env.get_template(name)
    limits = limiter.enabled, app.config["RATELIMIT_ENABLED"]
    limiter.enabled = app.config["RATELIMIT_ENABLED"] = False  # the master is no client
    try:
        client = app.test_client()
        for path in WARM_UP_PATHS:
            client.get(path)
    finally:
        limiter.enabled, app.config["RATELIMIT_ENABLED"] = limits
        db.dispose(app)


def post_request(worker, req, environ, resp):
    # In a worker, after each request: has a comment made it load the segmenter (jieba is
    # imported by nothing else of the app)? A dictionary look-up per request.
    if not SEGMENTER_WANTED[0] and "jieba" in sys.modules:
        SEGMENTER_WANTED[0] = 1


def share_comment_segmenter(server, *, poll_seconds: float = 0.5) -> None:
    """In the master: once a worker has loaded the comment segmenter (or, to load it at
    start, once the first worker is forked), load it here too, then replace the workers
    (SIGHUP: ``workers`` new ones forked, sharing it; the old ones finish their requests and
    exit).

    A fork while this thread imports would give the child half-imported modules and locks
    held by a thread it does not have, so every fork of the master waits for the loading.
    """
    import signal
    import threading
    import time

    while not (SEGMENTER_WANTED[0] or comment_segmenter == "start" and server.WORKERS):
        time.sleep(poll_seconds)
    loading = threading.Lock()
    os.register_at_fork(before=loading.acquire, after_in_parent=loading.release,
                        after_in_child=loading.release)
    try:
        with loading:
            from survey_app.services.answer_copies import load_comment_segmenter

            load_comment_segmenter()
            _freeze_shared_objects()
        server.log.info("Comment segmenter loaded; replacing the workers to share it")
    except Exception:
        server.log.exception("Loading the comment segmenter in the master failed")
        if comment_segmenter != "start":
            return  # each worker goes on loading its own copy on its first comment
        # At start the reload still brings the configured number of workers.
    os.kill(os.getpid(), signal.SIGHUP)


def _freeze_shared_objects() -> None:
    # Move the master's objects to the collector's permanent generation: the workers'
    # collections then never write to them, so their pages stay shared.
    gc.freeze()
