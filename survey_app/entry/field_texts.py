"""The words of the offline interviewer page's script, translated on the server and handed
to the script in the page (a JSON data block: the CSP allows no inline script)."""

from __future__ import annotations

from flask_babel import gettext as _

from survey_app.labels import label
from survey_app.models import HouseholdGroup


def page_texts() -> dict[str, str]:
    return {
        "waiting": _("Waiting to be sent: %(n)s"),
        "online": _("Online"),
        "offline": _("Offline: interviews are kept on this phone"),
        "sync": _("Send now"),
        "syncing": _("Sending…"),
        "sent": _("Sent. Receipt %(receipt)s"),
        "login": _("Your login has expired. Log in again, then send: nothing is lost."),
        "start": _("Interview"),
        "next": _("Next"),
        "back": _("Back"),
        "finish": _("Finish and keep"),
        "cancel": _("Cancel"),
        "kept": _("Interview kept on this phone."),
        "of": _("Question %(i)s of %(n)s"),
        "position_ask": _("Record where each interview takes place (phone position)?"),
        "yes": _("Yes"),
        "no": _("No"),
        "none": _("No households to visit."),
        "failed": _("Could not send; will try again."),
        "nothing": _("Nothing is waiting to be sent."),
        "done": _("Interviewed"),
        "required": _("Please answer this question."),
        "invalid_choice": _("Please choose one of the answers."),
        "out_of_range": _("This number is out of range."),
        "not_an_integer": _("Please type a whole number."),
        "too_long": _("This text is too long."),
        "contacts_kept": _("Addresses kept on this phone: %(n)s households."),
        "answers_kept": _("Answers kept on this phone"),
        "paper_entry": _("Open the paper entry page of this household"),
        "no_pack": _("Open this page once with a network to load the questionnaires."),
        **{group.value: label(group.value) for group in HouseholdGroup},
    }
