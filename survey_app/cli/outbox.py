"""``survey-app outbox send|wave``: deliver the SMS outbox; preview or create a wave."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.extensions import db


@click.group("outbox")
def outbox_group() -> None:
    """SMS invitations and reminders (the transactional outbox)."""


@outbox_group.command("send")
@click.option("--once", is_flag=True, help="One pass over what is due, then exit.")
@click.option("--interval", default=15.0, show_default=True,
              help="Seconds between passes when nothing is due (loop mode).")
@with_appcontext
def send_command(once: bool, interval: float) -> None:
    """Send the pending messages through SMS_GATEWAY (never 21:00-08:00 Beijing time).

    Safe to run several at once and to kill at any moment: see services/sms_sender.py.
    """
    from survey_app.models import utcnow
    from survey_app.services import sms_gateways, sms_sender

    gateway = sms_gateways.gateway_from_config(current_app.config, current_app.instance_path)
    settings = sms_sender.SenderSettings.from_config(current_app.config)
    while True:
        result = sms_sender.send_pass(write=db.write, gateway=gateway, settings=settings)
        if result.handled:
            click.echo("outbox: " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(result.counts.items())))
        if once:
            if result.quiet:
                click.echo("outbox: quiet hours (Beijing time); nothing sent before "
                           f"{settings.quiet.end_after(utcnow()).isoformat()}")
            return
        pause = interval
        if result.quiet:
            pause = max(interval, (settings.quiet.end_after(utcnow())
                                   - utcnow()).total_seconds())
        time.sleep(pause)


@outbox_group.command("wave")
@click.argument("slug")
@click.option("--send", "confirm", is_flag=True,
              help="Write the wave's messages (without it: only the preview).")
@with_appcontext
def wave_command(slug: str, confirm: bool) -> None:
    """Preview the next wave (invitation, then reminders) of campaign SLUG, or write it."""
    from survey_app.services import campaigns, sms_waves

    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    config = current_app.config
    preview = sms_waves.preview_wave(campaign, session=db.session,
                                     base_url=config["PUBLIC_BASE_URL"],
                                     sign_name=config["SMS_SIGN_NAME"])
    left_out = ", ".join(f"{k} {v}" for k, v in preview.left_out.items())
    click.echo(f"wave {preview.number} ({preview.kind}): {preview.households} households; "
               f"left out: {left_out}")
    click.echo(f"text ({preview.segments} SMS): {preview.text}")
    if not confirm:
        return
    try:
        with db.write() as session:
            wave = sms_waves.create_wave(campaign, session=session)
    except sms_waves.WaveRefused as exc:
        raise click.ClickException(f"no wave written: {exc.reason}") from exc
    click.echo(f"wave {wave.number} written: {wave.messages} messages pending")
