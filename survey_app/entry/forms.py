"""Forms of the paper-entry screens and the messages for the services' error codes.

Answer forms are built per questionnaire: one small text input per question, named
``q_<question id>``, into which the worker types the option code printed on the paper.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import TextInput

from questionnaires import Question, Questionnaire
from survey_app.services.contact_vault import PURPOSES
from survey_app.services.progress import RECORDABLE
from survey_app.services.visits import CHANNELS, VISIT_OUTCOMES

FIELD_PREFIX = "q_"


def field_name(question_id: str) -> str:
    return FIELD_PREFIX + question_id


class HouseholdFindForm(FlaskForm):
    code = StringField(_l("Household code on the paper form (with check digit)"),
                       validators=[DataRequired(), Length(max=40)])
    batch = StringField(_l("Batch (optional, e.g. date and place of the visit)"),
                        validators=[Optional(), Length(max=32)])
    submit = SubmitField(_l("Open entry form"))


class PaperEntryForm(FlaskForm):
    """Base of the per-questionnaire entry form; answer fields are added by the builder.

    ``started`` carries the signed time the entry page was first shown (keying paradata,
    :func:`entry_started_at`); it is kept through a re-shown form.
    """

    batch = HiddenField(validators=[Optional(), Length(max=32)])
    started = HiddenField(validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save entry"))


#: An entry page open longer than this has no meaningful keying duration.
MAX_ENTRY_AGE_SECONDS = 24 * 3600
_ENTRY_START_SALT = "paper-entry-start"


def _entry_start_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_ENTRY_START_SALT)


def entry_start_stamp(household_id: int, user_id: int) -> str:
    """The signed stamp of an entry page shown now to ``user_id`` for ``household_id``.

    Signed rather than recorded: showing the page (a GET) writes nothing, and a worker
    cannot shorten a keying duration by editing the hidden field.
    """
    return _entry_start_signer().dumps([household_id, user_id])


def entry_started_at(stamp: str | None, household_id: int, user_id: int) -> datetime | None:
    """When the entry page was shown, or None if the stamp is missing, forged, of another
    household or user, or older than :data:`MAX_ENTRY_AGE_SECONDS`."""
    if not stamp:
        return None
    try:
        signed, at = _entry_start_signer().loads(stamp, max_age=MAX_ENTRY_AGE_SECONDS,
                                                 return_timestamp=True)
    except BadData:
        return None
    return at if signed == [household_id, user_id] else None


class ReconciliationDecideForm(FlaskForm):
    reason = StringField(_l("Reason (e.g. checked against the paper form)"),
                         validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Save reconciled response"))


class HeldFormDecideForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[
        SelectChoice("keep_web", _l("Keep the earlier response (web or interview); "
                                    "discard the paper form")),
        SelectChoice("keep_paper", _l("Keep the paper form; the earlier response "
                                      "(web or interview) is superseded")),
    ])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Decide"))


class ResponseEditForm(FlaskForm):
    reason = StringField(_l("Reason for the change"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Save changes"))


class ResponseDeleteForm(FlaskForm):
    reason = StringField(_l("Reason for deleting"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Delete response"))


def disposition_labels() -> dict[str, str]:
    return {
        "pending": _("Not tried yet"),
        "contacted": _("Contacted, no answer yet"),
        "completed": _("Completed"),
        "refused": _("Refused"),
        "not_at_home": _("Not at home"),
        "moved": _("Moved away"),
        "wrong_address": _("Wrong address"),
    }


class DispositionRecordForm(FlaskForm):
    disposition = SelectField(_l("Outcome of the visit"), choices=[])
    submit = SubmitField(_l("Record outcome"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = disposition_labels()
        self.disposition.choices = [SelectChoice(str(d), labels[str(d)]) for d in RECORDABLE]


def purpose_labels() -> dict[str, str]:
    """Why a worker opens a household's contact details (kept in the audit trail)."""
    return {
        "visit": _("Home visit"),
        "phone_call": _("Phone call"),
        "appointment": _("Making an appointment"),
        "visit_list": _("Printing my visit list"),
    }


class ContactRevealForm(FlaskForm):
    purpose = SelectField(_l("Why do you need the contact details?"), choices=[],
                          validators=[DataRequired()])
    submit = SubmitField(_l("Show name, address and phone"))

    def __init__(self, *args, purposes: tuple[str, ...] = PURPOSES, **kwargs):
        super().__init__(*args, **kwargs)
        labels = purpose_labels()
        self.purpose.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(p, labels[p]) for p in purposes]


class VisitListRevealForm(FlaskForm):
    """The visit list's reveal: its purpose is the list itself."""

    submit = SubmitField(_l("Show names, addresses and phones to print"))


def contact_refusal(reason: str) -> str:
    return {
        "role": _("Only the community worker of this household sees its contact details."),
        "community": _("This household is not in your community."),
        "not_sampled": _("Contact details are shown only for sampled households."),
        "not_in_field": _("Contact details are shown only while the campaign is in the "
                          "field."),
        "purpose": _("Choose why you need the contact details."),
    }[reason]


#: How times are typed in the visit form (Beijing time); the first is the one shown.
TIME_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]


def channel_labels() -> dict[str, str]:
    return {"visit": _("Home visit"), "phone": _("Phone call")}


def outcome_label(code: str) -> str:
    """The outcome with the number written on the printed visit list, e.g. ``4 不在家``."""
    number = {o.code: o.number for o in VISIT_OUTCOMES}[code]
    return f"{number} {disposition_labels()[code]}"


