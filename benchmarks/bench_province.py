"""A province on PostgreSQL: 120 county campaigns, 1.2 M roster households, ~85,000 responses.

Builds a scratch database (benchmarks/bulk_data.scratch_database): a province with 12
cities of 10 counties each (units through ``services.units``), one 2021 campaign per county
(created, questionnaires attached and placed in its county through the services), then per
county 10,000 roster households (3 projects, 5 communities, 20 % relocated) and 500-920
complete web/paper responses with their answers, bulk-copied (COPY). Counties differ in
satisfaction (five latent levels), so the league table and funnel have something to rank.

Measures, in one process (``services.rollups.rollup_document`` and the API route):

- the province roll-up (120 counties) and one city roll-up (10 counties), cold (every
  cache emptied) and cached (nothing changed since the last call);
- the same through GET /api/v1/units/<code>/2021/rollup (bearer token), cold and cached;
- the roster import of one county's 10,000 households into a new campaign: the CSV read by
  ``roster_files.read_roster_file`` and written by ``roster.import_roster`` (checks, keyed
  hashes, contact sealing, flush) and the commit.

Usage: .venv/bin/python benchmarks/bench_province.py [--counties 120] [--households 10000]
                                                     [--responses 85000] [--keep]
       .venv/bin/python benchmarks/bench_province.py --database <url kept by --keep>
                                                     --import-year <a year not used yet>
(building takes ~3 minutes; --keep and --database measure again without rebuilding)
"""

from __future__ import annotations

import os

# As survey_app/gunicorn_conf.py sets for the workers, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import csv
import io
import pickle
import random
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta

from bulk_data import (
    POSTGRES_ADMIN_URL,
    START,
    _answer_pool,
    make_bench_app,
    scratch_database,
)
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from analysis import comments as comment_analysis
from survey_app.extensions import db
from survey_app.migrate import upgrade
from survey_app.models import (
    Campaign,
    Community,
    HouseholdGroup,
    Project,
    Response,
    ResponseMode,
    Role,
    User,
)
from survey_app.services import (
    api_tokens,
    campaigns,
    category_counts,
    questionnaire_versions,
    rollups,
    roster,
    roster_files,
    score_cache,
    units,
    users,
)
from survey_app.services.answer_copies import answer_copies
from survey_app.services.demo_answers import Resident, household_latent, simulated_answers
from survey_app.services.personal_data import id_number_check_char
from survey_app.services.responses import answer_rows, payload_hash, store_response

PROVINCE = "430000"
EVALUATOR = "province-evaluator"
CITIES = 12
#: Latent satisfaction shifts (probit scale) a county's residents are drawn with.
LEVELS = (-0.6, -0.3, 0.0, 0.2, 0.4)
HOUSEHOLD_COLUMNS = ("id", "campaign_id", "household_code", "household_group", "project_id",
                     "community_id", "head_name_masked", "id_number_masked",
                     "phone_masked", "address_masked", "pseudonym", "sampled",
                     "sample_rank", "disposition", "is_demo", "created_at")


def _timed(fn, label: str, repeat: int = 1, reset=None):
    """Best of ``repeat`` runs; ``reset`` (untimed) runs before each."""
    best, result = float("inf"), None
    for _ in range(repeat):
        if reset is not None:
            reset()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"    ... {label}: {best:.4f} s", flush=True)
    return best, result


