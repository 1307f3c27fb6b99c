from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from survey_app.auth import bp
from survey_app.auth.forms import LoginForm
from survey_app.extensions import db, limiter
from survey_app.models import Role
from survey_app.services import audit, users

HOME_BY_ROLE = {Role.ADMIN: "admin.index", Role.WORKER: "entry.index",
                Role.EVALUATOR: "evaluate.index"}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never redirect to another host after login. Browsers read a
    # backslash as a slash and drop tabs and newlines ("/\\evil.example" is
    # "//evil.example"), so neither may appear.
    if not target or "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    if target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return None


def _new_session() -> None:
    # The language chosen on the login page (?lang=en) survives the fresh session: it is no
    # credential, and losing it put an English reader back in Chinese right after logging in.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        # A failed attempt is written too: the account's count for its login backoff.
        with db.write() as writing:
            user = users.authenticate(form.username.data, form.password.data,
                                      session=writing)
            if user is not None:
                audit.record("user.login", "user", user.id, session=writing, actor=user)
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 200
        _new_session()  # a new session at login: no fixation
        login_user(user)
        return redirect(_safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[user.role]))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        with db.write() as writing:
            users.end_sessions(current_user._get_current_object(), session=writing)
        logout_user()
    _new_session()
    return redirect(url_for("public.index"))
