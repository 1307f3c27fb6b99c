import click
from flask.cli import with_appcontext

from survey_app.extensions import db


@click.group("demo")
def demo_group() -> None:
    """The Heshan 2021 demonstration campaign."""


@demo_group.command("load")
@with_appcontext
def load() -> None:
    """Create or refresh the demo campaign heshan-2021 (idempotent)."""
    from survey_app.services import category_counts, demo

    with db.write() as session:
        summary = demo.load_demo(session=session)
    # The stored sums of the demo's campaigns, as a job worker keeps them: the documents
    # are then read from them (services.sums_source) until the data changes.
    with db.write() as session:
        category_counts.refresh_pending(session=session)
    for line in summary.lines():
        click.echo(line)
