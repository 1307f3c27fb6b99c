"""PostgreSQL row-level security (migrations 0027, 0029) keeps a county account out of another
county even where the application's own filter is missing (issue 23 item 1, done-when:
"with the app's filter removed (a test-only query), a county user's connection still sees
0 rows of another county").

The demo region: 赫山区 (430903: heshan-2021) and 资阳区 (430902:
ziyang-2021), both with rosters, tokens, responses and answers. Tests connect as the
superuser ``postgres``, whom row-level security never filters; each test therefore creates
a non-superuser role inside its rolled-back transaction and ``SET LOCAL ROLE``s to it, as
production connects as a role that is not a superuser (README).

SQLite has no row-level security: there the migration does nothing and the application's
scoping is all there is (tests/admin/test_unit_scoped_staff.py).
"""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from survey_app.models import Role
from survey_app.row_security import ALL_UNITS, set_unit_path
from survey_app.services import api_tokens, campaigns, unit_scope, units
from tests.factories import login, make_user

VERSIONS = Path(__file__).parents[2] / "migrations/versions"
MIGRATION = next(VERSIONS.glob("*_row_security.py"))
# Later migrations that add campaign tables add their policies themselves.
POLICY_MIGRATIONS = (MIGRATION, next(VERSIONS.glob("*_category_counts.py")),
                     next(VERSIONS.glob("*_backcheck_topup_policy.py")),
                     next(VERSIONS.glob("*_pair_sums.py")),
                     next(VERSIONS.glob("*_audit_policy.py")),
                     next(VERSIONS.glob("*_count_projects.py")),
                     next(VERSIONS.glob("*_respondent_sums.py")))
HESHAN, ZIYANG = "430903", "430902"
OTHER_COUNTY = "ziyang-2021"


def _migration(path: Path = MIGRATION):
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _postgres_only(connection) -> None:
    if connection.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite pilots scope in the app only")


