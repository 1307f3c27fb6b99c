"""``survey-app contacts purge|rotate-key``: the contact vault after fieldwork and its key."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.extensions import db

#: The key being replaced, given only for the rotation (never stored in the config file).
OLD_KEY_VARIABLE = "SURVEY_CONTACT_KEY_OLD"


@click.group("contacts")
def contacts_group() -> None:
    """The contact vault: names, addresses and phones sealed for field workers."""


@contacts_group.command("purge")
@click.argument("slug")
@with_appcontext
def purge_command(slug: str) -> None:
    """Delete the clear contact data of campaign SLUG once fieldwork is over (closed).

    Keyed hashes and masked forms stay, so matching still works.
    """
    from survey_app.services import campaigns, contact_vault

    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    try:
        with db.write() as session:
            purged = contact_vault.purge(campaign, session=session)
    except contact_vault.PurgeRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"contact data of {purged} households of {slug} deleted; keyed hashes kept")


@contacts_group.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Re-seal every contact under SURVEY_CONTACT_KEY; the old key comes from
    SURVEY_CONTACT_KEY_OLD. Afterwards the old key can be destroyed."""
    from survey_app.services import contact_vault

    old = os.environ.get(OLD_KEY_VARIABLE, "")
    if not old:
        raise click.ClickException(f"set {OLD_KEY_VARIABLE} to the key being replaced "
                                   "and SURVEY_CONTACT_KEY to the new one")
    try:
        with db.write() as session:
            count = contact_vault.rotate_key(old_secret=old,
                                             new_secret=current_app.config["CONTACT_KEY"],
                                             session=session)
    except contact_vault.VaultError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from exc
    click.echo(f"{count} sealed contacts re-sealed under key "
               f"{contact_vault.key_id(current_app.config['CONTACT_KEY'])}; "
               f"the old key may now be destroyed")
