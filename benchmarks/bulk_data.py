"""Throw-away benchmark databases and a campaign with N responses, inserted in bulk.

The demo campaign (services.demo: 3 projects, 5 communities, 3,100 roster households, a
few hundred responses) is loaded through the services; then ``extra`` households and
``extra`` responses with their answers are added with executemany (SQLite) or COPY
(PostgreSQL). The answers of the bulk responses are drawn from a pool of 400 answer sets
per household group that passed ``questionnaires.validate_answers`` (skip logic included),
so the data is valid; timestamps lie in November 2021 (long settled for the scores cache).

Used by benchmarks/bench_scores.py and benchmarks/bench_exports.py.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app import create_app  # noqa: E402
from survey_app.extensions import db  # noqa: E402
from survey_app.migrate import upgrade  # noqa: E402
from survey_app.models import Household, HouseholdGroup, Response  # noqa: E402
from survey_app.services import demo, demo_answers, questionnaire_versions  # noqa: E402
from survey_app.services.answer_copies import answer_copies  # noqa: E402
from survey_app.services.demo_answers import (  # noqa: E402
    Resident,
    household_latent,
    simulated_answers,
)
from survey_app.services.responses import answer_rows, payload_hash  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("SURVEY_BENCH_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SETTINGS = {"SECRET_KEY": "bench-secret", "PII_KEY": "bench-pii", "CONTACT_KEY": "bench-contact",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True, "PUBLIC_BASE_URL": "http://127.0.0.1"}
POOL = 400
START = datetime(2021, 11, 3, 1, 0, tzinfo=UTC)


@contextmanager
def scratch_database(backend: str):
    """A migrated empty database URL, dropped (or deleted) afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_bench_app(url: str, **settings):
    return create_app({**SETTINGS, "DATABASE_URL": url, **settings})


def _answer_pool(questionnaire, rng: random.Random,
                 group: str) -> list[tuple[dict, str, dict]]:
    pool = []
    for _ in range(POOL):
        resident = Resident(group, household_latent(rng, group, None, None))
        values = simulated_answers(questionnaire, rng, resident)  # validated, skip logic applied
        pool.append((values, payload_hash(values), answer_copies(values, questionnaire)))
    return pool


def _distinct_comment(comment: str, i: int, rng: random.Random) -> str:
    # Real comments are mostly distinct sentences: two of the demo's phrases and a building.
    second = rng.choice(demo_answers.PRAISE + demo_answers.COMPLAINTS["procedure_convenience"])
    return f"{comment}{second}{i % 997 + 1}号楼{rng.choice('东西南北')}侧"


