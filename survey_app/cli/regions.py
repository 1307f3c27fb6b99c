"""Region hierarchy and roll-ups from the command line: ``survey-app regions import FILE``,
``regions list``, ``regions assign SLUG CODE`` and ``survey-app rollup CODE YEAR``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from survey_app.extensions import db


@click.group("regions")
def regions_group() -> None:
    """Administrative units (province → city → county → street → community)."""


@regions_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def regions_import(path: str) -> None:
    """Import units from a CSV (code,name,parent or 代码,名称,上级代码), all or nothing."""
    from survey_app.services import units

    try:
        rows = units.read_unit_csv(Path(path).read_bytes())
        with db.write() as session:
            result = units.import_units(rows, session=session)
    except units.UnitImportError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"unit file rejected with {len(exc.problems)} problem(s); "
                                   "nothing was imported") from None
    click.echo(f"units: {len(result.created)} created, {len(result.renamed)} renamed, "
               f"{result.unchanged} unchanged")


@regions_group.command("list")
@click.argument("code", required=False)
@with_appcontext
def regions_list(code: str | None) -> None:
    """The units under CODE (all units without it), indented by level."""
    from sqlmodel import select

    from survey_app.models import Unit
    from survey_app.services import units

    if code:
        root = _unit(code)
        found = units.subtree(root, session=db.session)
    else:
        found = db.session.exec(select(Unit).order_by(Unit.path)).all()
        if not found:
            click.echo("no units yet: survey-app regions import units.csv (code,name,parent)",
                       err=True)
    for unit in found:
        depth = unit.path.count("/") - 2
        click.echo(f"{'  ' * depth}{unit.code}\t{unit.name}\t{unit.level}")


def _unit(code: str):
    from survey_app.services import units

    unit = units.unit_by_code(code, session=db.session)
    if unit is None:
        raise click.ClickException(f"no unit {code!r}")
    return unit


@regions_group.command("assign")
@click.argument("slug")
@click.argument("code")
@with_appcontext
def regions_assign(slug: str, code: str) -> None:
    """Place campaign SLUG in unit CODE (usually its county)."""
    from survey_app.services import campaigns, units

    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    unit = _unit(code)
    with db.write() as session:
        units.assign_campaign(session.merge(campaign), session.merge(unit), session=session)
    click.echo(f"campaign {slug} belongs to {code} {unit.name}")


@regions_group.command("grant")
@click.argument("username")
@click.argument("code", required=False)
@with_appcontext
def regions_grant(username: str, code: str | None) -> None:
    """Limit staff account USERNAME (admin, evaluator or worker) to unit CODE and everything
    below it (no CODE: everything)."""
    from sqlmodel import select

    from survey_app.models import User
    from survey_app.services import unit_scope

    unit = _unit(code) if code else None
    with db.write() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        try:
            unit_scope.grant_unit(user, session.merge(unit) if unit else None, session=session)
        except unit_scope.UnitScopeError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{username} sees {code + ' ' + unit.name + ' and below' if unit else 'every unit'}")


@click.command("rollup")
@click.argument("code")
@click.argument("year", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text",
              show_default=True)
@with_appcontext
def rollup_command(code: str, year: int, fmt: str) -> None:
    """Roll-up of unit CODE for YEAR: the estimate over county × group strata, the league
    table with rank intervals and the funnel positions."""
    from survey_app.services import category_counts, rollups
    from survey_app.services.score_filters import ScoresError

    unit = _unit(code)
    stale = rollups.stale_campaigns(unit, year, session=db.session)
    if stale:  # the refreshed counts are kept for the next reader
        with db.write() as session:
            category_counts.refresh(stale, session=session)
    try:
        doc = rollups.rollup_document(unit, year, session=db.session)
    except ScoresError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    click.echo(f"{doc.unit.code} {doc.unit.name} {year}: {doc.n_campaigns} campaigns, "
               f"N = {doc.population}, valid answers {doc.respondents}")
    if doc.skipped:
        click.echo(f"not rolled up (no scores yet): {', '.join(doc.skipped)}")
    if doc.rate.estimate is None:
        click.echo("no counted answers")
        return
    click.echo(f"satisfaction rate {doc.rate.estimate:.4f} (95 % CI {doc.rate.ci[0]:.4f}–"
               f"{doc.rate.ci[1]:.4f}), score {doc.score.estimate:.2f} (95 % CI "
               f"{doc.score.ci[0]:.2f}–{doc.score.ci[1]:.2f})")
    click.echo("rank\trank 95 %\tcode\tname\trate\t95 % CI\tn_eff\tfunnel")
    for row in doc.counties:
        click.echo(f"{row.rank}\t{row.rank_ci[0]}–{row.rank_ci[1]}\t{row.code}\t{row.name}\t"
                   f"{row.rate.estimate:.4f}\t{row.rate.ci[0]:.4f}–{row.rate.ci[1]:.4f}\t"
                   f"{row.effective_n}\t{row.funnel}")
    for key, text in doc.conventions.items():
        click.echo(f"[{key}] {text}")
