"""Survey design from the command line: campaigns, questionnaires, roster, sample, tokens,
letters. Each command validates, calls services inside ``db.write()`` (one commit; a refusal
rolls back), and exits non-zero with every problem listed when something is wrong."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.extensions import db
from survey_app.models import Campaign, CampaignStatus, HouseholdGroup

UTF8_BOM = "\ufeff"


def _campaign(slug: str) -> Campaign:
    from survey_app.services import campaigns

    campaign = campaigns.get_campaign(slug, session=db.session)
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    return campaign


def _fail(lines: list[str], summary: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    raise click.ClickException(summary)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: it holds live survey links."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


# --- campaign ------------------------------------------------------------------------------

@click.group("campaign")
def campaign_group() -> None:
    """Survey campaigns: create, open/close, dates, indicator settings."""


@campaign_group.command("create")
@click.argument("slug")
@click.option("--title", help="Required unless --previous (then: its title, year replaced).")
@click.option("--year", type=int, default=None, help="Default: this year, or --previous's + 1.")
@click.option("--district", default="", help="District named in the Word report (e.g. 赫山区).")
@click.option("--previous", "previous", default=None, metavar="SLUG",
              help="Follow campaign SLUG: copy its settings, questionnaires and report "
                   "settings, and compare with it year over year.")
@click.option("--no-builtin", is_flag=True, help="Do not attach the two built-in questionnaires.")
@with_appcontext
def campaign_create(slug: str, title: str | None, year: int | None, district: str,
                    previous: str | None, no_builtin: bool) -> None:
    """Create campaign SLUG (with the built-in questionnaires unless --no-builtin)."""
    from survey_app.services import campaign_years, campaigns, questionnaire_versions

    if previous is None and not title:
        raise click.UsageError("--title is required (unless --previous is given)")
    try:
        with db.write() as session:
            if previous is not None:
                campaign = campaign_years.create_following(slug, previous, title=title,
                                                           year=year, session=session)
            else:
                campaign = campaigns.create_campaign(slug, title, year or date.today().year,
                                                     district=district, session=session)
                if not no_builtin:
                    questionnaire_versions.attach_builtin_questionnaires(campaign,
                                                                         session=session)
    except campaigns.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created campaign {campaign.slug} ({campaign.year})" + (
        f" following {previous}: settings, questionnaires and report settings copied"
        if previous else "" if no_builtin else " with the built-in questionnaires"))


@campaign_group.command("previous")
@click.argument("slug")
@click.argument("previous", required=False)
@with_appcontext
def campaign_previous(slug: str, previous: str | None) -> None:
    """Name PREVIOUS as the predecessor of SLUG (compared year over year); none: unlink."""
    from survey_app.services import campaign_years, campaigns

    campaign = _campaign(slug)
    before = _campaign(previous) if previous else None
    try:
        with db.write() as session:
            campaign_years.set_previous(campaign, before, session=session)
    except campaigns.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {slug}: previous campaign {previous or '-'}")


@campaign_group.command("list")
@with_appcontext
def campaign_list() -> None:
    """List campaigns with their counts."""
    from survey_app.services import campaigns

    for row in campaigns.campaign_overview(session=db.session):
        c = row.campaign
        click.echo(f"{c.slug}\t{c.status}\t{c.year}\thouseholds {row.households}\t"
                   f"sampled {row.sampled}\tcompleted {row.completed}\t{c.title}")


def _set_status(slug: str, status: str) -> None:
    from survey_app.services import campaigns

    campaign = _campaign(slug)
    try:
        with db.write() as session:
            campaigns.set_status(campaign, status, session=session)
    except campaigns.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {slug} is now {status}")


@campaign_group.command("open")
@click.argument("slug")
@with_appcontext
def campaign_open(slug: str) -> None:
    """Open campaign SLUG for responses."""
    _set_status(slug, CampaignStatus.OPEN)


@campaign_group.command("close")
@click.argument("slug")
@with_appcontext
def campaign_close(slug: str) -> None:
    """Close campaign SLUG."""
    _set_status(slug, CampaignStatus.CLOSED)


@campaign_group.command("dates")
@click.argument("slug")
@click.option("--opens", "opens_on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of fieldwork, YYYY-MM-DD.")
@click.option("--closes", "closes_on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Deadline printed on the letters, YYYY-MM-DD.")
@with_appcontext
def campaign_dates(slug: str, opens_on, closes_on) -> None:
    """Set the opening and closing dates (YYYY-MM-DD) printed on the letters."""
    from survey_app.services import campaigns

    campaign = _campaign(slug)
    try:
        with db.write() as session:
            campaigns.set_dates(campaign, opens_on.date() if opens_on else None,
                                closes_on.date() if closes_on else None, session=session)
    except campaigns.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {slug}: opens {campaign.opens_on or '-'}, closes "
               f"{campaign.closes_on or '-'}")


@campaign_group.command("settings")
@click.argument("slug")
@click.option("--measure", type=click.Choice(["rate", "score", "index"]),
              help="What the indicator scores: the satisfaction rate, the score or the index.")
@click.option("--target", type=float,
              help="Target value: a share for rate (0.9 = 90 %), 0-100 for score and index.")
@click.option("--points", type=float, help="The indicator's full points (0-100], e.g. 10.")
@click.option("--rule", type=click.Choice(["proportional", "stepwise", "bands"]),
              help="How points fall below the target (METHODS.md section 5).")
@click.option("--deduction", type=float, help="stepwise: points deducted per point below target")
@click.option("--floor", type=float, help="stepwise: never fewer points than this")
@click.option("--whole-points/--fractional-points", default=None,
              help="stepwise: count only whole points of shortfall")
@click.option("--band", "bands", multiple=True, help="bands: THRESHOLD:POINTS, repeatable")
@click.option("--double-entry/--single-entry", default=None,
              help="Paper forms typed twice, blind, and reconciled (the default), or once.")
@click.option("--duplicate-rule", type=click.Choice(["keep_first", "keep_web", "ask_admin"]),
              help="A household answering both on the web and on paper: keep_first counts "
                   "the first, keep_web the web answer, ask_admin holds it for an admin.")
@with_appcontext
def campaign_settings(slug: str, measure, target, points, rule, deduction, floor, whole_points,
                      bands, double_entry, duplicate_rule) -> None:
    """Indicator settings (METHODS.md section 5); options left out keep their value."""
    from survey_app.services import campaigns

    campaign = _campaign(slug)
    current = campaigns.indicator_settings_of(campaign)
    try:
        settings = campaigns.check_indicator_settings(
            measure=measure or current.measure,
            target=target if target is not None else current.target,
            points=points if points is not None else current.points,
            rule=rule or current.rule,
            deduction_per_point=deduction if deduction is not None
            else current.deduction_per_point,
            floor=floor if floor is not None else current.floor,
            whole_points=whole_points if whole_points is not None else current.whole_points,
            bands=campaigns.parse_bands(",".join(bands)) if bands else current.bands)
        with db.write() as session:
            campaigns.update_settings(campaign, settings, session=session,
                                      double_entry=double_entry, duplicate_rule=duplicate_rule)
    except campaigns.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {slug}: measure {settings.measure}, target {settings.target:g}, "
               f"points {settings.points:g}, rule {settings.rule} {settings.rule_params()}, "
               f"double entry {'on' if campaign.double_entry else 'off'}, "
               f"duplicates {campaign.duplicate_rule}")


# --- questionnaire ----------------------------------------------------------------------------

@click.group("questionnaire")
def questionnaire_group() -> None:
    """Questionnaire definitions: validate, load as versions, attach, import XLSForm."""


def _load_or_fail(path: str):
    from questionnaires import QuestionnaireError, load_file

    try:
        return load_file(path)
    except QuestionnaireError as exc:
        _fail([str(issue) for issue in exc.issues],
              f"{path}: {len(exc.issues)} problem(s); the questionnaire is invalid")
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read the file ({exc.strerror})") from exc


@questionnaire_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def questionnaire_validate(path: str) -> None:
    """Check a YAML questionnaire; print every problem (file: path: reason)."""
    questionnaire = _load_or_fail(path)
    count = sum(len(section.questions) for section in questionnaire.sections)
    click.echo(f"{path}: valid questionnaire {questionnaire.id!r} with {count} questions "
               f"(content hash {questionnaire.content_hash()[:12]})")


@questionnaire_group.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def questionnaire_load(path: str) -> None:
    """Store the questionnaire as a new version if its content changed."""
    from survey_app.services import questionnaire_versions

    questionnaire = _load_or_fail(path)
    with db.write() as session:
        version, created = questionnaire_versions.register_questionnaire_version(
            questionnaire, session=session)
    state = "registered new" if created else "unchanged, already stored as"
    click.echo(f"{state} {version.name} version {version.version}")


@questionnaire_group.command("attach")
@click.argument("slug")
@click.argument("group")
@click.argument("spec")
@with_appcontext
def questionnaire_attach(slug: str, group: str, spec: str) -> None:
    """Make SPEC (a YAML file, a built-in name, or NAME[@VERSION]) the questionnaire of GROUP
    (relocated/棚改 or rental_subsidy/租赁补贴) in campaign SLUG."""
    from questionnaires import QuestionnaireError
    from survey_app.services import questionnaire_versions, roster

    campaign = _campaign(slug)
    household_group = roster.group_of(group)
    if household_group is None:
        raise click.ClickException(f"unknown group {group!r}; use "
                                   f"{' or '.join(HouseholdGroup)} (棚改 / 租赁补贴)")
    try:
        with db.write() as session:
            version = questionnaire_versions.resolve_version(spec, session=session)
            questionnaire_versions.attach_questionnaire(campaign, household_group, version,
                                                        session=session)
    except QuestionnaireError as exc:
        _fail([str(issue) for issue in exc.issues], f"{spec}: the questionnaire is invalid")
    except (questionnaire_versions.UnknownQuestionnaireError,
            questionnaire_versions.VersionInUseError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {slug}: {household_group} answers {version.name} "
               f"version {version.version}")


@questionnaire_group.command("import-xlsform")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="Write the YAML here "
              "(default: standard output).")
def questionnaire_import_xlsform(path: str, out: str | None) -> None:
    """Convert an XLSForm workbook into our YAML format (read by pyxform, the ODK reference
    implementation); report what it cannot convert by sheet, row and column (exit status 1
    when anything was not converted as it stands)."""
    from questionnaires.xlsform import convert_xlsform

    result = convert_xlsform(path)
    if result.yaml_text:
        if out:
            Path(out).write_text(result.yaml_text, encoding="utf-8")
            click.echo(f"wrote {out}", err=True)
        else:
            click.echo(result.yaml_text)
    if result.problems:
        refused = len(result.refusals)
        verdict = ("the converted questionnaire is valid; the notes say what changed"
                   if result.questionnaire else
                   f"the conversion is refused ({refused} reason(s)): finish the YAML by hand "
                   "or change the workbook")
        _fail([f"{path}: {'refused' if problem.refuses else 'note'}: {problem}"
               for problem in result.problems],
              f"{len(result.problems)} problem(s); {verdict}")


# --- sample -----------------------------------------------------------------------------------

@click.group("sample")
def sample_group() -> None:
    """Sample size per household group and the reproducible draw."""


def _echo_plan(plans) -> None:
    click.echo("group\tN\tn0\tn\tcontacts")
    for plan in plans:
        click.echo(f"{plan.group}\t{plan.population}\t{plan.size.n0:.3f}\t{plan.size.n}\t"
                   f"{plan.contacts}")
    if plans:
        size = plans[0].size
        click.echo(f"{size.formula}; confidence {size.confidence:g}, e = {size.margin:g}, "
                   f"p = {size.proportion:g}; contacts = ceil(n / expected response rate)")


@sample_group.command("plan")
@click.argument("slug")
@click.option("--confidence", type=float, help="Confidence level, 0.5-0.999 (default 0.95).")
@click.option("--margin", type=float, help="Margin of error, 0.005-0.5 (default 0.05).")
@click.option("--response-rate", type=float, help="Expected response rate (0-1).")
@with_appcontext
def sample_plan(slug: str, confidence, margin, response_rate) -> None:
    """Show (and optionally change the inputs of) the sample plan."""
    from survey_app.services import sampling

    campaign = _campaign(slug)
    if any(v is not None for v in (confidence, margin, response_rate)):
        try:
            with db.write() as session:
                sampling.set_sample_settings(campaign, session=session, confidence=confidence,
                                             margin=margin, response_rate=response_rate)
        except sampling.SampleError as exc:
            raise click.ClickException(str(exc)) from exc
    plans = sampling.plan_sample(campaign, session=db.session)
    if not plans:
        raise click.ClickException(f"campaign {slug} has no households; import the roster first")
    _echo_plan(plans)


@sample_group.command("draw")
@click.argument("slug")
@click.option("--seed", type=int, required=True, help="Recorded; the same seed gives the same "
              "sample.")
@click.option("--redraw", is_flag=True, help="Replace an earlier draw (refused once responses "
              "exist).")
@with_appcontext
def sample_draw(slug: str, seed: int, redraw: bool) -> None:
    """Draw the stratified simple random sample with SEED."""
    from survey_app.services import sampling

    campaign = _campaign(slug)
    try:
        with db.write() as session:
            plans = sampling.draw_sample(campaign, seed, session=session, redraw=redraw)
    except sampling.SampleError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_plan(plans)
    click.echo(f"drew {sum(p.contacts for p in plans)} households with seed {seed}")


# --- tokens and letters -----------------------------------------------------------------------

def _issue(slug: str, only_missing: bool, reissue: bool, *, session,
           choices: str = "--only-missing or --reissue"):
    """Issue the links inside the caller's write, which commits them only once they are
    written out (they exist in clear only there)."""
    from survey_app.services import tokens

    campaign = _campaign(slug)
    try:
        issued = tokens.issue_tokens(campaign, session=session, only_missing=only_missing,
                                     reissue=reissue)
    except tokens.TokenError as exc:
        raise click.ClickException(f"{exc} ({choices})") from exc
    return campaign, issued


@click.group("tokens")
def tokens_group() -> None:
    """Access links for sampled households."""


@tokens_group.command("issue")
@click.argument("slug")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="CSV file for the links: the only time they are shown.")
@click.option("--only-missing", is_flag=True, help="Only households without a live link.")
@click.option("--reissue", is_flag=True, help="Revoke and replace existing links "
              "(households that already answered keep theirs).")
@with_appcontext
def tokens_issue(slug: str, out: str, only_missing: bool, reissue: bool) -> None:
    """Issue a link per sampled household and write them to a CSV file."""
    from survey_app.services import tokens

    base = current_app.config["PUBLIC_BASE_URL"]
    with db.write() as session:
        campaign, issued = _issue(slug, only_missing, reissue, session=session)
        _write_private(Path(out), UTF8_BOM + tokens.tokens_csv(issued, session=session,
                                                               base_url=base))
    click.echo(f"issued {len(issued)} links; wrote {out} (keep it private)")
    _echo_answered(campaign)


@click.command("letters")
@click.argument("slug")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for the letters, poster.html and tokens.csv (made if missing).")
@click.option("--only-missing", is_flag=True, help="Only households without a live link.")
@click.option("--reissue", is_flag=True, help="Revoke and replace existing links "
              "(households that already answered keep theirs).")
@click.option("--reprint", is_flag=True, help="Issue nothing: write the letters of the live "
              "links again, unchanged.")
@with_appcontext
def letters_command(slug: str, out_dir: str, only_missing: bool, reissue: bool,
                    reprint: bool) -> None:
    """Issue links and write printable letters per community, the open poster and
    tokens.csv into OUT_DIR (with --reprint: the letters of the links already issued)."""
    from survey_app.services import letters, tokens
    from survey_app.services.public_address import check_public_address

    base = current_app.config["PUBLIC_BASE_URL"]
    problems = check_public_address(base, lan_ok=current_app.config["PUBLIC_URL_LAN_ONLY"])
    for problem in problems:
        click.echo(f"warning: residents' phones may not open {base} ({problem.kind}); "
                   "see the warning at the top of the letters", err=True)
    with db.write() as session:
        if reprint:
            campaign = _campaign(slug)
            links = tokens.live_links(campaign, session=session)
            issued = links.printable
            if links.without_copy:
                click.echo(f"{len(links.without_copy)} live links have no readable copy: "
                           "reissue them to print their letters", err=True)
        else:
            campaign, issued = _issue(
                slug, only_missing, reissue, session=session,
                choices="--reprint: the same letters again, links unchanged; --only-missing; "
                        "--reissue")
        written = letters.write_letters(campaign, issued, Path(out_dir), session=session,
                                        base_url=base, problems=problems)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"{'reprinted' if reprint else 'issued'} {len(issued)} links; the letters and "
               "tokens.csv hold live links: keep them private")
    _echo_answered(campaign)


def _echo_answered(campaign) -> None:
    from survey_app.services import tokens

    answered = len(tokens.answered_household_ids(campaign, session=db.session))
    if answered:
        click.echo(f"{answered} households have already answered: they get no new link, and "
                   "their old links stay as they were")


GROUPS = (campaign_group, questionnaire_group, sample_group, tokens_group,
          letters_command)