def _probe_role(connection) -> str:
    """A fresh non-superuser role with the app's privileges (gone with the rollback)."""
    name = f"survey_probe_{uuid.uuid4().hex[:10]}"
    connection.exec_driver_sql(f'CREATE ROLE "{name}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
    connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{name}"')
    connection.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{name}"')
    connection.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    return name


def _rows_of(connection, campaign_id: int) -> dict[str, list[int]]:
    """The ids of every covered table's rows that belong to ``campaign_id``, read without
    any filter but this one (as the superuser, whom no policy filters)."""
    migration = _migration()
    ids = {"campaign": [campaign_id]}
    for table in migration.CAMPAIGN_TABLES:
        column = "campaign_id" if table == "campaignreport" else "id"
        ids[table] = list(connection.execute(text(
            f"SELECT {column} FROM {table} WHERE campaign_id = :c"),
            {"c": campaign_id}).scalars())
    for table, (key, parent) in migration.CHILD_TABLES.items():
        column = "response_id" if table == "commentredaction" else "id"
        ids[table] = list(connection.execute(text(
            f"SELECT {column} FROM {table} WHERE {key} = ANY(:p)"),
            {"p": ids[parent]}).scalars())
    return ids


def _campaigns_under(connection, path: str) -> set[str]:
    """The slugs of the campaigns whose unit lies under ``path`` (as the superuser)."""
    return set(connection.execute(text(
        "SELECT c.slug FROM campaign c JOIN unit u ON u.id = c.unit_id "
        "WHERE starts_with(u.path, :p)"), {"p": path}).scalars())


def _count(connection, table: str, ids: list[int]) -> int:
    column = {"campaignreport": "campaign_id", "commentredaction": "response_id"}.get(table, "id")
    return connection.execute(text(f"SELECT count(*) FROM {table} WHERE {column} = ANY(:i)"),
                              {"i": ids}).scalar_one()


@pytest.mark.demo_data
def test_a_county_connection_sees_no_row_of_another_county(session, _connection):
    _postgres_only(_connection)
    other = campaigns.get_campaign(OTHER_COUNTY, session=session)
    own = campaigns.get_campaign("heshan-2021", session=session)
    theirs, ours = _rows_of(_connection, other.id), _rows_of(_connection, own.id)
    # Not vacuous: the other county has campaign data, as the superuser sees.
    for table in ("campaign", "campaignquestionnaire", "household", "response", "answer"):
        assert theirs[table] and ours[table], table
    heshan = units.unit_by_code(HESHAN, session=session)
    expected = _campaigns_under(_connection, heshan.path)
    assert "heshan-2021" in expected and OTHER_COUNTY not in expected
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    set_unit_path(_connection, heshan.path)
    # The test-only queries: no filter but the ids, as a view that forgot its scope.
    leaked = {t: n for t, ids in theirs.items() if (n := _count(_connection, t, ids))}
    assert leaked == {}
    assert all(_count(_connection, t, ids) == len(ids) for t, ids in ours.items())
    slugs = set(_connection.execute(text("SELECT slug FROM campaign")).scalars())
    assert slugs == expected
    # The all-units marker (global accounts, residents, the CLI): every row.
    set_unit_path(_connection, ALL_UNITS)
    assert all(_count(_connection, t, ids) == len(ids) for t, ids in theirs.items())
    # Empty (nobody said whose scope): no row at all (migration 0029: fails closed).
    set_unit_path(_connection, "")
    assert not any(_count(_connection, t, ids) for t, ids in {**theirs, **ours}.items())
    # A county role cannot write into another county either.
    set_unit_path(_connection, heshan.path)
    with pytest.raises(ProgrammingError, match="row-level security"), _connection.begin_nested():
        _connection.execute(text(
            "INSERT INTO project (campaign_id, code, name) VALUES (:c, 'X1', 'x')"),
            {"c": other.id})


@pytest.mark.demo_data
def test_a_view_without_the_apps_filter_still_cannot_reach_another_county(
        app, client, session, _connection, monkeypatch):
    """The app's own check switched off (a view that forgot it): the county evaluator's
    requests still find nothing of the other county, because the app set the unit path."""
    _postgres_only(_connection)
    evaluator = make_user(session, Role.EVALUATOR)
    unit_scope.grant_unit(evaluator, units.unit_by_code(HESHAN, session=session),
                          session=session)
    token = api_tokens.create_api_token(evaluator, session=session)
    session.flush()
    login(client, evaluator)
    expected = _campaigns_under(_connection, units.unit_by_code(HESHAN, session=session).path)
    monkeypatch.setattr(unit_scope, "campaign_visible", lambda *a, **k: True)
    monkeypatch.setattr(unit_scope, "unit_visible", lambda *a, **k: True)
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    assert client.get(f"/evaluate/{OTHER_COUNTY}/comments").status_code == 404
    assert client.get("/evaluate/heshan-2021/comments").status_code == 200
    index = client.get("/evaluate/").get_data(as_text=True)
    assert "赫山区2021年度" in index and "资阳区2021年度" not in index
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/campaigns", headers=headers).get_json()["campaigns"]
    assert {c["slug"] for c in listed} == expected
    assert client.get(f"/api/v1/campaigns/{OTHER_COUNTY}/progress",
                      headers=headers).status_code == 404


def test_the_policies_cover_the_campaign_data(_connection):
    """Every table with a campaign_id has a policy, and row security is forced (the owner
    is filtered too), and so has every table keyed to one of them; a new campaign table
    gets its policy in its own migration, listed in POLICY_MIGRATIONS."""
    _postgres_only(_connection)
    from sqlmodel import SQLModel

    keyed = {t.name for t in SQLModel.metadata.sorted_tables if "campaign_id" in t.columns}
    covered = {table for path in POLICY_MIGRATIONS
               for table, _using, _check in _migration(path).policies()}
    assert keyed <= covered
    # A table keyed to campaign data through another table (backchecktopup by draw_id) is
    # campaign data too: one foreign key to a covered table is enough to need a policy.
    children = {t.name for t in SQLModel.metadata.sorted_tables
                if {fk.column.table.name for fk in t.foreign_keys} & (covered - {"campaign"})}
    assert children <= covered, sorted(children - covered)
    forced = dict(_connection.execute(text(
        "SELECT relname, relforcerowsecurity AND relrowsecurity FROM pg_class "
        "WHERE relname = ANY(:t)"), {"t": sorted(covered)}).all())
    assert forced == dict.fromkeys(covered, True)


def _policy_tables(connection) -> list[str]:
    return list(connection.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relrowsecurity ORDER BY 1")).scalars())


@pytest.mark.demo_data
def test_an_unset_path_sees_no_row_of_any_policy_table(_connection):
    """Fails closed: code that never said whose scope it acts in (a worker, a script, a
    shell) reads nothing, in every table with row-level security, this migration's or a
    later one's."""
    _postgres_only(_connection)
    tables = _policy_tables(_connection)
    assert {"campaign", "household", "response", "answer", "backgroundjob"} <= set(tables)
    held = {t: _connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in tables}
    assert held["campaign"] and held["answer"]
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    _connection.exec_driver_sql("RESET survey.unit_path")
    seen = {t: _connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in tables}
    assert seen == dict.fromkeys(tables, 0)
    set_unit_path(_connection, ALL_UNITS)
    assert {t: _connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in tables} == held


@pytest.mark.demo_data
def test_app_code_outside_a_request_sees_nothing_unless_it_says_whose_scope(
        app, session, _connection):
    from survey_app import row_security

    _postgres_only(_connection)
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    session.expunge_all()
    session.commit()  # a new transaction, begun without a scope
    assert campaigns.get_campaign(OTHER_COUNTY, session=session) is None
    with row_security.acting_as(ALL_UNITS):
        assert campaigns.get_campaign(OTHER_COUNTY, session=session) is not None
    session.expunge_all()
    assert campaigns.get_campaign(OTHER_COUNTY, session=session) is None  # restored


@pytest.mark.demo_data
def test_cli_commands_and_residents_pages_act_for_every_county(app, session, runner, client,
                                                               _connection):
    import json

    from survey_app.models import CampaignStatus

    _postgres_only(_connection)
    other = campaigns.get_campaign(OTHER_COUNTY, session=session)
    other.status, other.closes_on = CampaignStatus.OPEN, None  # its open link answers
    session.add(other)
    session.commit()
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    session.expunge_all()
    result = runner.invoke(args=["scores", OTHER_COUNTY, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["n_respondents"] > 0
    # A resident's open link (no account): any county's campaign.
    assert client.get(f"/c/{OTHER_COUNTY}").status_code == 200
    # A global evaluator's pages: every county.
    login(client, make_user(session, Role.EVALUATOR))
    index = client.get("/evaluate/").get_data(as_text=True)
    assert "赫山区2021年度" in index and "资阳区2021年度" in index


SHELL_INPUT = f"""from survey_app.extensions import db
from survey_app.services import campaigns
print("FOUND", campaigns.get_campaign("{OTHER_COUNTY}", session=db.session) is not None)
"""


@pytest.mark.demo_data
def test_the_operators_shell_acts_for_every_county_and_says_so(app, _connection):
    """``survey-app shell`` (and ``flask shell``): the operator holds the database's
    credentials; the shell starts in the all-units scope with a one-line notice, instead of
    seeing nothing until it calls acting_as."""
    from survey_app.cli import main
    from survey_app.row_security import SHELL_NOTICE

    if _connection.dialect.name == "postgresql":
        _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    result = app.test_cli_runner().invoke(main, args=["shell"], input=SHELL_INPUT)
    assert result.exit_code == 0, result.output
    assert SHELL_NOTICE in result.stderr and SHELL_NOTICE.count("\n") == 0
    assert "FOUND True" in result.stdout


def _export_job(session, user, slug: str) -> int:
    from survey_app.services import jobs

    campaign = campaigns.get_campaign(slug, session=session)
    return jobs.create_job("export", {"format": "csv"}, session=session, actor=user,
                           campaign=campaign, action="export.csv").id


@pytest.mark.demo_data
def test_a_job_runs_in_its_requesters_unit_scope(make_app, tmp_path, _connection):
    """The job worker acts for the requester: a county evaluator's export job (its row forged
    for another county, as a view that forgot its check might) reads nothing of that
    county, while the same job of a global evaluator, and the county's own, export rows."""
    from survey_app import job_queue
    from survey_app.extensions import db
    from survey_app.models import BackgroundJob, JobStatus
    from survey_app.services.job_runner import files_dir

    _postgres_only(_connection)
    app = make_app(JOB_FILES_DIR=str(tmp_path / "jobs"), JOB_LEASE_SECONDS=600)
    with app.app_context():
        session = db.session
        county = make_user(session, Role.EVALUATOR)
        unit_scope.grant_unit(county, units.unit_by_code(HESHAN, session=session),
                              session=session)
        everyone = make_user(session, Role.EVALUATOR)
        forged = _export_job(session, county, OTHER_COUNTY)
        global_job = _export_job(session, everyone, OTHER_COUNTY)
        own = _export_job(session, county, "heshan-2021")
        session.commit()
        _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
        outcomes = {}
        for job_id in (forged, global_job, own):
            session.expunge_all()  # nothing read before may stand in for the job's reads
            outcomes[job_id] = job_queue.run_now(job_id)
        with row_security_all():
            jobs_by_id = {j: session.get(BackgroundJob, j, populate_existing=True)
                          for j in outcomes}

        def data_rows(job_id: int) -> int:
            job = jobs_by_id[job_id]
            path = files_dir(app.config, app.instance_path) / job.result_path
            return len(path.read_bytes().decode("utf-8-sig").strip().splitlines()) - 1

        assert outcomes[global_job] == outcomes[own] == "done"
        assert data_rows(global_job) > 0 and data_rows(own) > 0
        # The forged job: the other county's campaign does not exist for its requester.
        assert outcomes[forged] == "failed"
        assert jobs_by_id[forged].status == JobStatus.FAILED
        assert jobs_by_id[forged].result_path is None


def row_security_all():
    from survey_app import row_security

    return row_security.acting_as(ALL_UNITS)


@pytest.mark.demo_data
def test_a_streamed_export_reads_in_the_requests_scope(app, session, client, _connection):
    """The body of /evaluate/<slug>/export/<fmt> streams after the request's teardown, which
    forgets the request's scope: the stream's own transaction must act in it again, or the
    file holds the header only (a silent empty export, its snapshot anchored as full)."""
    _postgres_only(_connection)
    login(client, make_user(session, Role.EVALUATOR))
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    session.expunge_all()
    body = client.get("/evaluate/heshan-2021/export/csv").get_data()
    assert len(body.decode("utf-8-sig").strip().splitlines()) > 1


@pytest.mark.demo_data
def test_the_workers_relay_pass_refreshes_every_countys_counts(app, session, _connection):
    """The job worker's relay thread refreshes the category counts of every changed
    campaign; in its own app context no request has said whose scope it acts in."""
    from survey_app.cli.jobs import _relay_forever
    from survey_app.models import CountChange
    from survey_app.services import category_counts

    _postgres_only(_connection)
    with row_security_all():
        campaign = campaigns.get_campaign(OTHER_COUNTY, session=session)
        session.add(CountChange(campaign_id=campaign.id, at=campaign.created_at))
        session.commit()
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    session.expunge_all()
    _relay_forever(app, 0, _OnePass())  # its own app context, as in the relay thread
    with row_security_all():
        session.expunge_all()
        assert not category_counts.pending([campaign.id], session=session)


class _OnePass:
    """A stop event that lets the relay loop run one pass."""

    def __init__(self) -> None:
        self.waits = 0

    def wait(self, _period: float) -> bool:
        self.waits += 1
        return self.waits > 1
