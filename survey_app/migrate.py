"""Running Alembic from the app (``survey-app db ...``) and from tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

PACKAGE = Path(__file__).resolve().parent


def alembic_home() -> Path:
    """The directory holding ``alembic.ini`` and ``migrations/``.

    An installed wheel carries a copy in ``survey_app/_alembic`` (made by setup.py at build
    time); a source checkout or an editable install reads the checkout's own.
    """
    packaged = PACKAGE / "_alembic"
    return packaged if (packaged / "alembic.ini").is_file() else PACKAGE.parent


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    home = alembic_home()
    cfg = Config(str(home / "alembic.ini"))
    cfg.set_main_option("script_location", str(home / "migrations"))
    # ConfigParser interpolation would choke on '%' in passwords.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
