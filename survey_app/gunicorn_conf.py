"""Production gunicorn settings, a module of the package so that an installed wheel has them:
`gunicorn -c python:survey_app.gunicorn_conf 'survey_app:create_app()'`.

Start-up (measured in docs/BENCHMARKS.md, "Start-up and memory"): the master imports the
app, which does not import the statistics stack (analysis, scipy, jieba, python-docx), and
forks one worker, which serves at once. Meanwhile the master loads the comment segmenter
(``analysis`` and jieba's dictionary: ~1.5 s of CPU, ~130 MB), which every resident
submission with a comment needs, then reloads itself (SIGHUP): the configured number of
workers are forked from it and share those pages, and the first worker finishes its
request and exits. Only that first worker can load a private copy (on a comment before
the reload), and one process loading beside the master keeps the wait short.
"""

import os

# One BLAS thread per worker: the workers are the parallelism. The statistics' matrix
# products are small (2 x 100,000 for a correlation), and OpenBLAS's own threads mostly
# spun (a tenth of the instructions of a scores document) and oversubscribed the cores.
# Set before the app (numpy) is imported below.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

bind = os.environ.get("SURVEY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SURVEY_WORKERS", "4"))
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

    db.dispose(server.app.callable)


def when_ready(server):
    # Runs once in the master after the app was preloaded, before the workers are forked
    # (not again on SIGHUP, whose reload sets the number of workers from this file again).
    import threading

    _freeze_shared_objects()
    server.num_workers = 1
    threading.Thread(target=share_comment_segmenter, args=(server,), daemon=True,
                     name="share-comment-segmenter").start()


def share_comment_segmenter(server, *, poll_seconds: float = 0.05) -> None:
    """In the master: once the first worker is forked, load the comment segmenter, then
    replace the workers (SIGHUP: ``workers`` new ones forked, the old one finishes its
    request and exits).

    A fork while this thread imports would give the child half-imported modules and locks
    held by a thread it does not have, so every fork of the master waits for the loading.
    """
    import signal
    import threading
    import time

    loading = threading.Lock()
    os.register_at_fork(before=loading.acquire, after_in_parent=loading.release,
                        after_in_child=loading.release)
    deadline = time.monotonic() + 60
    while len(server.WORKERS) < server.num_workers and time.monotonic() < deadline:
        time.sleep(poll_seconds)  # the first worker first: it serves while this loads
    try:
        with loading:
            from survey_app.services.answer_copies import load_comment_segmenter

            load_comment_segmenter()
            _freeze_shared_objects()
        server.log.info("Comment segmenter loaded; replacing the workers to share it")
    except Exception:
        # The reload below still brings the configured number of workers; each loads
        # the segmenter on its first comment.
        server.log.exception("Loading the comment segmenter in the master failed")
    os.kill(os.getpid(), signal.SIGHUP)


def _freeze_shared_objects() -> None:
    # Move the master's objects to the collector's permanent generation: the workers'
    # collections then never write to them, so their pages stay shared.
    import gc

    gc.freeze()
