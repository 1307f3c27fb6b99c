"""`survey-app` as an operator meets it: settings the app refuses, a database it cannot
reach, and --help, each answered in one line (exit status 1), never a traceback."""

import pytest
from click.testing import CliRunner
from flask import Config

from survey_app.cli import main

REAL = {"SURVEY_SECRET_KEY": "s" * 32, "SURVEY_PII_KEY": "p" * 32,
        "SURVEY_CONTACT_KEY": "c" * 32}


@pytest.fixture
def env(monkeypatch, tmp_path):
    for key in REAL:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SURVEY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    # The checkout's own instance/config.py is this machine's deployment, not the test's.
    monkeypatch.setattr(Config, "from_pyfile", lambda self, filename, silent=False: False)
    return monkeypatch


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_placeholder_secrets_are_one_line_naming_the_variables(env):
    result = run("db", "upgrade")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: Refusing to start: SURVEY_SECRET_KEY, "
                                    "SURVEY_PII_KEY, SURVEY_CONTACT_KEY still have")
    assert "survey-app init-instance" in result.output


def test_help_lists_every_command_even_before_the_secrets_are_set(env):
    result = run("--help")
    assert result.exit_code == 0
    assert "Traceback" not in result.output
    assert "Refusing to start" in result.output
    for command in ("db", "campaign", "roster", "counts", "jobs", "export", "audit",
                    "backup", "restore", "shell", "serve", "init-instance"):
        assert f"\n  {command} " in result.output
    # Flask's own development server and --app are not this program's.
    assert "\n  run " not in result.output
    assert "--app" not in result.output
    sub = run("counts", "--help")
    assert sub.exit_code == 0 and "rebuild" in sub.output


def test_an_unreachable_database_is_named_without_its_password(env):
    for key, value in REAL.items():
        env.setenv(key, value)
    env.setenv("SURVEY_DATABASE_URL", "postgresql+psycopg://survey:hunter2@127.0.0.1:1/survey")
    result = run("db", "upgrade")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: the database postgresql+psycopg://survey:***@"
                                    "127.0.0.1:1/survey (SURVEY_DATABASE_URL) failed: ")
    assert "hunter2" not in result.output


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("SURVEY_TRUSTED_PROXIES", "yes", "SURVEY_TRUSTED_PROXIES='yes': expected a whole number"),
    ("SURVEY_SESSION_COOKIE_SECURE", "ture", "SURVEY_SESSION_COOKIE_SECURE='ture': expected "
                                             "true or false"),
])
def test_a_setting_of_the_wrong_type_names_the_variable(env, name, value, expected):
    for key, secret in REAL.items():
        env.setenv(key, secret)
    env.setenv(name, value)
    result = run("db", "current")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {expected}")
    assert "Traceback" not in result.output


def test_version_is_the_package_version(env):
    from importlib import metadata

    result = run("--version")
    assert result.output == f"survey-app {metadata.version('housing-satisfaction-survey')}\n"


def test_the_job_worker_without_redis_names_the_url_without_its_password(env):
    for key, value in REAL.items():
        env.setenv(key, value)
    assert run("db", "upgrade").exit_code == 0
    env.setenv("SURVEY_JOB_REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    result = run("jobs", "worker", "--burst")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Redis redis://:***@127.0.0.1:1/0 "
                                    "(SURVEY_JOB_REDIS_URL) failed: ")
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_the_instance_folder_is_where_survey_instance_path_says(monkeypatch, tmp_path):
    # An installed package's default instance folder is inside its virtual environment,
    # which an upgrade may replace: production names its own.
    for key in (*REAL, "SURVEY_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    folder = tmp_path / "srv-instance"
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(folder))
    result = run("init-instance")
    assert result.output == f"wrote {folder / 'config.py'}\n"
    assert run("db", "upgrade").exit_code == 0  # the secrets and SQLite file of that folder
    assert (folder / "survey.db").exists()
    from survey_app import create_app

    app = create_app()
    assert app.instance_path == str(folder)
    assert app.config["SECRET_KEY"] in (folder / "config.py").read_text()


def test_a_replica_beside_sqlite_is_refused_in_one_line(env):
    for key, value in REAL.items():
        env.setenv(key, value)
    env.setenv("SURVEY_DATABASE_REPLICA_URL", "postgresql+psycopg://r@127.0.0.1:5433/survey")
    result = run("db", "current")
    assert result.exit_code == 1
    assert result.output.startswith("Error: SURVEY_DATABASE_REPLICA_URL is set, but "
                                    "SURVEY_DATABASE_URL is SQLite")


