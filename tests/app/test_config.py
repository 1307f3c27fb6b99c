import pytest
from flask import Config

from survey_app import create_app
from survey_app.config import ConfigurationError

SAFE = {"SECRET_KEY": "s" * 32, "PII_KEY": "p" * 32, "CONTACT_KEY": "c" * 32}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ("SURVEY_SECRET_KEY", "SURVEY_PII_KEY", "SURVEY_CONTACT_KEY",
                "SURVEY_DATABASE_URL", "SURVEY_DEFAULT_LOCALE", "SURVEY_SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SURVEY_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    # The checkout's own instance/config.py (written by `make run`'s init-instance, with real
    # secrets) is this machine's deployment, not part of these tests: read an empty one.
    monkeypatch.setattr(Config, "from_pyfile", lambda self, filename, silent=False: False)
    return monkeypatch


def test_defaults_apply_without_overrides(clean_env):
    app = create_app({"TESTING": True})
    assert app.config["DEFAULT_LOCALE"] == "zh"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_environment_overrides_defaults(clean_env):
    clean_env.setenv("SURVEY_DEFAULT_LOCALE", "en")
    clean_env.setenv("SURVEY_SESSION_COOKIE_SECURE", "true")
    app = create_app({"TESTING": True})
    assert app.config["DEFAULT_LOCALE"] == "en"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_test_mapping_overrides_environment(clean_env):
    clean_env.setenv("SURVEY_DEFAULT_LOCALE", "en")
    app = create_app({"TESTING": True, "DEFAULT_LOCALE": "zh"})
    assert app.config["DEFAULT_LOCALE"] == "zh"


def test_empty_database_url_means_sqlite_in_instance_folder(clean_env):
    clean_env.delenv("SURVEY_DATABASE_URL")
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"] == f"sqlite:///{app.instance_path}/survey.db"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PII_KEY", "CONTACT_KEY"])
def test_production_refuses_placeholder_secrets(clean_env, missing):
    settings = dict(SAFE)
    del settings[missing]
    with pytest.raises(ConfigurationError, match=f"SURVEY_{missing} still has the placeholder"):
        create_app(settings)


def test_production_starts_with_real_secrets(clean_env):
    app = create_app(SAFE)
    assert not app.testing


def test_environment_secrets_count(clean_env):
    clean_env.setenv("SURVEY_SECRET_KEY", "e" * 32)
    clean_env.setenv("SURVEY_PII_KEY", "f" * 32)
    clean_env.setenv("SURVEY_CONTACT_KEY", "g" * 32)
    app = create_app()
    assert app.config["SECRET_KEY"] == "e" * 32
    assert app.config["CONTACT_KEY"] == "g" * 32


def test_the_contact_key_is_not_the_pii_key(clean_env):
    """Either may be rotated without the other: the same value twice is refused."""
    with pytest.raises(ConfigurationError, match="SURVEY_CONTACT_KEY must differ"):
        create_app({**SAFE, "CONTACT_KEY": SAFE["PII_KEY"]})


def test_cookies_are_secure_when_served_over_https(clean_env):
    app = create_app({**SAFE, "PUBLIC_BASE_URL": "https://survey.example.gov.cn"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_init_instance_adds_only_the_secrets_an_older_file_lacks(tmp_path):
    from survey_app.cli.instance import write_secrets

    path = tmp_path / "config.py"
    write_secrets(path)
    first = path.read_text()
    assert all(f"\n{key} = '" in first for key in ("SECRET_KEY", "PII_KEY", "CONTACT_KEY"))
    write_secrets(path)
    assert path.read_text() == first  # complete: left as it is
    older = "SECRET_KEY = 'kept-secret'\nPII_KEY = 'kept-pii'\n"
    path.write_text(older)
    write_secrets(path)
    text = path.read_text()
    assert text.startswith(older) and text.count("CONTACT_KEY = '") == 1
    settings = {}
    exec(compile(text, str(path), "exec"), settings)  # noqa: S102 - the file we just wrote
    assert settings["PII_KEY"] == "kept-pii" and len(settings["CONTACT_KEY"]) == 64
