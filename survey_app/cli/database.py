"""``survey-app db ...``: Alembic migrations.

``create_app`` registers these commands in every process, gunicorn workers included, so
Alembic (with Mako and Pygments, ~5 % of the start-up) is imported when a command runs
(docs/BENCHMARKS.md, "Start-up and memory").
"""

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


def _alembic():
    """Alembic's command module and the configuration for the app's database."""
    from alembic import command

    from survey_app.migrate import alembic_config

    return command, alembic_config(current_app.config["DATABASE_URL"])


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    command, cfg = _alembic()
    command.upgrade(cfg, revision)
    _say_where()


def _say_where() -> None:
    """Which database (password hidden) is now at which revision: the upgrade itself is
    silent, and an operator must see that it reached the database they meant."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import make_url

    from survey_app.extensions import db

    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    url = make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)
    click.echo(f"database {url} at revision {', '.join(heads) or 'base'}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. base)."""
    command, cfg = _alembic()
    command.downgrade(cfg, revision)
    _say_where()


@db_group.command("current")
@with_appcontext
def current() -> None:
    """Show the current revision."""
    command, cfg = _alembic()
    command.current(cfg)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
@with_appcontext
def revision(message: str, autogenerate: bool) -> None:
    """Create a new migration file."""
    command, cfg = _alembic()
    command.revision(cfg, message=message, autogenerate=autogenerate)
