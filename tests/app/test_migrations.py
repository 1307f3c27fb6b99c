"""Migrations: up and down on empty databases, and no drift from the models."""

import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, create_engine, inspect, text
from sqlmodel import SQLModel

import survey_app.models  # noqa: F401
from survey_app.migrate import downgrade, upgrade
from tests.fixtures.databases import (
    create_postgres_database,
    drop_postgres_database,
    load_demo_into,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = create_postgres_database("survey_migr")
        yield url
        drop_postgres_database(url)


def _tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_head_then_downgrade_base(empty_url):
    upgrade(empty_url)
    assert _tables(empty_url) == set(SQLModel.metadata.tables)
    downgrade(empty_url, "base")
    assert _tables(empty_url) == set()


def test_models_and_migrations_do_not_drift(empty_url):
    upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_audit_trail_refuses_update_and_delete(empty_url):
    upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO auditevent (at, actor_label, action, object_type, object_id, details) "
            "VALUES (CURRENT_TIMESTAMP, 'test', 'x', 'y', '1', '{}')"))
    for statement in ("UPDATE auditevent SET action = 'forged'", "DELETE FROM auditevent"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM auditevent")).scalars().all() == ["x"]
    engine.dispose()


def test_production_code_never_calls_create_all():
    found = subprocess.run(["grep", "-rn", "create_all", "survey_app", "questionnaires",
                            "analysis", "migrations"], cwd=ROOT, capture_output=True, text=True)
    assert found.stdout == ""


def _answer_copies(url) -> dict[int, tuple[str | None, str | None, str | None]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {rid: (codes, comment, terms) for rid, codes, comment, terms in conn.execute(
                text("SELECT id, rating_codes, comment, comment_terms FROM response")).all()}
    finally:
        engine.dispose()


def test_answer_copies_backfill_equals_what_the_services_write(fresh_demo_database_url):
    url = fresh_demo_database_url  # migrated to head, the demo written by the services
    written = _answer_copies(url)
    codes = [c for c, _, _ in written.values()]
    comments = [c for _, c, _ in written.values()]
    terms = [t for _, _, t in written.values()]
    assert len(written) > 300 and None not in codes + comments + terms
    assert all(bool(c) == bool(t) for c, t in zip(comments, terms, strict=True))
    assert any("9" in c for c in codes) and any("-" in c for c in codes)
    assert any(comments) and "" in comments

    downgrade(url, "5b0c3e7d9a21")  # before either column existed
    engine = create_engine(url)
    columns = {c["name"] for c in inspect(engine).get_columns("response")}
    engine.dispose()
    assert not {"rating_codes", "comment", "comment_terms"} & columns
    upgrade(url)
    assert _answer_copies(url) == written


def test_answer_copies_become_not_null_with_any_null_backfilled(empty_url):
    upgrade(empty_url)
    load_demo_into(empty_url)
    written = _answer_copies(empty_url)
    downgrade(empty_url, "8c1d5e3a7f20")  # 0006: the copies still nullable
    ids = sorted(written)
    engine = create_engine(empty_url)
    with engine.begin() as conn:  # rows written around the services, overlapping
        for column, step in (("rating_codes", 2), ("comment", 3), ("comment_terms", 5)):
            conn.execute(text(f"UPDATE response SET {column} = NULL WHERE id IN :ids")
                         .bindparams(bindparam("ids", expanding=True)), {"ids": ids[::step]})
    engine.dispose()
    assert None in _answer_copies(empty_url)[ids[0]]
    upgrade(empty_url)
    assert _answer_copies(empty_url) == written
    engine = create_engine(empty_url)
    nullable = {c["name"]: c["nullable"] for c in inspect(engine).get_columns("response")}
    engine.dispose()
    assert [nullable[c] for c in ("rating_codes", "comment", "comment_terms")] == [False] * 3


def test_stored_comments_are_scrubbed_on_upgrade(fresh_demo_database_url):
    from survey_app.services.answer_copies import comment_terms

    url = fresh_demo_database_url
    written = _answer_copies(url)
    downgrade(url, "69a0ace76006")  # 0014: comment copies as typed
    typed = "我叫张建国，电话138 1234 5678，住3栋2单元501室，楼道灯坏了"
    first = min(rid for rid, (_, comment, _) in written.items() if comment)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE response SET comment = :c, comment_terms = 'x' WHERE id = :id"),
                     {"c": typed, "id": first})
    engine.dispose()
    upgrade(url)
    after = _answer_copies(url)
    scrubbed = "我叫[姓名]，电话[电话]，住[地址]，楼道灯坏了"
    assert after[first][1:] == (scrubbed, comment_terms(scrubbed))
    assert "张建国" not in after[first][2] and "电话" in after[first][2].split()
    assert {k: v for k, v in after.items() if k != first} == {
        k: v for k, v in written.items() if k != first}


@pytest.mark.parametrize("migration", ["0006_response_comment_terms",
                                       "0009_answer_copies_not_null",
                                       "0015_comment_redaction"])
def test_comment_tokens_backfill_used_the_services_domain_words(migration):
    # Stored tokens depend on jieba's dictionary: the words the services segment with must
    # be those of the migration that last segmented the stored comments.
    import importlib.util

    from survey_app.services.answer_copies import COMMENT_USER_WORDS

    path = next((ROOT / "migrations" / "versions").glob(f"*_{migration}.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{migration}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.USER_WORDS == COMMENT_USER_WORDS


def test_tokens_made_before_expiry_existed_get_one_with_a_month_of_grace(empty_url):
    """0033: an old token expires 180 days after its creation, but not sooner than 30 days
    after the upgrade; a recent one 180 days after its creation."""
    from datetime import UTC, datetime, timedelta

    upgrade(empty_url, "6a2c9e4f1b37")
    now = datetime.now(UTC)
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO app_user (id, username, display_name, password_hash, role, active, "
            "session_version, created_at, failed_logins) "
            "VALUES (1, 'e', '', 'x', 'evaluator', :yes, 1, :now, 0)"), {"now": now,
                                                                        "yes": True})
        for token_id, age in ((1, timedelta(days=400)), (2, timedelta(days=10))):
            conn.execute(text(
                "INSERT INTO apitoken (id, user_id, name, token_hash, created_at) "
                "VALUES (:id, 1, '', :hash, :at)"),
                {"id": token_id, "hash": f"{token_id:064d}", "at": now - age})
    engine.dispose()
    upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, expires_at FROM apitoken")).all())
    engine.dispose()

    def utc(value):
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    assert abs(utc(rows[1]) - (now + timedelta(days=30))) < timedelta(minutes=5)
    assert abs(utc(rows[2]) - (now + timedelta(days=170))) < timedelta(minutes=5)


def test_the_schema_owner_without_superuser_runs_every_migration():
    """README, Regions: production runs `survey-app db upgrade` as the role that owns the
    schema, which is not a superuser. Migration 0032 first declared audit_chain_head() with
    a ``SET survey.unit_path`` clause, which PostgreSQL allows a superuser only
    ("permission denied to set parameter"), so an upgrade stopped there."""
    import uuid

    from sqlalchemy.engine import make_url

    from tests.fixtures.databases import POSTGRES_URL

    url = create_postgres_database("survey_owner")
    role = f"survey_owner_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
            conn.execute(text(f'ALTER DATABASE "{make_url(url).database}" OWNER TO "{role}"'))
        as_owner = make_url(url).set(username=role).render_as_string(hide_password=False)
        upgrade(as_owner)
        engine = create_engine(as_owner)
        with engine.begin() as conn:
            assert not conn.execute(text("SELECT rolsuper FROM pg_roles "
                                         "WHERE rolname = current_user")).scalar()
            conn.execute(text("SELECT set_config('survey.unit_path', '/430000/', true)"))
            assert conn.execute(text("SELECT audit_chain_head()")).scalar() is None
            # The caller's scope is back once the function has read in the '*' scope.
            assert conn.execute(text("SELECT current_setting('survey.unit_path')")
                                ).scalar() == "/430000/"
        engine.dispose()
    finally:
        drop_postgres_database(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_count_projects_rebuilds_the_counts_and_watches_a_households_project(
        fresh_demo_database_url):
    """0035: categorycount and pairsum get project_id (and pairsum sat_a/b/ab) in both
    directions, every campaign is marked for a refresh, and moving a household to another
    project marks its campaign (0028's trigger did not look at the project)."""
    url = fresh_demo_database_url

    def state() -> tuple[set, set, set, set]:
        engine = create_engine(url)
        try:
            columns = {t: {c["name"] for c in inspect(engine).get_columns(t)}
                       for t in ("categorycount", "pairsum")}
            with engine.connect() as conn:
                campaigns = set(conn.execute(text("SELECT id FROM campaign")).scalars())
                marked = set(conn.execute(text("SELECT campaign_id FROM countchange")).scalars())
            return columns["categorycount"], columns["pairsum"], campaigns, marked
        finally:
            engine.dispose()

    def move_a_household() -> tuple[int, set]:
        """Clear the ledger, move one household to another project of its campaign (or to
        none): (its campaign, the campaigns marked since)."""
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM countchange"))
                household, campaign, project = conn.execute(text(
                    "SELECT id, campaign_id, project_id FROM household "
                    "WHERE project_id IS NOT NULL ORDER BY id")).first()
                other = conn.execute(text(
                    "SELECT min(id) FROM project WHERE campaign_id = :c AND id <> :p"),
                    {"c": campaign, "p": project}).scalar()
                conn.execute(text("UPDATE household SET project_id = :o WHERE id = :h"),
                             {"o": other, "h": household})
            with engine.connect() as conn:
                return campaign, set(conn.execute(
                    text("SELECT campaign_id FROM countchange")).scalars())
        finally:
            engine.dispose()

    counts, sums, campaigns, _marked = state()
    assert "project_id" in counts and {"project_id", "sat_a", "sat_b", "sat_ab"} <= sums
    downgrade(url, "2e8a5c1f7b93")
    counts, sums, campaigns, marked = state()
    assert "project_id" not in counts and not {"project_id", "sat_a"} & sums
    assert campaigns and marked == campaigns
    _campaign, marked = move_a_household()
    assert marked == set()  # 0028's trigger: a project is no cell of its counts
    upgrade(url)
    counts, sums, campaigns, marked = state()
    assert "project_id" in counts and {"project_id", "sat_a", "sat_b", "sat_ab"} <= sums
    assert marked == campaigns
    campaign, marked = move_a_household()
    assert marked == {campaign}
