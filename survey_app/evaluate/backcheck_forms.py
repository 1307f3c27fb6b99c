"""Forms of the back-check pages and the words for the service's codes.

The call form is typed like paper entry (``static/entry.js``): the outcome's number, then
one code per item asked again; Enter moves to the next input and saves on the last.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FloatField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from survey_app.services.backchecks import (
    DEFAULT_MINIMUM,
    DEFAULT_SHARE,
    MAX_ITEMS,
    MAX_SEED,
    OUTCOMES,
    VISITED,
)

ITEM_PREFIX = "item_"


def outcome_labels() -> dict[str, str]:
    return {
        "reached": _("Reached: questions asked again"),
        "no_answer": _("No answer"),
        "busy": _("Busy, or asked to call back later"),
        "refused": _("Refused the back-check"),
        "wrong_number": _("Wrong or unavailable number, or not this household"),
    }


def outcome_numbers() -> list[tuple[str, str, str]]:
    """(typed number, outcome code, label) in the order of the form."""
    labels = outcome_labels()
    return [(str(n), code, labels[code]) for n, code in enumerate(OUTCOMES, start=1)]


def visited_text() -> str:
    return _("Did a staff member come to your home for this survey?")


def visited_options() -> list[tuple[str, str]]:
    return [("1", _("Yes")), ("2", _("No")), ("9", _("Does not remember"))]


class BackcheckSettingsForm(FlaskForm):
    items = SelectMultipleField(_l("Items asked again (up to 3)"), choices=[],
                                widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())
    threshold = FloatField(_l("Flag a worker when the discrepancy rate exceeds (%)"),
                           validators=[InputRequired(), NumberRange(min=1, max=50)])
    submit = SubmitField(_l("Save back-check settings"))

    def validate_items(self, field) -> None:
        if not 1 <= len(field.data or []) <= MAX_ITEMS:
            raise ValidationError(_("Choose one to three items."))


class BackcheckDrawForm(FlaskForm):
    share = FloatField(_l("Share of each worker's completed paper forms (%)"),
                       default=DEFAULT_SHARE * 100,
                       validators=[InputRequired(), NumberRange(min=1, max=100)])
    minimum = IntegerField(_l("At least this many forms per worker"), default=DEFAULT_MINIMUM,
                           validators=[InputRequired(), NumberRange(min=0, max=100)])
    seed = IntegerField(_l("Random seed"),
                        validators=[InputRequired(), NumberRange(min=0, max=MAX_SEED)])
    submit = SubmitField(_l("Draw the back-check sample"))


class BackcheckRevealForm(FlaskForm):
    """Only the CSRF token: the purpose (a back-check call) is fixed."""

    submit = SubmitField(_l("Show phone and address for the call"))


class BackcheckTopupForm(FlaskForm):
    """Only the CSRF token: which cases are replaced follows from the recorded calls."""

    submit = SubmitField(_l("Draw replacements"))


class BackcheckCallForm(FlaskForm):
    outcome = StringField(_l("Call outcome"), validators=[InputRequired(), Length(max=2)])
    # The calls recorded when the page was shown: a second post of the same page (a double
    # Enter) or a page from before another evaluator's call is refused, not counted again.
    attempt = HiddenField(validators=[Optional(), Regexp(r"^\d{1,6}$")])
    submit = SubmitField(_l("Save the call"))


def call_form_class(items: list[str]) -> type[BackcheckCallForm]:
    """The call form with one code input per item asked again."""
    attrs = {ITEM_PREFIX + item: StringField(item, validators=[Optional(), Length(max=4)])
             for item in items}
    return type("BackcheckCallFormWithItems", (BackcheckCallForm,), attrs)


def typed_outcome(form: BackcheckCallForm) -> str | None:
    """The outcome code for the typed number (None: not one of them)."""
    typed = (form.outcome.data or "").strip().translate(str.maketrans("１２３４５", "12345"))
    return {number: code for number, code, _label in outcome_numbers()}.get(typed)


def seen_attempts(form: BackcheckCallForm) -> int | None:
    return int(form.attempt.data) if form.attempt.data else None


def typed_items(form: BackcheckCallForm, items: list[str]) -> dict[str, str]:
    return {item: (form[ITEM_PREFIX + item].data or "").strip() for item in items}


def refusal_message(reason: str, item_label: str = "") -> str:
    return {
        "already_drawn": _("This campaign's back-check sample has already been drawn; it is "
                           "kept with its seed and not drawn again."),
        "no_forms": _("No completed paper forms yet: there is nothing to back-check."),
        "share": _("The share must lie between 1 % and 100 %."),
        "minimum": _("The minimum per worker must lie between 0 and 100."),
        "seed": _("The seed must be a whole number from 0 to 2147483647."),
        "items": _("Choose one to three items."),
        "items_fixed": _("The items are fixed once the sample is drawn."),
        "threshold": _("The threshold must lie between 1 % and 50 %."),
        "outcome": _("Type the number of a call outcome (1 to 5)."),
        "already_reached": _("This household has been reached; its back-check is complete."),
        "call_changed": _("This call was not saved: a call of this household was recorded "
                          "since the page was shown (sent twice, or by someone else)."),
        "answer": _("Not a code of this question: %(item)s.", item=item_label),
        "not_drawn": _("This household is not in the back-check sample."),
        "done": _("This household has been reached; its contact details are no longer shown."),
        "role": _("Only an evaluator may see contact details for a back-check."),
        "no_draw": _("No back-check sample has been drawn yet."),
        "nothing_to_replace": _("No drawn household is unreachable yet: nothing to replace."),
    }[reason]


__all__ = ["VISITED", "BackcheckCallForm", "BackcheckDrawForm", "BackcheckRevealForm",
           "BackcheckSettingsForm", "BackcheckTopupForm", "call_form_class", "outcome_labels",
           "outcome_numbers",
           "refusal_message", "typed_items", "typed_outcome", "visited_options",
           "visited_text"]
