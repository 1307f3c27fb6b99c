"""The baseline for the submission benchmark: a bare Flask endpoint that inserts one row in
one transaction, served by the same gunicorn settings and the same engine settings
(survey_app.db.make_engine: SQLite WAL, BEGIN IMMEDIATE, synchronous=NORMAL) as the app.

POST /insert with a form body (the same ~15 answer fields the survey posts) stores the body
as one row and answers 302, like the survey's redirect to the receipt. No CSRF, no
validation, no ORM, no template: the ceiling for "one transaction per request" on this
machine and database.

gunicorn -w 4 -b 127.0.0.1:8001 --chdir benchmarks 'bare_insert_app:create_app()'
with BENCH_DATABASE_URL set; the table is created beforehand (create_table), not in the
workers, which would race on CREATE TABLE.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, redirect, request
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app.db import make_engine  # noqa: E402

metadata = MetaData()
bench_row = Table("bench_row", metadata,
                  Column("id", Integer, primary_key=True),
                  Column("payload", Text, nullable=False),
                  Column("created_at", DateTime(timezone=True), server_default=func.now()))


def create_table(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    url = os.environ["BENCH_DATABASE_URL"]
    app = Flask(__name__)
    state = {}

    def engine():
        # Created lazily in each worker (gunicorn forks after import).
        if "engine" not in state:
            state["engine"] = make_engine(url, immediate=True)
        return state["engine"]

    @app.post("/insert")
    def insert_one():
        with engine().begin() as conn:
            conn.execute(insert(bench_row).values(payload=request.get_data(as_text=True)))
        return redirect("/done", code=302)

    @app.get("/")
    def ready():
        return "ok"

    return app
