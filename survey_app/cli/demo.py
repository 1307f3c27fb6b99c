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
    from survey_app.services import demo

    with db.write() as session:
        summary = demo.load_demo(session=session)
    for line in summary.lines():
        click.echo(line)
