import sys

import click
from flask.cli import with_appcontext
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import Role, User
from survey_app.services import api_tokens, users


def _read_password() -> str:
    # Never from an argument (shell history, ps): a prompt, or one line of stdin.
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@click.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="admin: campaigns and accounts; evaluator: scores and exports; worker: "
                   "paper entry and visits in one community.")
@click.option("--community", "community_code", help="Community code (required for workers).")
@click.option("--name", "display_name", default="", help="Name shown on pages (default: "
              "the username).")
@with_appcontext
def create(username: str, role: str, community_code: str | None, display_name: str) -> None:
    """Create a user; the password is read from a prompt or standard input."""
    password = _read_password()  # before the write: no lock held while a person types
    try:
        with db.write() as session:
            user = users.create_user(username, password, role, session=session,
                                     community_code=community_code, display_name=display_name)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.username}")


@click.group("api-token")
def api_token_group() -> None:
    """Bearer tokens for the JSON API."""


@api_token_group.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, api_tokens.MAX_DAYS),
              default=api_tokens.DEFAULT_DAYS, show_default=True,
              help="How long the token is valid.")
@with_appcontext
def create_token(username: str, name: str, days: int) -> None:
    """Create an API token for USERNAME and print it once (its expiry on standard error)."""
    user = db.session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    with db.write() as session:
        issued = api_tokens.issue_api_token(user, session=session, name=name, days=days)
        expires_at = issued.record.expires_at
    click.echo(issued.token)
    click.echo(f"token {issued.record.id} expires {expires_at:%Y-%m-%d %H:%M} UTC", err=True)


@api_token_group.command("list")
@with_appcontext
def list_tokens() -> None:
    """Every API token: id, account, state, expiry, last use and name (never the token)."""
    click.echo("id\tuser\tstate\texpires (UTC)\tcreated (UTC)\tname")
    for record, username in api_tokens.token_listing(session=db.session):
        click.echo(f"{record.id}\t{username}\t{api_tokens.token_state(record)}\t"
                   f"{record.expires_at:%Y-%m-%d %H:%M}\t{record.created_at:%Y-%m-%d}\t"
                   f"{record.name}")


@api_token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token(token_id: int) -> None:
    """Revoke the API token with TOKEN_ID."""
    try:
        with db.write() as session:
            api_tokens.revoke_api_token(token_id, session=session)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked token {token_id}")
