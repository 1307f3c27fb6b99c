from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from survey_app.labels import LABELS
from survey_app.services.quality_flags import FLAG_KINDS
from survey_app.services.quality_review import ReviewFilters
from survey_app.services.report_settings import DEVIATION_NOTE_MAX, FIRST_LEVELS
from survey_app.services.score_filters import GROUP_LABELS, MODE_FILTERS, ScoreFilters


class ScoreFilterForm(FlaskForm):
    """GET filters of the dashboard and of the API (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    group = SelectField(_l("Household group"), validators=[Optional()],
                        choices=[SelectChoice("", _l("All"))]
                        + [SelectChoice(k, v) for k, v in GROUP_LABELS.items()])
    project = StringField(_l("Project code"), validators=[Optional(), Length(max=32)])
    community = StringField(_l("Community code"), validators=[Optional(), Length(max=32)])
    mode = SelectField(_l("Mode"), validators=[Optional()],
                       choices=[SelectChoice("", _l("All")), SelectChoice("web", _l("Web (all)")),
                                SelectChoice("web_token", _l("Web, personal link")),
                                SelectChoice("web_open", _l("Web, open link")),
                                SelectChoice("paper", _l("Paper")),
                                SelectChoice("interview", _l("Interview (worker's phone)"))])
    date_from = DateField(_l("Submitted from"), validators=[Optional()])
    date_to = DateField(_l("Submitted until"), validators=[Optional()])
    include_excluded = BooleanField(_l("Include excluded responses"))
    include_unverified = BooleanField(_l("Include unverified open-link answers"))
    weighting = SelectField(_l("Weighting"), default="design",
                            choices=[SelectChoice("design", _l("Design weights")),
                                     SelectChoice("raked", _l("Raked to the roster "
                                                              "(non-response)"))])
    submit = SubmitField(_l("Apply filters"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_mode(self, field):
        if field.data and field.data not in MODE_FILTERS:
            raise ValidationError(_l("Unknown mode."))

    def to_filters(self) -> ScoreFilters:
        return ScoreFilters(
            group=self.group.data or None, project=(self.project.data or "").strip() or None,
            community=(self.community.data or "").strip() or None, mode=self.mode.data or None,
            date_from=self.date_from.data, date_to=self.date_to.data,
            include_excluded=bool(self.include_excluded.data),
            include_unverified=bool(self.include_unverified.data),
            weighting=self.weighting.data or "design")


#: The query parameters that are the dashboard's filters (carried from page to page).
FILTER_PARAMETERS = frozenset(
    name for name, field in ScoreFilterForm.__dict__.items()
    if hasattr(field, "field_class") and name != "submit")


def filter_args(args) -> dict[str, str]:
    """The filters among the query ``args``, for ``url_for``: any other parameter (say a
    ``slug=`` typed into the address) would clash with the route's own arguments."""
    return {name: value for name, value in args.items() if name in FILTER_PARAMETERS}


