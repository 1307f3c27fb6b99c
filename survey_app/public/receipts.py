"""``/receipt``: has the answer with this receipt code arrived? (services.receipts)

Only the fact and the day are shown. The view checks its own CSRF token (through the form)
so that an expired page keeps the typed code; an unknown code costs the address a guess.
"""

from flask import render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from survey_app.extensions import csrf, db
from survey_app.guessing import count_failed_lookup
from survey_app.public import bp
from survey_app.public.forms import ReceiptCheckForm
from survey_app.services import receipts


@bp.route("/receipt", methods=["GET", "POST"])
@csrf.exempt  # ReceiptCheckForm checks its own token: an expired page keeps the code
def receipt_check():
    form = ReceiptCheckForm()
    if not form.validate_on_submit():
        return _page(form, 422 if request.method == "POST" else 200)
    received = receipts.received_on(form.code.data, session=db.session)
    if received is not None:
        return _page(form, 200, received=format_date(received, "long"))
    try:
        count_failed_lookup()
    except TooManyRequests as exc:
        return _page(form, 429, problem=_(
            "Too many codes were tried from this network. Please try again in %(minutes)s "
            "minutes.", minutes=max(1, -(-exc.retry_after // 60))),
            headers={"Retry-After": str(exc.retry_after)})
    return _page(form, 404, problem=_(
        "No answer with this receipt code has been received. Please check the code; if it "
        "is right, call the survey hotline or your community office."))


def _page(form: ReceiptCheckForm, status: int, *, received: str | None = None,
          problem: str | None = None,
          headers: dict | None = None):
    page = render_template("public/receipt_check.html", form=form, received=received,
                           problem=problem)
    return page, status, headers or {}