class VisitRecordForm(FlaskForm):
    """One attempt. Selects answer to a typed digit (their labels start with it) and the
    times are plain text, so the whole form is typed without a mouse."""

    channel = SelectField(_l("Channel"), choices=[], validators=[DataRequired()])
    outcome = SelectField(_l("Outcome"), choices=[], validators=[DataRequired()])
    attempted_at = DateTimeLocalField(_l("Date and time (YYYY-MM-DD HH:MM)"),
                                      format=TIME_FORMATS, widget=TextInput(),
                                      validators=[InputRequired()])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    next_appointment = DateTimeLocalField(_l("Next appointment (optional, YYYY-MM-DD HH:MM)"),
                                          format=TIME_FORMATS, widget=TextInput(),
                                          validators=[Optional()])
    submit = SubmitField(_l("Record attempt"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channels = channel_labels()
        self.channel.choices = [SelectChoice(c, f"{n} {channels[c]}")
                                for n, c in enumerate(CHANNELS, start=1)]
        self.outcome.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(o.code, outcome_label(o.code)) for o in VISIT_OUTCOMES]


#: The field of the visit form each refusal is about (shown beside it).
VISIT_REFUSAL_FIELDS = {"future": "attempted_at", "before_start": "attempted_at",
                        "appointment_before": "next_appointment"}


def visit_refusal(reason: str, *, start: str = "") -> str:
    """The message of a ``VisitRefused`` reason (``start``: the campaign's first day)."""
    return {
        "channel": _("Choose visit or phone."),
        "outcome": _("Choose an outcome."),
        "future": _("This time is in the future: type when the attempt took place."),
        "before_start": _("This time is before the survey began (%(start)s): type when the "
                          "attempt took place.", start=start),
        "appointment_before": _("The next appointment must come after this attempt."),
        "not_in_field": _("Attempts are recorded only while the campaign is in the field."),
    }[reason]


def with_answer_fields(base: type[FlaskForm], questions: list[Question]) -> type[FlaskForm]:
    """A subclass of ``base`` with one code input per question (validated by the service)."""
    attrs = {
        field_name(q.id): StringField(q.id, validators=[Optional(strip_whitespace=False),
                                                         Length(max=_max_length(q))])
        for q in questions
    }
    return type(f"{base.__name__}WithAnswers", (base,), attrs)


def _max_length(question: Question) -> int:
    # Only a cap against abuse: the questionnaire's own limits give the specific messages.
    return 20_000 if question.type == "text" else 200


def typed_from(form: FlaskForm, questions: list[Question]) -> dict[str, str]:
    return {q.id: form[field_name(q.id)].data or "" for q in questions}


def answer_error(questionnaire: Questionnaire, question_id: str, code: str) -> str:
    """A specific message for an answer error code of ``validate_answers``."""
    question = questionnaire.question(question_id)
    codes = option_codes(questionnaire, question)
    if code == "required":
        return _("Required: type the code marked on the paper.")
    if code == "invalid_choice":
        return _("Not a code of this question. Allowed: %(codes)s.", codes=" ".join(codes))
    if code == "out_of_range":
        return _("Out of range: type a number from %(min)s to %(max)s.",
                 min=question.min if question.min is not None else "…",
                 max=question.max if question.max is not None else "…")
    if code == "not_an_integer":
        return _("Type a whole number in digits.")
    if code == "too_long":
        return _("Too long: at most %(max)s characters.", max=question.max_length)
    return code


def options_of(questionnaire: Questionnaire, question: Question) -> tuple:
    """The options printed beside a question, each with the code the worker types."""
    if question.type == "rating":
        return questionnaire.scale.options(allow_na=question.allow_na)
    return tuple(getattr(question, "options", ()))


def question_numbers(questionnaire: Questionnaire) -> dict[str, int]:
    """Question id → the number printed beside it (1, 2, … across sections)."""
    return {q.id: number for number, q in enumerate(questionnaire.questions(), start=1)}


def option_codes(questionnaire: Questionnaire, question: Question) -> list[str]:
    return [o.code for o in options_of(questionnaire, question)]


def code_error(reason: str) -> str:
    return {
        "format": _("Type the household code followed by its check digit, e.g. PG00001-1."),
        "check_digit": _("The check digit does not match this code: please re-read the code "
                         "printed on the paper form."),
        "unknown": _("No household with this code in your community."),
    }[reason]


def refusal_message(reason: str) -> str:
    return {
        "already_verified": _("This paper form has already been entered and verified."),
        "same_typist": _("You typed the first entry of this paper form. The second entry must "
                         "be typed by someone else: double entry needs two people."),
        "awaiting_reconciliation": _("Both entries of this paper form differ; it is waiting "
                                     "for reconciliation."),
        "held": _("This paper form is held for an administrator's decision (the household "
                  "also answered on the web)."),
        "no_questionnaire": _("No questionnaire is attached for this household's group."),
        "not_in_conflict": _("This paper form does not need a decision."),
        "entrant": _("You typed one of the two entries of this form; another reviewer must "
                     "reconcile it."),
        "no_reason": _("Give a reason."),
        "not_allowed": _("Only administrators may change responses."),
        "deleted": _("This response has been deleted."),
        "unchanged": _("Nothing was changed."),
        "not_recordable": _("This outcome cannot be recorded by hand."),
        "completed": _("This household has a completed response; its outcome is Completed."),
    }[reason]


def duplicate_message(rule: str) -> str:
    if rule == "keep_web":
        return _("This household already answered online or in an interview. The campaign "
                 "keeps that response, so this paper form is not entered.")
    return _("This household already answered online or in an interview first. The campaign "
             "keeps the first response, so this paper form is not entered.")