class ResponseExcludeForm(FlaskForm):
    """Exclude a flagged response from the counted data (reason required, audited)."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)])
    submit = SubmitField(_l("Exclude response"))


class ResponseRestoreForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)])
    submit = SubmitField(_l("Count response again"))


def _flag_choices(first: str) -> list[SelectChoice]:
    return [SelectChoice("", first)] + [SelectChoice(kind, LABELS[kind]) for kind in FLAG_KINDS]


_QUALITY_MODES = [SelectChoice("", _l("All")),
                  SelectChoice("web_token", _l("Web, personal link")),
                  SelectChoice("web_open", _l("Web, open link")),
                  SelectChoice("paper", _l("Paper")),
                  SelectChoice("interview", _l("Interview (worker's phone)"))]
_DECIDED = [SelectChoice("", _l("All")), SelectChoice("undecided", _l("Not yet decided")),
            SelectChoice("decided", _l("Decided"))]


class QualityFilterForm(FlaskForm):
    """GET filters and page of the quality page (no CSRF: it changes nothing).

    ``community``'s choices are the communities, set by the view.
    """

    class Meta:
        csrf = False

    flag = SelectField(_l("Flag"), validators=[Optional()], choices=_flag_choices(_l("All")))
    community = SelectField(_l("Community"), validators=[Optional()], choices=[])
    mode = SelectField(_l("Mode"), validators=[Optional()], choices=_QUALITY_MODES)
    decided = SelectField(_l("Decision"), validators=[Optional()], choices=_DECIDED)
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1)])
    submit = SubmitField(_l("Apply filters"))

    def to_filters(self) -> ReviewFilters:
        return ReviewFilters(kind=self.flag.data or None, community=self.community.data or None,
                             mode=self.mode.data or None,
                             decided={"decided": True, "undecided": False}.get(
                                 self.decided.data or ""))


class QualityDecisionForm(FlaskForm):
    """Exclude or count every flagged response the filters select (reason required)."""

    # The listed flag, not a choice here: the decision covers what the page lists.
    flag = HiddenField(validators=[DataRequired(), AnyOf(FLAG_KINDS)])
    community = HiddenField()
    mode = HiddenField(validators=[Optional(), AnyOf(["web_token", "web_open", "paper",
                                                                 "interview"])])
    decided = HiddenField(validators=[Optional(), AnyOf(["decided", "undecided"])])
    # The listing shown (quality_review.listing_of): the decision is refused if it changed.
    through = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])
    listed = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{64}$")])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)])
    exclude = SubmitField(_l("Exclude all listed responses"))
    include = SubmitField(_l("Count all listed responses"))

    def to_filters(self) -> ReviewFilters:
        return ReviewFilters(community=self.community.data or None, mode=self.mode.data or None,
                             decided={"decided": True, "undecided": False}.get(
                                 self.decided.data or ""))

    def listing(self) -> tuple[int, str] | None:
        return ((int(self.through.data), self.listed.data)
                if self.through.data and self.listed.data else None)


class IndicatorNotesForm(FlaskForm):
    """The evaluator's text of the indicator table (kept with the campaign, audited)."""

    first_level = SelectField(_l("First-level indicator"),
                              choices=[SelectChoice(v, v) for v in FIRST_LEVELS])
    deviation_note = TextAreaField(_l("Reasons for deviation and improvement measures"),
                                   validators=[Optional(), Length(max=DEVIATION_NOTE_MAX)])
    submit = SubmitField(_l("Save indicator table"))


class ReportTemplateUploadForm(FlaskForm):
    """The firm's own Word template of the report section."""

    template = FileField(_l("Word template (.docx)"), validators=[
        FileRequired(_l("Choose a .docx file.")),
        FileAllowed(["docx"], _l("Only .docx files (save a .doc as .docx in Word or WPS)."))])
    submit = SubmitField(_l("Upload template"))


class ReportTemplateResetForm(FlaskForm):
    submit = SubmitField(_l("Use the default template"))


class CommentRevealForm(FlaskForm):
    """Read one response's free text as typed (reason required, audited)."""

    reason = TextAreaField(_l("Why you need the original text"),
                           validators=[DataRequired(), Length(min=4, max=500)])
    submit = SubmitField(_l("Show the original text"))


class CommentRedactForm(FlaskForm):
    """Remove what the automatic scrubbing missed, or withhold the whole comment (audited).
    No fragments and no tick removes an earlier redaction."""

    fragments = TextAreaField(_l("Text to hide, one piece per line, exactly as in the "
                                 "original"), validators=[Optional(), Length(max=2000)])
    withhold_all = BooleanField(_l("Withhold the whole comment"))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)])
    submit = SubmitField(_l("Save redaction"))

    def fragment_list(self) -> list[str]:
        return (self.fragments.data or "").splitlines()


class JobStartForm(FlaskForm):
    """Prepare a file in the background (the CSRF token is the whole form; the filters
    travel in the query string, as for the dashboard)."""

    submit = SubmitField(_l("Prepare"))
