"""Consistent backups while the app keeps taking writes, and restores.

SQLite: the online backup API copies a consistent snapshot page by page while other
connections keep writing (WAL). PostgreSQL: ``pg_dump`` runs in one repeatable-read
transaction, so its snapshot is consistent too; ``pg_restore --clean`` brings it back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore failed; the message says why."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq_url(url: str) -> str:
    # pg_dump speaks libpq URLs, without SQLAlchemy's "+driver" suffix.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Row-level security fails closed (migration 0028): the dump must say it reads every unit,
# with the marker the app sets for its own all-units work (survey_app.row_security).
ALL_UNITS_OPTION = "-c survey.unit_path=*"


def _run(command: list[str]) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)")
    env = {**os.environ}
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {ALL_UNITS_OPTION}".strip()
    # A fixed argument list without a shell: nothing from users reaches the command line.
    done = subprocess.run([tool, *command[1:]], capture_output=True, text=True,  # noqa: S603
                          check=False, env=env)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy a whole SQLite database page by page (the online backup API)."""
    reader = sqlite3.connect(source)
    writer = sqlite3.connect(destination)
    try:
        with writer:
            reader.backup(writer)
    finally:
        writer.close()
        reader.close()


def backup(url: str, target: Path) -> Path:
    """Write a consistent snapshot of the database at ``url`` to ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        _sqlite_copy(_sqlite_path(url), target)
        check = sqlite3.connect(target)
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            check.close()
        if result != "ok":
            raise BackupError(f"the backup failed its integrity check: {result}")
    elif url.startswith("postgresql"):
        # --enable-row-security: the campaign tables force row-level security (migration
        # 0027), which makes a plain pg_dump by their owner fail; with it the dump reads
        # through the policies, as the all-units marker (PGOPTIONS, _run) lets it see
        # every row (unset, it would see none: migration 0028).
        _run(["pg_dump", "--format=custom", "--no-owner", "--enable-row-security",
              f"--file={target}",
              f"--dbname={_libpq_url(url)}"])
    else:
        raise BackupError(f"unsupported database {make_url(url).drivername}")
    os.chmod(target, 0o600)  # the roster's masked data and hashes are still sensitive
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the snapshot in ``source`` (stop the app first)."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no backup file at {source}")
    if url.startswith("sqlite"):
        _sqlite_copy(source, _sqlite_path(url))
    elif url.startswith("postgresql"):
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(source)])
    else:
        raise BackupError(f"unsupported database {make_url(url).drivername}")
