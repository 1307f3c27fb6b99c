"""``survey-app audit``: seal the audit trail's hash chain and verify it."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey_app.extensions import db


@click.group("audit")
def audit_group() -> None:
    """The audit trail's hash chain (tamper evidence)."""


@audit_group.command("seal")
@with_appcontext
def seal_command() -> None:
    """Seal every audit event that has no seal yet (run it from cron, e.g. hourly)."""
    from survey_app.services import audit_chain

    with db.write() as session:
        result = audit_chain.seal_events(session=session)
    click.echo(f"sealed {result.sealed} events; chain head {result.head}")


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Recompute the chain; name the first event that no longer matches its seal."""
    from survey_app.services import audit_chain

    check = audit_chain.verify_chain(session=db.session)
    if not check.intact:
        raise click.ClickException(
            f"audit chain broken at seal {check.broken_seq}, event {check.broken_event_id}: "
            f"{check.reason}; the {check.checked} seals before it are intact")
    click.echo(f"audit chain intact: {check.checked} events sealed, head {check.head}; "
               f"{check.unsealed} events not sealed yet (survey-app audit seal)")
