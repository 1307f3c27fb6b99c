"""The ``survey-app`` command: a Flask CLI group that builds the app through the factory."""

from __future__ import annotations

import functools
from contextlib import ExitStack

import click
from flask import Flask, has_app_context
from flask.cli import FlaskGroup, ScriptInfo, shell_command


def _create_app():
    from survey_app import create_app

    return create_app()


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib import metadata

    click.echo(f"survey-app {metadata.version('housing-satisfaction-survey')}")
    ctx.exit()


class SurveyGroup(FlaskGroup):
    """Flask's CLI group, made for an operator: the app's commands and ``shell`` only (not
    Flask's ``run``, which is not ``serve``; no ``--app``, which the factory ignores), and
    settings the app refuses or a database or Redis it cannot reach are one line saying
    so (exit status 1), not a traceback."""

    def __init__(self, **extra) -> None:
        super().__init__(add_default_commands=False, add_version_option=False, **extra)
        self.params = [p for p in self.params if p.name not in ("app", "env_file")]
        self.params.append(click.Option(
            ["--version"], is_flag=True, expose_value=False, is_eager=True,
            callback=_print_version, help="Show the version and exit."))
        self.add_command(shell_command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        from survey_app.config import ConfigurationError

        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigurationError as exc:
            # Flask would print the traceback; say why, and still list every command (the
            # names and help do not depend on the settings).
            click.secho(f"Error: {exc}\n", err=True, fg="red")
            return sorted(set(click.Group.list_commands(self, ctx))
                          | set(_bare_cli().list_commands(ctx)))
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from survey_app.config import ConfigurationError

        try:
            return super().get_command(ctx, name)
        except ConfigurationError:
            # Its --help still works; running it builds the app (``_in_all_units`` or
            # ``with_appcontext``), which refuses again, in ``invoke`` below: one line.
            return _bare_cli().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = operator_error(exc, ctx.ensure_object(ScriptInfo)._loaded_app)
            if message is None:
                raise
            raise click.ClickException(message) from None


@functools.cache
def _bare_cli() -> click.Group:
    """The app's commands without an app that could run them (for --help)."""
    bare = Flask("survey_app")
    register(bare)
    return bare.cli


def operator_error(exc: BaseException, app: Flask | None = None) -> str | None:
    """One line for what an operator must fix, or None for an error that is a bug."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import InterfaceError, OperationalError

    from survey_app.config import ConfigurationError

    if isinstance(exc, ConfigurationError):
        return str(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        where = ""
        if app is not None:
            url = make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)
            where = f" {url} (SURVEY_DATABASE_URL)"
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"the database{where} failed: {reason}"
    if isinstance(exc, RedisConnectionError):
        where = ""
        if app is not None and app.config["JOB_REDIS_URL"]:
            url = make_url(app.config["JOB_REDIS_URL"]).render_as_string(hide_password=True)
            where = f" {url} (SURVEY_JOB_REDIS_URL)"
        return f"Redis{where} failed: {exc}"
    return None


@click.group(cls=SurveyGroup, create_app=_create_app)
def main() -> None:
    """Resident-satisfaction survey system (保障性安居工程居民满意度调查).

    Settings come from instance/config.py (`survey-app init-instance`) and SURVEY_*
    environment variables (README, Configuration). `survey-app COMMAND --help` explains each
    command.
    """


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
    from survey_app.cli.roster import roster_group

    app.cli.add_command(roster_group)
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


def database_problem(app: Flask) -> str | None:
    """Whether the database answers, for gunicorn's start: None, or the one line saying why
    not (every page would answer 500 until it does)."""
    from survey_app.extensions import db

    try:
        with app.app_context(), db.engine.connect():
            return None
    except Exception as exc:
        message = operator_error(exc, app)
        if message is None:
            raise
        return message
    finally:
        db.dispose(app)  # no connection left open across gunicorn's fork
