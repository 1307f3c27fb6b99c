"""Build hook: the wheel carries what an installed app needs beside its modules.

``pyproject.toml`` holds the metadata; this file only adds to ``build_py``:

- every ``messages.po`` compiled to ``messages.mo`` (the ``.mo`` files are gitignored build
  products; without them every page would be English);
- the Alembic migrations and ``alembic.ini`` copied into ``survey_app/_alembic/``, so that
  ``survey-app db upgrade`` works from an installed wheel (``survey_app.migrate`` looks there
  first, then in the source checkout).

An editable install (``pip install -e``) compiles the catalogues in the source tree, as
``make translations`` does, and reads the migrations from the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def compile_catalogues(package_dir: Path) -> list[Path]:
    """Write ``messages.mo`` beside every ``messages.po`` under ``package_dir``."""
    written = []
    for po in sorted(package_dir.rglob("translations/*/LC_MESSAGES/messages.po")):
        locale = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo)
    return written


class BuildWithCataloguesAndMigrations(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            compile_catalogues(HERE / "survey_app")
            return
        package = Path(self.build_lib) / "survey_app"
        compile_catalogues(package)
        target = package / "_alembic"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(HERE / "migrations", target / "migrations",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy2(HERE / "alembic.ini", target / "alembic.ini")


setup(cmdclass={"build_py": BuildWithCataloguesAndMigrations})
