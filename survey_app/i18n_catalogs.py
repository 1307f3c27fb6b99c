"""Where the translation catalogs live and which sources feed each one.

Each role blueprint keeps its own catalog next to its code, so work on one role never
edits another's catalog; Flask-Babel merges every directory listed here. Shared
strings (base templates, errors, login, services) live in ``survey_app/translations``.
Run ``python -m survey_app.i18n_catalogs update`` after adding strings, translate the
new entries in the ``.po`` files, then ``... compile`` (``make`` does that).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
BLUEPRINT_CATALOGS = ("public", "entry", "evaluate", "admin", "api")
LOCALES = ("zh",)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2)}
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def catalog_dirs() -> dict[str, Path]:
    """Catalog name → source directory; the catalog is ``<dir>/translations``."""
    dirs = {"shared": PACKAGE}
    dirs.update({name: PACKAGE / name for name in BLUEPRINT_CATALOGS})
    return dirs


def translation_directories() -> str:
    """The value of ``BABEL_TRANSLATION_DIRECTORIES`` (relative to the app root)."""
    return ";".join(["translations"] + [f"{name}/translations" for name in BLUEPRINT_CATALOGS])


def _skip(path: str, name: str) -> bool:
    # The shared catalog covers the package minus the blueprints that have their own.
    return name == "shared" and path.split("/", 1)[0] in BLUEPRINT_CATALOGS


def extract(name: str) -> Catalog:
    source = catalog_dirs()[name]
    catalog = Catalog(project="survey_app", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(source), METHOD_MAP, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        if _skip(filename, name):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(name: str, locale: str) -> Path:
    return catalog_dirs()[name] / "translations" / locale / "LC_MESSAGES" / "messages.po"


def update() -> None:
    for name in catalog_dirs():
        template = extract(name)
        for locale in LOCALES:
            path = po_path(name, locale)
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=locale)
            else:
                catalog = Catalog(locale=locale, project="survey_app", charset="utf-8")
            # Keep the header date unless messages change, so untouched catalogs stay unchanged.
            template.creation_date = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=True,
                         no_location=True)
            missing = [m.id for m in catalog if m.id and not m.string]
            print(f"{path.relative_to(PACKAGE.parent)}: {len(catalog)} messages, "
                  f"{len(missing)} untranslated")


def compile_all() -> None:
    for name in catalog_dirs():
        for locale in LOCALES:
            path = po_path(name, locale)
            if not path.exists():
                continue
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            with path.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog)


if __name__ == "__main__":
    {"update": update, "compile": compile_all}[sys.argv[1]]()
