"""What a staff account granted a unit may see and run: the campaigns and roll-ups of that
unit's subtree (a city evaluator sees its counties; a county admin runs its own county's
campaigns and no other county's; a worker granted a county works on that county's
campaigns, and only on its own community's households there).

An account without a unit (``User.unit_id`` None, the default and every account made
before units existed) is global, as before. The scope is applied at every blueprint's
single campaign look-up (admin, entry, evaluate, API: something outside the scope answers
404, like something that does not exist), their campaign lists, the roll-up pages and the
admin's account pages. A campaign without a unit is outside every scope.

On PostgreSQL the same scope is also enforced by row-level security (defence in depth):
:func:`scope_path` is what the app sets as ``survey.unit_path`` in each transaction
(``survey_app.row_security``), and the policies of the row_security migration hide every
campaign row outside it, so a view that forgets its filter still cannot read another county.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from survey_app.models import Campaign, Community, Household, Role, Unit, User
from survey_app.services import audit

#: The roles a unit can be granted to (residents have no account).
SCOPED_ROLES = (Role.ADMIN, Role.EVALUATOR, Role.WORKER)


#: The path of the scope of a grant whose unit is missing: no unit's path starts with it.
UNREACHABLE_PATH = "\x00"


class UnitScopeError(ValueError):
    """A unit cannot be granted to this account."""


def scope_of(user: User, *, session: Session) -> Unit | None:
    """The unit ``user`` is limited to; None: not limited."""
    if user.role not in SCOPED_ROLES or user.unit_id is None:
        return None
    unit = session.get(Unit, user.unit_id)
    # A grant whose unit cannot be read fails closed: a scope no path lies under, never
    # "not limited" (which would show every county).
    return unit if unit is not None else Unit(code="", name="", level="", path=UNREACHABLE_PATH)


def scope_path(user: User | None, *, session: Session) -> str:
    """The unit path ``user`` is limited to ("" : everything; anonymous requests too)."""
    scope = scope_of(user, session=session) if user is not None else None
    return scope.path if scope is not None else ""


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


def visible_communities(user: User, *, session: Session) -> list[Community]:
    """The communities ``user`` may pick (a filter, a worker's community), by code: every
    one for an unscoped account; for a scoped one those with households in the campaigns
    of its subtree (a community belongs to no unit itself), so a county's lists never
    name another county's communities."""
    query = select(Community).order_by(Community.code)
    scope = scope_of(user, session=session)
    if scope is not None:
        query = query.where(col(Community.id).in_(
            select(Household.community_id)
            .join(Campaign, Campaign.id == Household.campaign_id)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(col(Unit.path).startswith(scope.path, autoescape=True))))
    return list(session.exec(query).all())


def user_visible(actor: User, user: User, *, session: Session) -> bool:
    """Whether ``actor`` (an admin) may see and manage ``user``'s account: a global admin
    every account; a scoped admin the accounts granted a unit in its own subtree."""
    scope = scope_of(actor, session=session)
    if scope is None:
        return True
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    return unit is not None and unit.path.startswith(scope.path)


def grant_unit(user: User, unit: Unit | None, *, session: Session,
               actor: User | None = None) -> None:
    """Limit ``user`` (admin, evaluator or worker) to ``unit``'s subtree (None:
    everything), audited. A worker stays in its community besides."""
    if user.role not in SCOPED_ROLES:
        raise UnitScopeError("only staff accounts are limited to a unit")
    user.unit_id = unit.id if unit else None
    session.add(user)
    audit.record("user.unit", "user", user.id, session=session, actor=actor,
                 details={"unit": unit.code if unit else None})
