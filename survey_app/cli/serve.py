"""``survey-app serve``: the development server at the address printed on the letters.

``make run`` used to print links with ``SURVEY_PUBLIC_BASE_URL`` while ``survey-app run``
listened on its own ``--host``/``--port``, so the QR codes could point where nothing
answered. Here the one setting decides both: the server listens where ``PUBLIC_BASE_URL``
points (``services.public_address.listen_address``) and says which problems residents' phones
would have reaching it.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from survey_app.services.public_address import (
    ServeAddressError,
    check_public_address,
    listen_address,
)

_ADVICE = {
    "loopback": "only this computer can open it, not residents' phones",
    "unspecified": "0.0.0.0 is no address a phone can open",
    "private": "only devices on this local network can open it "
               "(set SURVEY_PUBLIC_URL_LAN_ONLY=true if that is intended)",
    "local_name": "the name resolves only inside this network "
                  "(set SURVEY_PUBLIC_URL_LAN_ONLY=true if that is intended)",
    "malformed": "it is not an http:// or https:// address",
}


@click.command("serve")
@click.option("--bind", default=None, help="Listen on this address instead of the one in "
              "SURVEY_PUBLIC_BASE_URL (e.g. 127.0.0.1 behind a proxy).")
@click.option("--port", type=int, default=None, help="Listen on this port instead.")
@with_appcontext
def serve_command(bind: str | None, port: int | None) -> None:
    """Serve at SURVEY_PUBLIC_BASE_URL, the address printed on letters and posters."""
    base = current_app.config["PUBLIC_BASE_URL"]
    try:
        host, url_port = listen_address(base) if not (bind and port) else (bind, port)
    except ServeAddressError as exc:
        raise click.ClickException(str(exc)) from exc
    host, port = bind or host, port or url_port
    for problem in check_public_address(base, lan_ok=current_app.config["PUBLIC_URL_LAN_ONLY"]):
        click.echo(f"warning: {base}: {_ADVICE[problem.kind]}", err=True)
    if current_app.config["SESSION_COOKIE_SECURE"] and base.startswith("http://"):
        click.echo("warning: SURVEY_SESSION_COOKIE_SECURE=true, but this is served over "
                   "http://: browsers keep no session, so staff logins fail (set it behind "
                   "HTTPS only)", err=True)
    click.echo(f"Survey links and letters use {base}; listening on {host}:{port}")
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # noqa: SLF001
