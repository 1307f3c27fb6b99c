"""Roll-ups of a region (city, province, or a county by itself) for a year: the stratified
estimate over county × group strata, the league table with rank intervals and the funnel."""

from __future__ import annotations

import re

from flask import abort, render_template
from flask_login import current_user

from survey_app.evaluate import bp
from survey_app.extensions import db
from survey_app.models import Role
from survey_app.security import role_required
from survey_app.services import rollup_charts, rollups, unit_scope, units
from survey_app.services.score_filters import ScoresError

EVALUATORS = (Role.EVALUATOR, Role.ADMIN)
_CODE = re.compile(r"^\d{6}(\d{3}){0,2}$")


def unit_or_404(code: str):
    unit = units.unit_by_code(code, session=db.session) if _CODE.match(code) else None
    if unit is None or not unit_scope.unit_visible(current_user, unit, session=db.session):
        abort(404)
    return unit


@bp.route("/units/<code>/<int:year>")
@role_required(*EVALUATORS)
def unit_rollup(code: str, year: int):
    unit = unit_or_404(code)
    try:
        doc = rollups.rollup_document(unit, year, session=db.session)
    except ScoresError:
        abort(409)
    return render_template(
        "evaluate/rollup.html", doc=doc, unit=unit,
        ancestors=[a for a in units.ancestors(unit, session=db.session)
                   if unit_scope.unit_visible(current_user, a, session=db.session)],
        children=units.children(unit, session=db.session),
        figures={"league": rollup_charts.league_chart(doc),
                 "funnel": rollup_charts.funnel_chart(doc)})
