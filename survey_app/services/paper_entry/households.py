"""Printed household codes and which households a worker may see (see the package docstring)."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from survey_app.models import Campaign, Household, PaperForm, Role, User

_CODE_CHARS = re.compile(r"^[0-9A-Z]+$")


# --- printed codes -------------------------------------------------------------------------

def check_digit(code: str) -> str:
    """Luhn check digit of ``code`` with letters as two-digit numbers (ISIN scheme).

    >>> check_digit("PG00001"), check_digit("US037833100")
    ('1', '5')
    """
    digits = "".join(str(int(char, 36)) for char in code.upper())
    total = 0
    # Double every second digit from the right, counting the check digit as position 1.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


def printed_code(household: Household) -> str:
    return f"{household.household_code}-{check_digit(household.household_code)}"


class PrintedCodeError(ValueError):
    """``reason`` is ``format`` (not code + digit) or ``check_digit`` (digit does not match)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_printed_code(text: str) -> str:
    """The household code from a typed printed code (``PG00001-7``, ``pg 000017``)."""
    compact = re.sub(r"[\s\-]", "", text).upper()
    if len(compact) < 2 or not _CODE_CHARS.match(compact) or not compact[-1].isdigit():
        raise PrintedCodeError("format")
    code, digit = compact[:-1], compact[-1]
    if check_digit(code) != digit:
        raise PrintedCodeError("check_digit")
    return code


# --- scoping -------------------------------------------------------------------------------

def may_see_community(user: User, community_id: int) -> bool:
    return user.role == Role.ADMIN or (
        user.role == Role.WORKER and user.community_id is not None
        and user.community_id == community_id)


def scoped_households(campaign: Campaign, user: User, *, community_id: int | None = None,
                      sampled_only: bool = False):
    """A select of the campaign's households the user may see (admins: optionally one
    community)."""
    query = select(Household).where(Household.campaign_id == campaign.id)
    if user.role != Role.ADMIN:
        community_id = user.community_id if user.role == Role.WORKER else None
        if community_id is None:
            return query.where(col(Household.id).is_(None))  # sees nothing
    if community_id is not None:
        query = query.where(Household.community_id == community_id)
    if sampled_only:
        query = query.where(Household.sampled)
    return query.order_by(Household.household_code)


def household_for(campaign: Campaign, household_id: int, user: User, *,
                  session: Session) -> Household | None:
    """The household if it exists in the campaign and the user may see it, else None."""
    household = session.get(Household, household_id)
    if household is None or household.campaign_id != campaign.id:
        return None
    return household if may_see_community(user, household.community_id) else None


def find_household(campaign: Campaign, typed_code: str, user: User, *,
                   session: Session) -> Household | None:
    """Look up a household by its printed code; raises :class:`PrintedCodeError`."""
    code = parse_printed_code(typed_code)
    household = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.household_code == code)).first()
    if household is None or not may_see_community(user, household.community_id):
        return None
    return household


def paper_form_for(campaign: Campaign, form_id: int, user: User, *,
                   session: Session) -> PaperForm | None:
    form = session.get(PaperForm, form_id)
    if form is None or form.campaign_id != campaign.id:
        return None
    household = session.get(Household, form.household_id)
    # Evaluators see every form: they may reconcile any they keyed no entry of.
    visible = user.role == Role.EVALUATOR or may_see_community(user, household.community_id)
    return form if visible else None
