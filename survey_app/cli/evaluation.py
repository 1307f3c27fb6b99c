"""``survey-app scores`` and ``survey-app export``: the evaluator's numbers from the shell.

``create_app`` registers these commands in every process, gunicorn workers included, so the
scores and the exporters (numpy, the statistics) are imported inside the commands, when they
run (docs/BENCHMARKS.md, "Start-up and memory").
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from survey_app.extensions import db
from survey_app.services import audit, audit_chain, campaigns
from survey_app.services.score_filters import MIN_CELL, WEIGHTINGS, ScoreFilters
from survey_app.services.scores_model import ScoresDocument


def _campaign(slug: str):
    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    return campaign


def _text(doc: ScoresDocument) -> str:
    lines = [f"{doc.campaign.title} ({doc.campaign.slug})",
             f"counted responses: {doc.n_respondents}  snapshot: {doc.snapshot}",
             f"unverified open-link answers: {doc.unverified} ("
             + ("included" if doc.filters.include_unverified else "not counted") + ")"]
    pooled = doc.pooled
    if pooled.suppressed:
        lines.append(f"fewer than {MIN_CELL} respondents: counts only")
        return "\n".join(lines)
    lines.append(f"{'item':<26}{'n':>6}{'rate':>8}{'95% CI':>18}{'score':>8}{'index':>8}")
    for item in doc.items:
        c = pooled.items[item.id]
        if c.rate is None:
            lines.append(f"{item.id:<26}{c.n_valid:>6}")
            continue
        ci = f"{c.rate_ci[0]:.4f}-{c.rate_ci[1]:.4f}"
        lines.append(f"{item.id:<26}{c.n_valid:>6}{c.rate:>8.4f}{ci:>18}"
                     f"{c.score:>8.2f}{c.index:>8.2f}")
    comp = pooled.composite_index
    if comp:
        low, high = comp.ci
        lines.append(f"overall index {comp.estimate:.2f} ({low:.2f}-{high:.2f})")
    ind = doc.indicator
    if ind:
        lines.append(f"indicator: {ind.points_earned:.2f} of {ind.points:g} points "
                     f"({ind.measure} {ind.actual} vs target {ind.target:g}; "
                     f"P(>= target) {ind.probability_meets_target}; {ind.rule})")
    return "\n".join(lines)


@click.command("scores")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json",
              show_default=True)
@click.option("--include-unverified", is_flag=True,
              help="Also count open-link answers that identified no roster household.")
@click.option("--weighting", type=click.Choice(list(WEIGHTINGS)), default="design",
              help="design: N_h/r_h; raked: raked to the roster's community and project "
                   "margins (the API's weighting=)")
@with_appcontext
def scores_command(slug: str, fmt: str, include_unverified: bool, weighting: str) -> None:
    """Print the scores document of campaign SLUG (the API's numbers)."""
    from survey_app.services import scores

    doc = scores.scores_document(_campaign(slug),
                                 ScoreFilters(include_unverified=include_unverified,
                                              weighting=weighting),
                                 session=db.session)
    click.echo(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2)
               if fmt == "json" else _text(doc))


@click.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "sav", "summary"]),
              required=True, help="csv (UTF-8 with BOM), xlsx (with codebook), sav (SPSS), "
                                  "summary (workbook of the tables).")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="File to write.")
@with_appcontext
def export_command(slug: str, fmt: str, out: str) -> None:
    """Write the de-identified responses (or the summary workbook) of SLUG to OUT."""
    from survey_app.services import counted_data, exports

    campaign = _campaign(slug)
    snapshot = counted_data.counted_snapshot(campaign, session=db.session)
    with open(out, "wb") as fh:
        for chunk in exports.export_chunks(campaign, fmt, session=db.session):
            fh.write(chunk)
    with db.write() as session:
        audit.record("export." + fmt, "campaign", campaign.id, session=session, label="cli",
                     campaign_id=campaign.id, details={"format": fmt})
        audit_chain.anchor_snapshot(campaign.id, snapshot, session=session, label="cli",
                                    purpose="export." + fmt)
    click.echo(f"wrote {out}")


def register(app) -> None:
    app.cli.add_command(scores_command)
    app.cli.add_command(export_command)
