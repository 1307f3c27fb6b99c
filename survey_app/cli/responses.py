"""``survey-app responses exclude|include``: an evaluator's decision about a quality flag."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import select

from survey_app.extensions import db


def _decide(slug: str, flag: str, reason: str, username: str, *, exclude: bool,
            community: str | None, mode: str | None) -> None:
    from survey_app.models import User
    from survey_app.services import bulk_exclusion, campaigns
    from survey_app.services.quality_review import ReviewFilters

    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    actor = db.session.exec(select(User).where(User.username == username)).first()
    if actor is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        with db.write() as session:
            result = bulk_exclusion.decide_flagged(
                campaign, flag, exclude=exclude, reason=reason, actor=actor, session=session,
                filters=ReviewFilters(community=community, mode=mode))
    except bulk_exclusion.BulkExclusionError as exc:
        raise click.ClickException(str(exc)) from exc
    if exclude:
        click.echo(f"{len(result.changed)} responses flagged {flag} excluded; "
                   f"{result.already} were already excluded")
    else:
        click.echo(f"{len(result.changed)} responses flagged {flag} counted again; "
                   f"{len(result.kept)} kept as counted (decided); "
                   f"{result.already} were already counted and decided")


def _options(command):
    command = click.option("--by", "username", required=True,
                           help="The evaluator or administrator who decides (audited).")(command)
    command = click.option("--reason", required=True, help="Why (kept in the audit trail).")(
        command)
    command = click.option("--flag", required=True, help="too_fast, straight_lining, "
                           "open_link_burst or web_and_paper.")(command)
    command = click.option("--community", default=None,
                           help="Only responses of this community code.")(command)
    command = click.option("--mode", type=click.Choice(["web_token", "web_open", "paper",
                                                            "interview"]),
                           default=None, help="Only responses of this channel.")(command)
    return click.argument("slug")(command)


@click.group("responses")
def responses_group() -> None:
    """Decisions about flagged responses."""


@responses_group.command("exclude")
@_options
@with_appcontext
def exclude_command(slug: str, flag: str, reason: str, username: str, community: str | None,
                    mode: str | None) -> None:
    """Exclude every response with FLAG from the counted data."""
    _decide(slug, flag, reason, username, exclude=True, community=community, mode=mode)


@responses_group.command("include")
@_options
@with_appcontext
def include_command(slug: str, flag: str, reason: str, username: str, community: str | None,
                    mode: str | None) -> None:
    """Count every response with FLAG: excluded ones again, undecided ones marked as kept."""
    _decide(slug, flag, reason, username, exclude=False, community=community, mode=mode)
