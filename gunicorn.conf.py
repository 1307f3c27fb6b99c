"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py 'survey_app:create_app()'`."""

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
# Import the app once in the master and fork the workers: start-up costs one import of
# numpy/scipy instead of one per worker, and a restarted worker is back at once.
preload_app = True


def post_fork(server, worker):
    # Connections must never be shared across processes; engines connect lazily, but
    # drop any pool the master might have opened before forking.
    from survey_app.extensions import db

    db.dispose(server.app.callable)


def when_ready(server):
    # Runs in the master after the app was preloaded, before the workers are forked: jieba
    # reads its dictionary (~0.7 s) on first use, so load it here once and every worker
    # inherits it, instead of each worker's first submission with a comment (segmented when
    # stored) or first scores request paying it.
    from survey_app.services.answer_copies import load_comment_segmenter

    load_comment_segmenter()
