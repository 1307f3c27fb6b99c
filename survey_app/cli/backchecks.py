"""``survey-app backcheck draw|results``: the back-check sample and its findings from the
shell (the evaluator's back-check page does the same)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey_app.extensions import db


def _campaign(slug: str):
    from survey_app.services import campaigns

    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    return campaign


@click.group("backcheck")
def backcheck_group() -> None:
    """Back-checks: re-contact a seeded share of each worker's completed paper forms."""


@backcheck_group.command("draw")
@click.argument("slug")
@click.option("--share", type=float, default=0.10, show_default=True,
              help="Share of each worker's completed paper forms (0-1].")
@click.option("--min", "minimum", type=int, default=3, show_default=True,
              help="At least this many forms per worker (all of them when fewer).")
@click.option("--seed", type=int, required=True,
              help="Recorded; the same seed and forms give the same draw.")
@with_appcontext
def draw_command(slug: str, share: float, minimum: int, seed: int) -> None:
    """Draw the back-check sample of campaign SLUG (once; audited)."""
    from survey_app.services import backchecks

    campaign = _campaign(slug)
    try:
        with db.write() as session:
            draw = backchecks.draw_backchecks(campaign, seed=seed, share=share,
                                              minimum=minimum, session=session)
            drawn = len(backchecks.case_rows(draw, session=session))
            digest = draw.codes_sha256
    except backchecks.BackcheckRefused as refused:
        from survey_app.evaluate.backcheck_forms import refusal_message

        raise click.ClickException(f"back-check draw refused: "
                                   f"{refusal_message(refused.reason)}") from None
    click.echo(f"drew {drawn} paper forms for a back-check with seed {seed} "
               f"(household codes sha256 {digest})")


@backcheck_group.command("topup")
@click.argument("slug")
@with_appcontext
def topup_command(slug: str) -> None:
    """Draw replacements for drawn households of SLUG that cannot be reached (same worker's
    forms, the draw's seed and the round number; audited)."""
    from survey_app.services import backcheck_topup, backchecks

    campaign = _campaign(slug)
    try:
        with db.write() as session:
            topup = backcheck_topup.topup_backchecks(campaign, session=session)
            counts = (topup.round_number, topup.replaced, topup.drawn, topup.codes_sha256)
    except backchecks.BackcheckRefused as refused:
        from survey_app.evaluate.backcheck_forms import refusal_message

        raise click.ClickException(f"back-check top-up refused: "
                                   f"{refusal_message(refused.reason)}") from None
    click.echo(f"top-up round {counts[0]}: {counts[2]} replacement(s) drawn for {counts[1]} "
               f"unreachable household(s) (household codes sha256 {counts[3]})")


@backcheck_group.command("results")
@click.argument("slug")
@with_appcontext
def results_command(slug: str) -> None:
    """Print the back-check and discrepancy rates per worker of campaign SLUG."""
    from survey_app.services import backchecks

    results = backchecks.results(_campaign(slug), session=db.session)
    if results is None:
        raise click.ClickException("no back-check sample drawn yet")
    s = results.summary
    click.echo(f"{'worker':<20}{'forms':>7}{'drawn':>7}{'checked':>9}{'discrepant':>12}"
               f"{'rate':>8}{'95% CI':>17}  flag")
    for w in s.workers:
        ci = w.discrepancy
        rate = f"{ci.estimate:.3f}" if ci else "-"
        bounds = f"{ci.low:.3f}-{ci.high:.3f}" if ci else "-"
        click.echo(f"{w.worker:<20}{w.completed:>7}{w.drawn:>7}{w.checked:>9}"
                   f"{w.discrepant:>12}{rate:>8}{bounds:>17}  {'FLAG' if w.flagged else ''}")
    click.echo(f"total: {s.drawn} drawn, {s.checked} checked, {s.discrepant} discrepant; "
               f"flag: Wilson lower bound > {results.summary.threshold:g}")
