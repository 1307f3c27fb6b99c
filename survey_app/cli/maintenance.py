from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.services import backup as backup_service


@click.command("backup")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="File to write (default: instance/backups/survey-<time>.<ext>).")
@with_appcontext
def backup_command(out: Path | None) -> None:
    """Write a consistent snapshot of the database, even while the app takes writes.

    PostgreSQL: pg_dump's custom format (pg_dump of the server's version or newer on PATH),
    run as the schema's owner or a superuser; SQLite: a copy of the file."""
    url = current_app.config["DATABASE_URL"]
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        ext = "sqlite" if url.startswith("sqlite") else "pgdump"
        out = Path(current_app.instance_path) / "backups" / f"survey-{stamp}.{ext}"
    try:
        path = backup_service.backup(url, out)
    except backup_service.BackupError as exc:
        hint = ""
        if "permission denied" in str(exc):  # the app's own role (README, Regions)
            hint = ("\nsurvey-app backup connects as SURVEY_DATABASE_URL's role, which must be "
                    "the schema's owner or a superuser (not the app's role)")
        raise click.ClickException(f"{exc}{hint}") from exc
    click.echo(f"backup written to {path}")


@click.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with the snapshot in SOURCE. Stop the app first."""
    if not yes:
        click.confirm("This replaces every row in the database. Continue?", abort=True)
    try:
        backup_service.restore(current_app.config["DATABASE_URL"], source)
    except backup_service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored from {source}")
