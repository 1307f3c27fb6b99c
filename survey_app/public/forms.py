"""Forms of the resident survey.

The questions themselves come from the questionnaire definition and are checked by
``questionnaires.validate_answers``; this form carries what every survey post has: the CSRF
token, the form instance id and which button was pressed.

A post is read by :func:`read_survey_post` with the same rules as :class:`SurveyAnswerForm`
(Flask-WTF's CSRF check, the instance id validators, WTForms' button semantics) but without
building the form: binding six WTForms fields and loading their translation catalogue cost
more than storing the response. The form object is built only to render a page.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from questionnaires import Questionnaire
from survey_app.services.receipts import RECEIPT_PATTERN, plain_receipt_code

# \Z, not $: "$" would also accept a trailing newline.
UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z"
_UUID4 = re.compile(UUID4)
#: Buttons in the order a post is handled when (oddly) several are sent.
BUTTONS = ("keep", "larger_text", "normal_text", "save", "submit")
# WTForms' BooleanField (hence SubmitField) treats these values as "not pressed".
_NOT_PRESSED = ("", "false")
#: The form's language buttons post one of these as ``language`` (survey.html).
LANGUAGES = ("zh", "en")
#: The name of a question's input is this prefix and the question id (survey.html).
ANSWER_PREFIX = "a_"


#: A form instance's start older than this is not believed (a page kept open for weeks).
MAX_FORM_AGE_SECONDS = 30 * 24 * 3600
_START_SALT = "survey-form-start"


class SurveyAnswerForm(FlaskForm):
    instance_id = HiddenField(validators=[DataRequired(), Regexp(UUID4)])
    # When this form instance was first shown, signed with the app's secret key: the
    # response's duration runs from it to the submit (no server-side session needed).
    started = HiddenField()
    # Open link only: the roster household the resident identified (signed, see
    # services.open_identity); empty for an answer stored unverified.
    who = HiddenField()
    # The form's first button, so Enter in a text box presses it (without JavaScript): the
    # page comes back with every answer instead of switching the text size or submitting.
    keep = SubmitField(_l("Keep my answers"))
    larger_text = SubmitField(_l("Larger text"))
    normal_text = SubmitField(_l("Normal text"))
    submit = SubmitField(_l("Submit answers"))
    save = SubmitField(_l("Save and continue later"))


def new_survey_form(who: str = "") -> SurveyAnswerForm:
    """A fresh form instance: a new instance id and its signed start time (``who``: the
    signed identity of an open link's household)."""
    instance_id = str(uuid.uuid4())
    return SurveyAnswerForm(instance_id=instance_id, started=_start_signer().dumps(instance_id),
                            who=who)


def _start_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_START_SALT)


def form_started_at(stamp: str | None, instance_id: str | None) -> datetime | None:
    """The signed start time of ``instance_id``'s form, or None if missing, forged, of
    another form instance or too old."""
    if not stamp or instance_id is None:
        return None
    try:
        signed, at = _start_signer().loads(stamp, max_age=MAX_FORM_AGE_SECONDS,
                                           return_timestamp=True)
    except BadData:
        return None
    return at if signed == instance_id else None


@dataclass(frozen=True)
class SurveyPost:
    """The non-answer fields of a survey post.

    ``instance_id`` is None when missing or not a UUID4 (a broken post: 400);
    ``csrf_error`` says why the CSRF token was refused (None: accepted or CSRF disabled);
    ``pressed`` holds the buttons sent; the answers are read per questionnaire
    (:meth:`answers`).
    """

    instance_id: str | None
    csrf_error: str | None
    pressed: frozenset[str]
    formdata: MultiDict = field(default_factory=MultiDict, repr=False, compare=False)
    #: When the form instance was first shown (signed), None if unknown.
    started_at: datetime | None = None
    #: The open link's signed household identity as posted ("" when answering unverified).
    who: str = ""
    #: The language the resident switched to with the form's language button, if any.
    language: str | None = None

    def __contains__(self, button: str) -> bool:
        return button in self.pressed

    def answers(self, questionnaire: Questionnaire) -> dict[str, list[str]]:
        """The posted answer strings of the questionnaire's questions; other keys are
        ignored."""
        formdata = self.formdata
        return {question.id: formdata.getlist(ANSWER_PREFIX + question.id)
                for question in questionnaire.questions()}


def read_survey_post(formdata: Mapping[str, str]) -> SurveyPost:
    """Read a survey post's instance id, CSRF token and buttons (see the module docstring)."""
    instance_id = formdata.get("instance_id", "")
    if not instance_id.strip() or _UUID4.match(instance_id) is None:
        instance_id = None
    csrf_error = None
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(formdata.get(current_app.config.get("WTF_CSRF_FIELD_NAME",
                                                              "csrf_token")))
        except ValidationError as exc:
            csrf_error = str(exc)
    pressed = frozenset(name for name in BUTTONS
                        if formdata.get(name) is not None
                        and formdata.get(name) not in _NOT_PRESSED)
    return SurveyPost(instance_id, csrf_error, pressed, formdata,
                      form_started_at(formdata.get("started"), instance_id),
                      formdata.get("who", "").strip(),
                      formdata.get("language") if formdata.get("language") in LANGUAGES else None)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class IdentifyForm(FlaskForm):
    """The open link's first step: the household, by the letter's codes or by ID tail and
    phone (services.open_identity). Both ways are optional here; the view says which pair
    is incomplete."""

    household_code = StringField(_l("Household code (户号) on your letter"),
                                 filters=[_strip], validators=[Optional(), Length(max=40)])
    check_code = StringField(_l("Check code (核验码) beside it"), filters=[_strip],
                             validators=[Optional(), Length(max=12)])
    id_tail = StringField(_l("Last 6 characters of the household head's ID number"),
                          filters=[_strip], validators=[Optional(), Length(max=12)])
    phone = StringField(_l("Phone number given to the community"), filters=[_strip],
                        validators=[Optional(), Length(max=30)])
    identify = SubmitField(_l("Confirm and start"))

    def pair(self) -> str | None:
        """Which way was filled in completely ("code" or "id_phone"); None if neither."""
        if self.household_code.data and self.check_code.data:
            return "code"
        if self.id_tail.data and self.phone.data:
            return "id_phone"
        return None



class ReceiptCheckForm(FlaskForm):
    """The receipt code a resident or the hotline types (services.receipts)."""

    code = StringField(_l("Receipt code"), filters=[plain_receipt_code], validators=[
        DataRequired(message=_l("Please type the receipt code.")),
        Regexp(RECEIPT_PATTERN, message=_l(
            "A receipt code has 8 letters and digits, as shown after the answers were sent, "
            "e.g. ACDE3467."))])
    check = SubmitField(_l("Check"))