def county_codes(n_counties: int) -> list[tuple[str, str]]:
    """(city code, county code) of ``n_counties`` counties spread over the cities."""
    per_city = -(-n_counties // CITIES)
    return [(f"43{c + 1:02d}00", f"43{c + 1:02d}{k + 1:02d}")
            for c in range(CITIES) for k in range(per_city)][:n_counties]


def _units(counties, session) -> None:
    rows = [units.UnitRow(2, PROVINCE, "演示省", "")]
    for city in sorted({c for c, _k in counties}):
        rows.append(units.UnitRow(len(rows) + 2, city, f"演示{city[2:4]}市", PROVINCE))
    for city, county in counties:
        rows.append(units.UnitRow(len(rows) + 2, county, f"演示{county[2:]}县", city))
    units.import_units(rows, session=session)


def _campaigns(counties, session) -> list[dict]:
    """One campaign per county with its projects and communities; what the bulk part needs."""
    out = []
    for i, (_city, code) in enumerate(counties):
        campaign = campaigns.create_campaign(f"county-{code}-2021", f"{code}县2021年度满意度调查",
                                             2021, session=session, district=f"{code}县")
        questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
        units.assign_campaign(campaign, units.unit_by_code(code, session=session),
                              session=session)
        projects = [Project(campaign_id=campaign.id, code=f"P{code}{p}", name=f"{code}项目{p}")
                    for p in range(3)]
        communities = [Community(code=f"C{code}{k}", name=f"{code}社区{k}", street=f"{code}街道")
                       for k in range(5)]
        session.add_all(projects + communities)
        session.flush()
        versions = {g: questionnaire_versions.version_for_group(campaign, g, session=session)
                    for g in HouseholdGroup}
        out.append({"id": campaign.id, "code": code, "level": i % len(LEVELS),
                    "projects": [p.id for p in projects],
                    "communities": [c.id for c in communities], "versions": versions})
    return out


def _pools(forms, rng) -> dict:
    """Per latent level and group: 400 validated answer sets with their rows and copies."""
    pools = {}
    for level, shift in enumerate(LEVELS):
        for group, form in forms.items():
            pool = []
            for values, digest, copies in _answer_pool(form, rng, group):
                if shift:  # redraw with the county's shift (the pool's own draws are level 0)
                    latent = household_latent(rng, group, None, None, shift)
                    values = simulated_answers(form, rng, Resident(group, latent))
                    digest, copies = payload_hash(values), answer_copies(values, form)
                rows = [(r["question_id"], r["code"], r["number"], r["text"])
                        for r in answer_rows(0, values, form)]
                pool.append((digest, copies, rows))
            pools[(level, group)] = pool
    return pools


def _county_rows(spec, n_households, n_responses, ids, pools, rng):
    """The county's households (tuples in HOUSEHOLD_COLUMNS order), responses and answers."""
    households, responses, answers = [], [], []
    respond = set(rng.sample(range(n_households), n_responses))
    for i in range(n_households):
        group = "relocated" if rng.random() < 0.2 else "rental_subsidy"
        ids["household"] += 1
        hid = ids["household"]
        answered = i in respond
        households.append((
            hid, spec["id"], f"H{i:06d}", group,
            rng.choice(spec["projects"]) if group == "relocated" else None,
            rng.choice(spec["communities"]), "演*", "", "", "", f"P{i:08d}", answered,
            i if answered else None, "completed" if answered else "pending", True, START))
        if not answered:
            continue
        ids["response"] += 1
        rid = ids["response"]
        digest, copies, rows = rng.choice(pools[(spec["level"], group)])
        submitted = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
        responses.append({
            "id": rid, "campaign_id": spec["id"], "household_id": hid,
            "household_group": group,
            "questionnaire_version_id": spec["versions"][group].id,
            "mode": "web_token" if rng.random() < 0.7 else "paper",
            "instance_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "payload_hash": digest, "status": "complete", "receipt_code": f"R{rid:09d}",
            "locale": "zh", "started_at": submitted - timedelta(seconds=300),
            "submitted_at": submitted, "entered_by_id": None, "client_fingerprint": None,
            "excluded": False, "exclusion_reason": None, **copies,
            "created_at": submitted, "updated_at": submitted})
        answers.extend((rid, *row) for row in rows)
    return households, responses, answers


def _copy(conn, table: str, columns, rows) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bulk(url, specs, n_households, total_responses, pools, rng) -> dict:
    """Households, responses and answers of every county, copied county by county."""
    engine = create_engine(url)
    counts = {"household": 0, "response": 0, "answer": 0}
    per_county = [rng.randint(500, 920) for _ in specs]
    scale = total_responses / sum(per_county)
    with engine.begin() as conn:
        ids = {t: conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar()
               for t in ("household", "response")}
        for spec, n in zip(specs, per_county, strict=True):
            households, responses, answers = _county_rows(
                spec, n_households, min(round(n * scale), n_households), ids, pools, rng)
            _copy(conn, "household", HOUSEHOLD_COLUMNS, households)
            conn.execute(insert(Response.__table__), responses)
            _copy(conn, "answer", ("response_id", "question_id", "code", "number", "text"),
                  answers)
            counts["household"] += len(households)
            counts["response"] += len(responses)
            counts["answer"] += len(answers)
        for table in ("household", "response", "answer"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
    # What autovacuum does to a settled database (index-only scans need the visibility map).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
        counts["bytes"] = conn.execute(text("SELECT pg_database_size(current_database())")
                                       ).scalar()
    engine.dispose()
    return counts


def build_province(url: str, n_counties: int, n_households: int, n_responses: int,
                   seed: int = 2021) -> dict:
    app = make_bench_app(url)
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    counties = county_codes(n_counties)
    t0 = time.perf_counter()
    with app.app_context():
        session = db.session
        _units(counties, session)
        specs = _campaigns(counties, session)
        users.create_user(EVALUATOR, "bench-pingjia-2021-x", Role.EVALUATOR, session=session)
        forms = {g: questionnaire_versions.questionnaire_of(v)
                 for g, v in specs[0]["versions"].items()}
        session.commit()
    services_seconds = time.perf_counter() - t0
    pools = _pools(forms, rng)
    t0 = time.perf_counter()
    counts = _bulk(url, specs, n_households, n_responses, pools, rng)
    return {"counties": counties, "services_seconds": services_seconds,
            "bulk_seconds": time.perf_counter() - t0, **counts}


def _roster_csv(county: str, n: int, rng: random.Random) -> bytes:
    """A county roster of ``n`` households as the bureau sends it (CSV, UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["household_code", "group", "project", "community", "street",
                     "head_name", "id_number", "phone", "address"])
    for i in range(1, n + 1):
        relocated = rng.random() < 0.2
        born = date(1950, 1, 1) + timedelta(days=i // 1000 * 37 + rng.randrange(0, 30))
        first17 = f"{county}{born:%Y%m%d}{i % 1000:03d}"  # distinct: day block and sequence
        writer.writerow([f"N{i:06d}", "relocated" if relocated else "rental_subsidy",
                         f"{county}新项目{i % 3}" if relocated else "", f"{county}新社区{i % 6}",
                         f"{county}新街道", f"演示{i}", first17 + id_number_check_char(first17),
                         f"170{rng.randrange(0, 10**8):08d}", f"演示路{i % 300}号"])
    return out.getvalue().encode("utf-8")


def measure_import(app, county: str, n: int, year: int) -> dict:
    data = _roster_csv(county, n, random.Random(7))  # noqa: S311 - synthetic data
    with app.app_context():
        session = db.session
        campaign = campaigns.create_campaign(f"import-{county}-{year}", "导入测试", year,
                                             session=session, district=county)
        questionnaire_versions.attach_builtin_questionnaires(campaign, session=session)
        session.commit()
        t0 = time.perf_counter()
        rows = roster_files.read_roster_file("roster.csv", data)
        read = time.perf_counter() - t0
        result = roster.import_roster(campaign, rows, session=session,
                                      pii_key=app.config["PII_KEY"],
                                      contact_key=app.config["CONTACT_KEY"])
        imported = time.perf_counter() - t0
        session.commit()
        total = time.perf_counter() - t0
    print(f"    ... roster import of {result.households:,} households: {total:.3f} s", flush=True)
    return {"import_read": read, "import_service": imported - read, "import_total": total}


def measure_rollups(app, city: str) -> dict:
    out = {}
    with app.app_context():
        evaluator = db.session.exec(select(User).where(User.username == EVALUATOR)).one()
        token = api_tokens.create_api_token(evaluator, session=db.session)
        db.session.commit()
        # The bulk-copied responses left every campaign pending in the change ledger: the
        # one-off recomputation of all 120 campaigns' category counts, kept (commit).
        every = list(db.session.exec(select(Campaign)).all())
        t0 = time.perf_counter()
        category_counts.refresh(every, session=db.session, force=True)
        db.session.commit()
        out["counts_rebuild"] = time.perf_counter() - t0
        # As autovacuum would after such a load: the planner's statistics of the new rows.
        db.session.execute(text("ANALYZE categorycount, rostercount, countchange, pairsum"))
        db.session.commit()
        print(f"    ... category counts of {len(every)} campaigns rebuilt: "
              f"{out['counts_rebuild']:.2f} s", flush=True)

    def empty_caches():
        with app.app_context():
            score_cache.cache_of_app().clear()
            score_cache.rollup_cache_of_app().clear()
        comment_analysis._segment.cache_clear()

    with app.app_context():
        # The process's first roll-up imports the statistics (scipy.stats for the league
        # table's ranks: seconds on this machine), which a worker pays once, not per request.
        province = units.unit_by_code(PROVINCE, session=db.session)
        out["first_call"], _ = _timed(
            lambda: rollups.rollup_document(province, 2021, session=db.session),
            "province roll-up, first call in this process (imports)", reset=empty_caches)
    for name, code in (("province", PROVINCE), ("city", city)):
        with app.app_context():
            unit = units.unit_by_code(code, session=db.session)

            def document(unit=unit):
                return rollups.rollup_document(unit, 2021, session=db.session)

            out[f"{name}_cold"], doc = _timed(document, f"{name} roll-up cold (best of 3)",
                                              3, reset=empty_caches)
            out[f"{name}_cached"], _ = _timed(document, f"{name} roll-up cached", 5)
            out[f"{name}_respondents"] = doc.respondents
            out[f"{name}_counties"] = len(doc.counties)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        path = f"/api/v1/units/{code}/2021/rollup"

        def get(path=path, client=client, headers=headers):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.status_code
            return response

        out[f"{name}_api_cold"], _ = _timed(get, f"{name} API cold (best of 3)", 3,
                                            reset=empty_caches)
        out[f"{name}_api_cached"], _ = _timed(get, f"{name} API cached", 5)
    out.update(_after_one_change(app))
    return out


def _after_one_change(app) -> dict:
    """One county's new response: the province roll-up recomputes that county's category
    counts in memory (pending in the ledger) and reads the others' stored counts."""
    with app.app_context():
        session = db.session
        campaign = campaigns.get_campaign(f"county-{county_codes(1)[0][1]}-2021",
                                          session=session)
        doc = score_cache.cached_scores_document(campaign, session=session)
        province = units.unit_by_code(PROVINCE, session=session)
        rollups.rollup_document(province, 2021, session=session)
        group = HouseholdGroup.RENTAL_SUBSIDY
        version = questionnaire_versions.version_for_group(campaign, group, session=session)
        values = simulated_answers(questionnaire_versions.questionnaire_of(version),
                                   random.Random(5), Resident(group, 0.8))  # noqa: S311
        store_response(session=session, campaign=campaign, version=version, group=group,
                       mode=ResponseMode.WEB_TOKEN, instance_id=str(uuid.uuid4()),
                       values=values)
        session.commit()
        seconds, _ = _timed(lambda: rollups.rollup_document(province, 2021, session=session),
                            "province roll-up after one county's new response")
    return {"province_after_change": seconds, "document_bytes": len(pickle.dumps(doc))}


@contextmanager
def kept_or_scratch_database(keep: bool):
    if not keep:
        with scratch_database("postgresql") as url:
            yield url
        return
    name = f"bench_province_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url


def measure(url: str, counties, households: int, import_year: int) -> dict:
    # The data is settled (November 2021); the services' rows were written seconds ago.
    # A scores cache that holds the province's 120 county documents (docs/SCALE.md).
    app = make_bench_app(url, WTF_CSRF_ENABLED=False, SCORE_CACHE_SETTLE_SECONDS=0,
                         SCORE_CACHE_MAX_ENTRIES=256)
    r = measure_rollups(app, counties[0][0])
    r.update(measure_import(app, counties[0][1], households, import_year))
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=120)
    parser.add_argument("--households", type=int, default=10_000, help="per county")
    parser.add_argument("--responses", type=int, default=85_000, help="in all")
    parser.add_argument("--database", help="measure on this database, built by an earlier "
                                           "run with --keep (the roster import adds to it)")
    parser.add_argument("--import-year", type=int, default=2022,
                        help="year of the campaign the county roster is imported into")
    parser.add_argument("--keep", action="store_true",
                        help="build into a database that is kept (its URL is printed)")
    args = parser.parse_args()
    if args.database:
        r = measure(args.database, county_codes(args.counties), args.households, args.import_year)
    else:
        with kept_or_scratch_database(args.keep) as url:
            built = build_province(url, args.counties, args.households, args.responses)
            print(f"built {args.counties} counties: {built['household']:,} households, "
                  f"{built['response']:,} responses, {built['answer']:,} answers; services "
                  f"{built['services_seconds']:.1f} s, bulk {built['bulk_seconds']:.1f} s; "
                  f"database {built['bytes'] / 2**20:,.0f} MiB; {url}", flush=True)
            r = measure(url, built["counties"], args.households, args.import_year)
    city = county_codes(args.counties)[0][0]
    print(f"\nprovince: {r['province_counties']} counties, {r['province_respondents']:,} "
          f"respondents; city {city}: {r['city_counties']} counties")
    for name in ("province", "city"):
        for kind in ("cold", "cached", "api_cold", "api_cached"):
            seconds = r[f"{name}_{kind}"]
            goal = 1.0 if "cold" in kind else 0.1
            print(f"  {name:<9}{kind:<11}{seconds * 1000:10.1f} ms   goal {goal * 1000:6.0f} ms "
                  f"{'met' if seconds < goal else 'MISSED'}")
    print(f"  province roll-up, first call in the process (imports): {r['first_call']:.2f} s")
    print(f"  category counts of every campaign rebuilt (one-off after the bulk load): "
          f"{r['counts_rebuild']:.2f} s")
    print(f"  province after one county's new response: {r['province_after_change']:.2f} s "
          f"(a county's scores document: {r['document_bytes'] / 1024:,.0f} KiB pickled)")
    print(f"  roster import ({args.households:,} households): read {r['import_read']:.2f} s, "
          f"import_roster {r['import_service']:.2f} s, total with commit "
          f"{r['import_total']:.2f} s   goal 10 s "
          f"{'met' if r['import_total'] < 10 else 'MISSED'}", flush=True)


if __name__ == "__main__":
    main()
