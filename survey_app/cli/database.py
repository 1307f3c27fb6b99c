import click
from alembic import command
from flask import current_app
from flask.cli import with_appcontext

from survey_app.migrate import alembic_config


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


def _cfg():
    return alembic_config(current_app.config["DATABASE_URL"])


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    command.upgrade(_cfg(), revision)


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. base)."""
    command.downgrade(_cfg(), revision)


@db_group.command("current")
@with_appcontext
def current() -> None:
    """Show the current revision."""
    command.current(_cfg())


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
@with_appcontext
def revision(message: str, autogenerate: bool) -> None:
    """Create a new migration file."""
    command.revision(_cfg(), message=message, autogenerate=autogenerate)
