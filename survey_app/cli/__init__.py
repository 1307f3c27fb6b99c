"""The ``survey-app`` command: a Flask CLI group that builds the app through the factory."""

from __future__ import annotations

import functools
from contextlib import ExitStack

import click
from flask import Flask, has_app_context
from flask.cli import FlaskGroup


def _create_app():
    from survey_app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Resident-satisfaction survey system (保障性安居工程居民满意度调查)."""


def _add_builtin_commands() -> None:
    from survey_app.cli.instance import init_instance

    main.add_command(init_instance)


_add_builtin_commands()


def register(app: Flask) -> None:
    from survey_app.cli import accounts, audit, contacts, database, demo, maintenance, responses

    app.cli.add_command(database.db_group)
    app.cli.add_command(audit.audit_group)
    app.cli.add_command(responses.responses_group)
    app.cli.add_command(accounts.users_group)
    app.cli.add_command(accounts.api_token_group)
    app.cli.add_command(demo.demo_group)
    app.cli.add_command(contacts.contacts_group)
    from survey_app.cli import outbox

    app.cli.add_command(outbox.outbox_group)
    from survey_app.cli import jobs

    app.cli.add_command(jobs.jobs_group)
    from survey_app.cli import evaluation  # scores and export commands
    evaluation.register(app)
    from survey_app.cli import regions

    app.cli.add_command(regions.regions_group)
    app.cli.add_command(regions.rollup_command)
    from survey_app.cli import counts

    app.cli.add_command(counts.counts_group)
    app.cli.add_command(maintenance.backup_command)
    app.cli.add_command(maintenance.restore_command)
    from survey_app.cli.serve import serve_command

    app.cli.add_command(serve_command)
    from survey_app.cli import survey_design

    for command in survey_design.GROUPS:
        app.cli.add_command(command)
    from survey_app.cli import backchecks

    app.cli.add_command(backchecks.backcheck_group)
    for command in app.cli.commands.values():
        _in_all_units(command)


def _in_all_units(command: click.Command) -> None:
    """Run ``command`` (and a group's subcommands) with row-level security's all-units
    marker: the operator's commands act for every county, explicitly, since an unset scope
    sees nothing (``survey_app.row_security``). Idempotent: the command objects are shared
    by every app the factory builds."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _in_all_units(sub)
    callback = command.callback
    if callback is None or getattr(callback, "_all_units", False):
        return

    @functools.wraps(callback)
    def run(*args, **kwargs):
        from flask.cli import ScriptInfo

        from survey_app import row_security

        with ExitStack() as stack:
            if not has_app_context():  # as flask.cli.with_appcontext would push it
                app = click.get_current_context().ensure_object(ScriptInfo).load_app()
                stack.enter_context(app.app_context())
            stack.enter_context(row_security.acting_as(row_security.ALL_UNITS))
            return callback(*args, **kwargs)

    run._all_units = True
    command.callback = run
