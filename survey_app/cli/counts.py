"""The category counts the roll-ups read: ``survey-app counts check [SLUG]``,
``survey-app counts rebuild [SLUG]`` and ``survey-app counts refresh``
(services.category_counts)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import select

from survey_app.extensions import db

#: Differing cells listed before the rest are only counted.
SHOWN = 50


@click.group("counts")
def counts_group() -> None:
    """Per-cell category counts of the counted responses (what the roll-ups read)."""


def _campaigns(slug: str | None) -> list:
    from survey_app.models import Campaign
    from survey_app.services import campaigns

    if slug is None:
        return list(db.session.exec(select(Campaign).order_by(Campaign.id)).all())
    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    return [campaign]


@counts_group.command("check")
@click.argument("slug", required=False)
@with_appcontext
def counts_check(slug: str | None) -> None:
    """Compare the stored counts of SLUG (default: every campaign) with a recomputation
    from the response rows; exit status 1 and the differing cells if any differ."""
    from survey_app.services import category_counts

    result = category_counts.check(_campaigns(slug), session=db.session)
    for campaign in result.pending:
        click.echo(f"{campaign}: changes pending, kept by the next refresh pass "
                   "(not compared)")
    for campaign, cell, stored, computed in result.differences[:SHOWN]:
        click.echo(f"{campaign}: {cell}: stored {stored}, recomputed {computed}", err=True)
    if len(result.differences) > SHOWN:
        click.echo(f"... and {len(result.differences) - SHOWN} more", err=True)
    if not result.ok:
        raise click.ClickException(
            f"{len(result.differences)} count(s) differ from the response rows; "
            "`survey-app counts rebuild` recomputes them")
    click.echo(f"counts: {result.campaigns - len(result.pending)} campaign(s) match the "
               f"response rows, {len(result.pending)} pending")


@counts_group.command("rebuild")
@click.argument("slug", required=False)
@with_appcontext
def counts_rebuild(slug: str | None) -> None:
    """Recompute the stored counts of SLUG (default: every campaign) from the responses."""
    from survey_app.services import category_counts

    campaigns = _campaigns(slug)
    with db.write() as session:
        done = category_counts.refresh(campaigns, session=session, force=True)
    click.echo(f"counts: {len(done)} campaign(s) rebuilt")


@counts_group.command("refresh")
@with_appcontext
def counts_refresh() -> None:
    """Recompute the counts of the campaigns changed since their last refresh (what the job
    worker does each relay period; from cron where no worker runs)."""
    from survey_app.services import category_counts

    with db.write() as session:
        done = category_counts.refresh_pending(session=session)
    click.echo(f"counts: {len(done)} campaign(s) refreshed")
