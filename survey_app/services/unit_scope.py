"""What an evaluator granted a unit may see: the campaigns and roll-ups of that unit's
subtree (a city evaluator sees its counties; a county evaluator its own county only).

An evaluator without a unit (``User.unit_id`` None, the default and every account made
before units existed) sees everything, as before. The scope is applied at the evaluator
pages' and the API's single campaign look-ups (``_campaign_or_404``), their campaign lists
and the roll-up pages: something outside the scope answers 404, like something that does
not exist. Admins and community workers are not unit-scoped (admins stay global, workers
stay in their community).
"""

from __future__ import annotations

from sqlmodel import Session

from survey_app.models import Campaign, Role, Unit, User
from survey_app.services import audit


class UnitScopeError(ValueError):
    """A unit cannot be granted to this account."""


def scope_of(user: User, *, session: Session) -> Unit | None:
    """The unit ``user`` is limited to; None: not limited."""
    if user.role != Role.EVALUATOR or user.unit_id is None:
        return None
    return session.get(Unit, user.unit_id)


def unit_visible(user: User, unit: Unit, *, session: Session) -> bool:
    """Whether ``unit`` lies in ``user``'s scope (its own unit or below it)."""
    scope = scope_of(user, session=session)
    return scope is None or unit.path.startswith(scope.path)


def campaign_visible(user: User, campaign: Campaign, *, session: Session) -> bool:
    """Whether ``user`` may see ``campaign``: unscoped, or the campaign's unit lies in the
    user's scope (a campaign without a unit is outside every scope)."""
    scope = scope_of(user, session=session)
    if scope is None:
        return True
    unit = session.get(Unit, campaign.unit_id) if campaign.unit_id else None
    return unit is not None and unit.path.startswith(scope.path)


def grant_unit(user: User, unit: Unit | None, *, session: Session,
               actor: User | None = None) -> None:
    """Limit evaluator ``user`` to ``unit``'s subtree (None: everything), audited."""
    if user.role != Role.EVALUATOR:
        raise UnitScopeError("only evaluators are limited to a unit")
    user.unit_id = unit.id if unit else None
    session.add(user)
    audit.record("user.unit", "user", user.id, session=session, actor=actor,
                 details={"unit": unit.code if unit else None})