def test_db_upgrade_says_which_database_reached_which_revision(env, tmp_path):
    for key, value in REAL.items():
        env.setenv(key, value)
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    from survey_app.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert result.output.endswith(f"database sqlite:///{tmp_path / 'cli.db'} at revision {head}\n")


@pytest.mark.parametrize("url", ["survey.example.gov.cn", "ftp://survey.example.gov.cn",
                                 "https://", "https://survey.example.gov.cn/?x=1"])
def test_a_public_address_a_phone_could_not_open_is_refused(env, url):
    # Printed without http(s)://, a QR code is shown as text by the phone's scanner.
    for key, value in REAL.items():
        env.setenv(key, value)
    env.setenv("SURVEY_PUBLIC_BASE_URL", url)
    result = run("letters", "x", "--out", "letters")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: SURVEY_PUBLIC_BASE_URL={url!r}: expected an "
                                    "address such as https://survey.example.gov.cn")


@pytest.mark.parametrize(("url", "expected"), [
    ("postgres://survey:hunter2@db/survey", "SURVEY_DATABASE_URL names the database 'postgres'"),
    ("mysql://survey:hunter2@db/survey", "SURVEY_DATABASE_URL names the database 'mysql'"),
    ("hunter2", "SURVEY_DATABASE_URL is not a database URL"),
])
def test_a_database_url_of_another_kind_is_refused_by_name(env, url, expected):
    # Before: a SQLAlchemy traceback (no dialect "postgres", no module MySQLdb).
    for key, value in REAL.items():
        env.setenv(key, value)
    env.setenv("SURVEY_DATABASE_URL", url)
    result = run("db", "current")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {expected}")
    assert "postgresql+psycopg://user:password@host:5432/survey" in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize(("settings", "expected"), [
    ({"SURVEY_SMS_GATEWAY": "bogus"}, "SURVEY_SMS_GATEWAY='bogus': expected 'console' or "
                                      "'aliyun'"),
    ({"SURVEY_SMS_GATEWAY": "aliyun", "SURVEY_SMS_SIGN_NAME": "赫山区住建局"},
     "SURVEY_SMS_GATEWAY=aliyun needs SURVEY_SMS_ALIYUN_ACCESS_KEY_ID, "
     "SURVEY_SMS_ALIYUN_ACCESS_KEY_SECRET, SURVEY_SMS_TEMPLATE_INVITATION, "
     "SURVEY_SMS_TEMPLATE_REMINDER"),
])
def test_the_sms_sender_names_the_settings_it_lacks(env, settings, expected):
    # Before: a ValueError traceback, or (aliyun without keys) a sender that started and
    # failed every message at the provider.
    for key, value in {**REAL, **settings}.items():
        env.setenv(key, value)
    assert run("db", "upgrade").exit_code == 0
    result = run("outbox", "send", "--once")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {expected}")


def test_running_a_job_that_does_not_exist_fails(env):
    # Before: "job 999: skipped" and exit status 0.
    for key, value in REAL.items():
        env.setenv(key, value)
    assert run("db", "upgrade").exit_code == 0
    result = run("jobs", "run", "999")
    assert result.exit_code == 1
    assert result.output == "Error: no job 999 (survey-app jobs list shows them)\n"


def test_gunicorn_start_names_a_database_that_does_not_answer(env):
    # gunicorn_conf.when_ready logs this one line instead of a traceback per warm-up page.
    from survey_app import create_app
    from survey_app.cli import database_problem

    settings = {key[len("SURVEY_"):]: value for key, value in REAL.items()}
    assert database_problem(create_app(settings)) is None
    down = create_app({**settings, "DATABASE_URL":
                       "postgresql+psycopg://survey:hunter2@127.0.0.1:1/survey"})
    problem = database_problem(down)
    assert problem.startswith("the database postgresql+psycopg://survey:***@127.0.0.1:1/survey "
                              "(SURVEY_DATABASE_URL) failed: ")
    assert "hunter2" not in problem


def test_a_backup_refused_for_permissions_says_which_role_it_needs(env, monkeypatch):
    from survey_app.services import backup

    def refused(url, out):
        raise backup.BackupError("pg_dump failed: pg_dump: error: query failed: ERROR:  "
                                 "permission denied for sequence accesstoken_id_seq")

    for key, value in REAL.items():
        env.setenv(key, value)
    monkeypatch.setattr(backup, "backup", refused)
    result = run("backup", "--out", "x.bak")
    assert result.exit_code == 1
    assert result.output.endswith("survey-app backup connects as SURVEY_DATABASE_URL's role, "
                                  "which must be the schema's owner or a superuser (not the "
                                  "app's role)\n")
