"""Sign in and sign out of the web UI (endpoints auth.login, auth.logout)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from casework import auth
from casework.services.errors import NotAuthenticated, RateLimited

from ..forms.auth import LoginForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """`next` only when it is a path on this site (no scheme, no host, no //evil.example)."""
    if not target:
        return None
    target = target.strip()
    if target.endswith("?"):
        target = target[:-1]
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/inloggen", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("web.home"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.wachtwoord.data)
        except RateLimited as exc:
            error, status = exc.message, 429
        except NotAuthenticated as exc:
            error = exc.message
        else:
            auth.start_session(user)
            flash(f"U bent ingelogd als {user.naam}.", "success")
            return redirect(next_url or url_for("web.home"))
    elif form.is_submitted():
        error, status = "Vul uw e-mailadres en wachtwoord in.", 422
    if error:
        form.wachtwoord.data = ""
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.post("/uitloggen")
def logout():
    auth.end_session(current_user._get_current_object())
    flash("U bent uitgelogd.", "success")
    return redirect(url_for("auth.login"))
