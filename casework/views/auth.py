"""Sign in and sign out of the web UI (endpoints auth.login, auth.logout)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from casework import auth, mail
from casework.services.errors import NotAuthenticated, RateLimited, ValidationFailed

from ..forms.auth import ChangePasswordForm, ForgotPasswordForm, LoginForm, ResetPasswordForm

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
    error, status, retry_after = None, 200, None
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.wachtwoord.data)
        except RateLimited as exc:
            error, status, retry_after = exc.message, 429, exc.extra.get("retry_after")
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
    response = current_app.make_response(
        (render_template("auth/login.html", form=form, error=error, next_url=next_url), status))
    if status == 429 and retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/uitloggen")
def logout():
    auth.end_session(current_user._get_current_object())
    flash("U bent uitgelogd.", "success")
    return redirect(url_for("auth.login"))


def _clear(form) -> None:
    for name in ("huidig", "nieuw", "herhaal"):
        if name in form:
            form[name].data = ""


def _password_error(form, exc: ValidationFailed) -> None:
    for name, messages in exc.fields.items():
        target = {"wachtwoord": "nieuw"}.get(name, name)
        for message in messages:
            form.add_error(target, message)


@bp.route("/account/wachtwoord", methods=["GET", "POST"])
def change_password():
    """Change the password: the current one and the new one twice; other sessions end."""
    form = ChangePasswordForm()
    status, retry_after = 200, None
    if form.validate_on_submit():
        try:
            auth.change_password(current_user._get_current_object(), form.huidig.data, form.nieuw.data)
        except RateLimited as exc:
            form.add_error("huidig", exc.message)
            status, retry_after = 429, exc.extra.get("retry_after")
        except ValidationFailed as exc:
            _password_error(form, exc)
            status = 422
        else:
            flash("Uw wachtwoord is gewijzigd. Op andere computers en in apps bent u nu uitgelogd.",
                  "success")
            return redirect(url_for("web.home"))
    elif form.is_submitted():
        status = 422
    _clear(form)
    response = current_app.make_response(
        (render_template("auth/wachtwoord_wijzigen.html", form=form), status))
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _public_url(path: str) -> str | None:
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + path
    if current_app.config.get("ENV_NAME") == "production":
        return None  # never a link to whatever Host the request named
    return request.host_url.rstrip("/") + path


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        found = auth.create_reset_token(form.email.data)
        if found is not None:
            user, token = found
            link = _public_url(url_for("auth.reset_password", token=token))
            if link is None:
                current_app.logger.error("CASEWORK_PUBLIC_URL ontbreekt: geen herstelmail verstuurd")
            else:
                mail.send(mail.build_message(
                    user.email, "Nieuw wachtwoord voor Casework", "wachtwoord_herstellen",
                    naam=user.naam, link=link,
                    minuten=current_app.config["PASSWORD_RESET_MINUTES"]))
        return render_template("auth/wachtwoord_vergeten_verstuurd.html",
                               minuten=current_app.config["PASSWORD_RESET_MINUTES"])
    status = 422 if form.is_submitted() else 200
    return render_template("auth/wachtwoord_vergeten.html", form=form), status


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from the link in the mail; works once, for a limited time."""
    if auth.reset_token_user(token) is None:
        return render_template("auth/wachtwoord_link_verlopen.html"), 404
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            auth.reset_password(token, form.nieuw.data)
        except ValidationFailed as exc:
            _password_error(form, exc)
            status = 422
        else:
            if current_user.is_authenticated:
                auth.end_session(current_user._get_current_object())
            flash("Uw nieuwe wachtwoord is ingesteld. Log in met uw nieuwe wachtwoord.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 422
    _clear(form)
    return render_template("auth/wachtwoord_herstellen.html", form=form, token=token), status
