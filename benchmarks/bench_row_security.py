"""What PostgreSQL's row-level security (migrations 0027, 0028) costs on the hot read path.

Builds a scratch PostgreSQL database (the demo region + N bulk responses in heshan-2021,
benchmarks/bulk_data.py), a non-superuser LOGIN role with the app's privileges, and times
in one process, best of ``--repeats``:

- ``load_counted`` (the counted responses' rating codes: what every score reads),
- ``scores_document`` (cold: computed, no cache),
- ``SELECT count(*) FROM answer`` (every answer row through the policy: the worst case),

three ways: as the superuser (no policy applies: what the tests and a superuser connection
see), as the app role with ``survey.unit_path`` the all-units marker ``*`` (a global account
or a resident; unset sees nothing since migration 0028), and
as the app role scoped to 赫山区 (a county account: every row checked against the county).

Usage: .venv/bin/python benchmarks/bench_row_security.py [--responses 50000] [--repeats 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
import uuid

from bulk_data import build_campaign, make_bench_app, scratch_database
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey_app.extensions import db
from survey_app.row_security import ALL_UNITS, acting_as, set_unit_path
from survey_app.services import campaigns, counted_data, demo, scores, units

HESHAN = "430903"


def _app_role(url: str) -> str:
    """A LOGIN role that is neither superuser nor owner, with the app's privileges."""
    name = f"bench_app_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOBYPASSRLS')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{name}"')
        conn.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{name}"')
        conn.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    engine.dispose()
    return name


def _drop_role(url: str, name: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
        conn.exec_driver_sql(f'DROP ROLE "{name}"')
    engine.dispose()


def _best(run, repeats: int, path: str | None) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        db.session.rollback()
        if path is not None:
            set_unit_path(db.session.connection(), path)
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    db.session.rollback()
    return best, result


def measure(url: str, path: str | None, repeats: int) -> dict[str, tuple[float, object]]:
    app = make_bench_app(url)
    with app.app_context(), acting_as(path if path is not None else ALL_UNITS):
        # (unset, the policies show nothing: the campaign itself is looked up in the path)
        campaign = campaigns.get_campaign(demo.SLUG, session=db.session)
        figures = {
            "load_counted": _best(lambda: len(counted_data.load_counted(
                campaign, session=db.session).response_ids), repeats, path),
            "scores_document": _best(lambda: scores.scores_document(
                campaign, session=db.session).n_respondents, repeats, path),
            "count(answer)": _best(lambda: db.session.execute(
                text("SELECT count(*) FROM answer")).scalar(), repeats, path),
        }
    db.dispose(app)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with scratch_database("postgresql") as url:
        build_campaign(url, args.responses)
        role = _app_role(url)
        app_url = make_url(url).set(username=role, password=None).render_as_string(
            hide_password=False)
        app = make_bench_app(url)
        with app.app_context():
            county = units.unit_by_code(HESHAN, session=db.session).path
        db.dispose(app)
        try:
            rows = {"superuser (no policy)": measure(url, None, args.repeats),
                    "app role, all units (*)": measure(app_url, ALL_UNITS, args.repeats),
                    f"app role, scoped {county}": measure(app_url, county, args.repeats)}
        finally:
            _drop_role(url, role)
    print(f"heshan-2021 + {args.responses} bulk responses, best of {args.repeats}")
    for name, figures in rows.items():
        print(f"{name:34s} " + "  ".join(
            f"{part} {seconds * 1000:8.1f} ms ({value})"
            for part, (seconds, value) in figures.items()))


if __name__ == "__main__":
    main()
