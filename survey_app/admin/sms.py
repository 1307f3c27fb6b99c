"""The administrator's SMS page: the campaign's waves with their messages by status, the
preview of the next wave (how many households, who is left out and why, the text) and the
confirmed send, which writes the wave into the outbox (``services.sms_waves``); the sender
(``survey-app outbox send``) delivers it."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from survey_app.admin import bp
from survey_app.admin.forms import SmsWaveForm
from survey_app.admin.routes import NO_STORE, _campaign_or_404
from survey_app.extensions import db
from survey_app.models import Campaign, Role
from survey_app.security import role_required
from survey_app.services import sms_waves


def _page(campaign: Campaign, form: SmsWaveForm, status: int = 200):
    config = current_app.config
    preview = sms_waves.preview_wave(campaign, session=db.session,
                                     base_url=config["PUBLIC_BASE_URL"],
                                     sign_name=config["SMS_SIGN_NAME"])
    form.number.data = preview.number
    page = render_template("admin/sms.html", campaign=campaign, preview=preview, form=form,
                           waves=sms_waves.wave_rows(campaign, session=db.session),
                           gateway=config["SMS_GATEWAY"],
                           quiet=config["SMS_QUIET_HOURS"])
    return page, status, NO_STORE


@bp.route("/campaigns/<slug>/sms")
@role_required(Role.ADMIN)
def sms_waves_page(slug: str):
    return _page(_campaign_or_404(slug), SmsWaveForm(formdata=None))


@bp.route("/campaigns/<slug>/sms/waves", methods=["POST"])
@role_required(Role.ADMIN)
def send_sms_wave(slug: str):
    campaign = _campaign_or_404(slug)
    form = SmsWaveForm()
    if not form.validate_on_submit():
        return _page(campaign, form, 400)
    back = url_for("admin.sms_waves_page", slug=slug)
    try:
        with db.write() as session:
            if form.number.data != sms_waves.next_wave_number(campaign, session=session):
                raise sms_waves.WaveRefused("stale")
            wave = sms_waves.create_wave(campaign, session=session, actor=current_user)
    except (sms_waves.WaveRefused, IntegrityError) as exc:
        flash(_refusal(getattr(exc, "reason", "stale")), "error")
        return redirect(back)
    flash(_("Wave %(number)d written to the outbox: %(count)d messages; the sender delivers "
            "them outside quiet hours.", number=wave.number, count=wave.messages), "success")
    return redirect(back)


def _refusal(reason: str) -> str:
    if reason == "not_open":
        return _("Messages are sent only while the campaign is open.")
    if reason == "nobody":
        return _("No household can be messaged in this wave.")
    return _("Another wave was written meanwhile; check the preview again.")
