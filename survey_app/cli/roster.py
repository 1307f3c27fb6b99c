"""``survey-app roster import``: the household roster of a campaign from a file."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.cli.survey_design import _campaign, _fail
from survey_app.extensions import db


@click.group("roster")
def roster_group() -> None:
    """The household roster of a campaign."""


@roster_group.command("import")
@click.argument("slug")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--column", "columns", multiple=True, metavar="FILE_HEADER=NAME",
              help="A header the file spells otherwise, e.g. 手机=联系电话 (忽略 skips it).")
@with_appcontext
def roster_import(slug: str, path: str, columns: tuple[str, ...]) -> None:
    """Import households from a CSV (UTF-8, GBK, UTF-16) or XLSX file, all or nothing.

    Headers (Chinese or English): 户编号, 类别 (棚改 or 租赁补贴), 项目 (棚改 households),
    社区; optional 街道, 户主姓名, 身份证号, 联系电话, 住址 (the admin roster page offers the
    template). A rejected file lists every problem by row and column; exit status 1."""
    from survey_app.services import roster, roster_files

    campaign = _campaign(slug)
    try:
        mapping = roster_files.parse_column_mapping("\n".join(columns))
        rows = roster_files.read_roster_path(path, columns=mapping)
        with db.write() as session:
            result = roster.import_roster(campaign, rows, session=session,
                                          pii_key=current_app.config["PII_KEY"],
                                          contact_key=current_app.config["CONTACT_KEY"])
    except roster.RosterImportError as exc:
        _fail([str(problem) for problem in exc.problems],
              f"roster rejected with {len(exc.problems)} problem(s); nothing was imported")
    click.echo(f"imported {result.households} households into {slug}; new projects: "
               f"{len(result.projects_created)}, new communities: "
               f"{len(result.communities_created)}")