def build_campaign(url: str, extra: int, *, seed: int = 2021,
                   distinct_comments: bool = False) -> dict:
    """Demo campaign plus ``extra`` households each with one complete response.

    ``distinct_comments``: every non-empty comment of the bulk responses made distinct
    (as real comments are), instead of repeating the demo's 10 phrases; their answer
    rows, copies and payload hashes follow.
    """
    app = make_bench_app(url)
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    timings = {}
    with app.app_context():
        session = db.session
        t0 = time.perf_counter()
        demo.load_demo(session=session, example_links=0)
        session.commit()
        timings["demo_seconds"] = time.perf_counter() - t0
        campaign = demo.campaigns.get_campaign(demo.SLUG, session=session)
        template = session.execute(
            text("SELECT project_id, community_id FROM household WHERE campaign_id = :c "
                 "AND household_group = :g"), {"c": campaign.id, "g": "relocated"}).all()
        communities = sorted({c for _p, c in template})
        projects = sorted({p for p, _c in template if p is not None})
        versions = {g: questionnaire_versions.version_for_group(campaign, g, session=session)
                    for g in HouseholdGroup}
        forms = {g: questionnaire_versions.questionnaire_of(v) for g, v in versions.items()}
        pools = {g: _answer_pool(forms[g], rng, g)
                 for g in HouseholdGroup}
        pool_rows = {}  # (group, pool index) -> answer dicts without response_id
        for g, pool in pools.items():
            for k, (values, _digest, _codes) in enumerate(pool):
                pool_rows[(g, k)] = [
                    {key: value for key, value in row.items() if key != "response_id"}
                    for row in answer_rows(0, values, forms[g])]
        base_h = session.execute(text("SELECT coalesce(max(id), 0) FROM household")).scalar()
        base_r = session.execute(text("SELECT coalesce(max(id), 0) FROM response")).scalar()
        session.commit()

    households, responses, answers = [], [], []
    for i in range(extra):
        group = "relocated" if rng.random() < 0.2 else "rental_subsidy"
        hid, rid = base_h + 1 + i, base_r + 1 + i
        households.append({
            "id": hid, "campaign_id": campaign.id, "household_code": f"B{i:07d}",
            "household_group": group,
            "project_id": rng.choice(projects) if group == "relocated" else None,
            "community_id": rng.choice(communities), "head_name_masked": "演*",
            "id_number_masked": "", "id_number_hmac": None, "phone_masked": "",
            "phone_hmac": None, "address_masked": "", "pseudonym": f"P{i:08d}",
            "sampled": True, "sample_rank": i, "disposition": "completed", "is_demo": True,
            "created_at": START})
        k = rng.randrange(POOL)
        submitted = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
        digest, copies, rows = pools[group][k][1], pools[group][k][2], pool_rows[(group, k)]
        if distinct_comments and copies["comment"]:
            values = dict(pools[group][k][0])
            text_ids = [q.id for q in forms[group].questions() if q.type == "text"]
            for qid in text_ids:
                if values.get(qid):
                    values[qid] = _distinct_comment(values[qid], i, rng)
            digest, copies = payload_hash(values), answer_copies(values, forms[group])
            rows = [{**row, "text": values[row["question_id"]]}
                    if row["question_id"] in text_ids else row for row in rows]
        responses.append({
            "id": rid, "campaign_id": campaign.id, "household_id": hid,
            "household_group": group, "questionnaire_version_id": versions[group].id,
            "mode": "web_token" if rng.random() < 0.7 else "paper",
            "instance_id": str(uuid.uuid4()),
            "payload_hash": digest, "status": "complete",
            "receipt_code": f"R{i:09d}", "locale": "zh",
            "started_at": submitted - timedelta(seconds=rng.randrange(120, 600)),
            "submitted_at": submitted, "entered_by_id": None, "client_fingerprint": None,
            "excluded": False, "exclusion_reason": None, **copies,
            "created_at": submitted, "updated_at": submitted})
        for row in rows:
            answers.append((rid, row["question_id"], row["code"], row["number"], row["text"]))

    t0 = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Household.__table__), households)
        conn.execute(insert(Response.__table__), responses)
        if engine.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(
                    "COPY answer (response_id, question_id, code, number, text) "
                    "FROM STDIN") as copy:
                for row in answers:
                    copy.write_row(row)
            for table in ("household", "response", "answer"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))
            timings["table_bytes"] = dict(conn.execute(text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relname IN ('response', 'answer', 'household')")).all())
        else:
            conn.exec_driver_sql(
                "INSERT INTO answer (response_id, question_id, code, number, text) "
                "VALUES (?, ?, ?, ?, ?)", answers)
            conn.exec_driver_sql("ANALYZE")
    seconds = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a settled database: without it the visibility map of the
        # freshly copied tables is empty (no index-only scans), and autovacuum would start
        # on its own in the middle of the measurements.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) household, response, answer"))
    engine.dispose()
    timings.update(bulk_seconds=seconds, bulk_responses=extra, bulk_answers=len(answers),
                   answer_rows_per_second=len(answers) / seconds if seconds else None)
    return {"slug": demo.SLUG, "campaign_id": campaign.id, **timings}
