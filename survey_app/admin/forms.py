"""Administrator forms. Field rules live in validators; database checks in the services."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from survey_app.services.account_policy import MIN_PASSWORD_LENGTH
from survey_app.services.sampling import MAX_SEED


def choices(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choice objects (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


GROUP_CHOICES = [("relocated", _l("Relocated households (shantytown renovation)")),
                 ("rental_subsidy", _l("Rental-subsidy households"))]


class CampaignCreateForm(FlaskForm):
    slug = StringField(_l("Short name (used in links)"), validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9-]+$", message=_l("Use ASCII letters, digits and '-' only."))])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    year = IntegerField(_l("Year"), default=lambda: date.today().year,
                        validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    district = StringField(_l("District"), validators=[Optional(), Length(max=100)])
    builtin = BooleanField(_l("Attach the two built-in questionnaires"), default=True)
    submit = SubmitField(_l("Create campaign"))


class CampaignUnitForm(FlaskForm):
    """The region (usually the county) a campaign surveys; empty: none."""

    code = StringField(_l("Region code (GB/T 2260)"), validators=[
        Optional(), Regexp(r"^\d{6}(\d{3}){0,2}$",
                           message=_l("A region code has 6, 9 or 12 digits."))])
    submit = SubmitField(_l("Save region"))


class CampaignStatusForm(FlaskForm):
    status = HiddenField(validators=[AnyOf(["open", "closed"])])
    submit = SubmitField(_l("Change status"))


class CampaignDatesForm(FlaskForm):
    opens_on = DateField(_l("Opens on"), validators=[Optional()])
    closes_on = DateField(_l("Closes on"), validators=[Optional()])
    submit = SubmitField(_l("Save dates"))

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The closing date is before the opening date."))


class CampaignPreviousForm(FlaskForm):
    """The same area's campaign of an earlier year, compared year over year (0: none)."""

    previous_id = SelectField(_l("Previous year's campaign"), coerce=int, choices=[])
    submit = SubmitField(_l("Save the previous campaign"))


class CampaignLetterForm(FlaskForm):
    commissioner = StringField(_l("Commissioned by (委托单位)"),
                               validators=[Optional(), Length(max=200)])
    evaluator_org = StringField(_l("Evaluation firm (评价机构)"),
                                validators=[Optional(), Length(max=200)])
    hotline = StringField(_l("Survey hotline"), validators=[
        Optional(), Length(max=64),
        Regexp(r"^[0-9+()\- 转]*$", message=_l("Use digits, spaces, '-', '+', '()' and 转 only."))])
    submit = SubmitField(_l("Save letter details"))


class QuestionnaireAttachForm(FlaskForm):
    group = SelectField(_l("Household group"), choices=choices(GROUP_CHOICES))
    version_id = SelectField(_l("Questionnaire version"), coerce=int, choices=[])
    submit = SubmitField(_l("Attach"))


class IndicatorSettingsForm(FlaskForm):
    measure = SelectField(_l("Measure"), choices=choices([
        ("rate", _l("Satisfaction rate (top-2 box)")), ("score", _l("Satisfaction score")),
        ("index", _l("Linear index"))]))
    target = FloatField(_l("Target"), validators=[InputRequired(), NumberRange(min=0, max=100)])
    points = FloatField(_l("Points"), validators=[InputRequired(), NumberRange(min=0, max=100)])
    rule = SelectField(_l("Scoring rule"), choices=choices([
        ("proportional", _l("Proportional")), ("stepwise", _l("Stepwise deduction")),
        ("bands", _l("Bands"))]))
    deduction_per_point = FloatField(_l("Stepwise: points deducted per point below target"),
                                     validators=[Optional(), NumberRange(min=0)])
    floor = FloatField(_l("Stepwise: minimum points"), validators=[Optional(), NumberRange(min=0)])
    whole_points = BooleanField(_l("Stepwise: count whole points of shortfall only"))
    bands = StringField(_l("Bands: threshold:points, comma separated (e.g. 0.9:10, 0.8:8)"),
                        validators=[Optional(), Length(max=500)])
    double_entry = BooleanField(_l("Paper forms are entered twice (blind double entry)"))
    duplicate_rule = SelectField(_l("When a household answered on paper and on the web"),
                                 choices=choices([
        ("keep_first", _l("Keep the first answer")), ("keep_web", _l("Keep the web answer")),
        ("ask_admin", _l("Ask an administrator"))]))
    submit = SubmitField(_l("Save settings"))


class RosterUploadForm(FlaskForm):
    roster = FileField(_l("Roster file (CSV or XLSX)"), validators=[
        FileRequired(), FileAllowed(["csv", "xlsx"], _l("Only .csv and .xlsx files."))])
    columns = TextAreaField(
        _l("Column names, if your headers differ (optional)"),
        description=_l("One per line: the header in your file = the standard name, e.g. "
                       "手机=联系电话; 忽略 skips a column."),
        validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Import roster"))


class SampleSettingsForm(FlaskForm):
    confidence = FloatField(_l("Confidence level"),
                            validators=[InputRequired(), NumberRange(min=0.5, max=0.999)])
    margin = FloatField(_l("Margin of error"),
                        validators=[InputRequired(), NumberRange(min=0.005, max=0.5)])
    response_rate = FloatField(_l("Expected response rate"),
                               validators=[InputRequired(), NumberRange(min=0.05, max=1)])
    submit = SubmitField(_l("Save planning settings"))


class SampleDrawForm(FlaskForm):
    seed = IntegerField(_l("Random seed"), validators=[
        InputRequired(), NumberRange(min=0, max=MAX_SEED)])
    confirm_redraw = BooleanField(_l("Replace the sample already drawn"))
    submit = SubmitField(_l("Draw sample"))


class TokensIssueForm(FlaskForm):
    only_missing = BooleanField(_l("Only households without a live link"))
    confirm_reissue = BooleanField(_l("Revoke earlier links (printed letters stop working)"))
    output = RadioField(_l("Output"), default="html", choices=choices([
        ("html", _l("Letters to print now (opens in the browser)")),
        ("zip", _l("Download: letters per community, poster and links CSV (ZIP)"))]))
    submit = SubmitField(_l("Issue links and print letters"))


class LettersJobForm(FlaskForm):
    """Prepare the letters archive of the live links in the background (CSRF only)."""

    submit = SubmitField(_l("Prepare the letters archive (ZIP)"))


class LinkReissueForm(FlaskForm):
    # Ticked on purpose: the letter already delivered stops working.
    confirm = BooleanField(_l("The old letter stops working"), validators=[DataRequired()])
    submit = SubmitField(_l("Reissue this link"))


class WorkerCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])
    community = SelectField(_l("Community"), choices=[])
    submit = SubmitField(_l("Create worker"))


class UserActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])
    submit = SubmitField(_l("Change"))


class ContactPurgeForm(FlaskForm):
    submit = SubmitField(_l("Delete the clear contact data"))


class SmsWaveForm(FlaskForm):
    # The wave previewed: a second click, or a wave another administrator wrote meanwhile,
    # is refused instead of sending one more wave than was seen.
    number = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    confirm = BooleanField(_l("Send this wave to the households counted above"),
                           validators=[DataRequired()])
    submit = SubmitField(_l("Send the wave"))
