"""Sign in (password, then the second step or its set-up), sign out, the user's own sessions
and tokens, and the beheerder's reset of someone's second step."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casework import auth, mail
from casework.extensions import db
from casework.models import User
from casework.services.audit import log_security
from casework.services.errors import NotAuthenticated, RateLimited, ValidationFailed

from ..forms.auth import ChangePasswordForm, CodeForm, EnrolForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from ..forms.beheer_gebruikers import UitnodigingCodeForm

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
            step = auth.second_step_needed(user)
            if step is None:
                return _signed_in(user, next_url)
            db.session.commit()  # a rehashed password
            session.clear()
            session["pending_login"] = {"uid": user.id, "nonce": user.session_nonce,
                                        "at": time.time(), "next": next_url}
            return redirect(url_for("auth.second_step" if step == "code" else "auth.enrol_at_login"))
    elif form.is_submitted():
        error, status = "Vul uw e-mailadres en wachtwoord in.", 422
    if error:
        form.wachtwoord.data = ""
    response = current_app.make_response(
        (render_template("auth/login.html", form=form, error=error, next_url=next_url), status))
    if status == 429 and retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _signed_in(user: User, next_url: str | None):
    auth.start_session(user)
    flash(f"U bent ingelogd als {user.naam}.", "success")
    return redirect(next_url or url_for("web.home"))


def _pending_user() -> tuple[User | None, str | None]:
    """The user who gave the right password a moment ago and still has to do the second step."""
    pending = session.get("pending_login")
    if not isinstance(pending, dict):
        return None, None
    minutes = current_app.config["LOGIN_SECOND_STEP_MINUTES"]
    user = db.session.get(User, pending.get("uid") or 0)
    if (user is None or not user.active or user.session_nonce != pending.get("nonce")
            or time.time() - pending.get("at", 0) > minutes * 60):
        session.pop("pending_login", None)
        return None, None
    return user, safe_next(pending.get("next"))


def _start_over():
    flash("Log opnieuw in met uw e-mailadres en wachtwoord.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/inloggen/code", methods=["GET", "POST"])
def second_step():
    user, next_url = _pending_user()
    if user is None or not user.totp_enabled:
        return _start_over()
    form = CodeForm()
    error, status, retry_after = None, 200, None
    if form.validate_on_submit():
        try:
            auth.check_second_step(user, form.code.data)
        except RateLimited as exc:
            session.pop("pending_login", None)
            error, status, retry_after = exc.message, 429, exc.extra.get("retry_after")
        except NotAuthenticated as exc:
            error, status = exc.message, 422
        else:
            return _signed_in(user, next_url)
    elif form.is_submitted():
        error, status = "Vul de code uit uw app in.", 422
    form.code.data = ""
    page = render_template("auth/code.html", form=form, error=error, demo_code=_demo_code(user))
    return _with_retry_after(page, status, retry_after)


def _demo_code(user: User) -> str | None:
    """On the developer's own machine, a demo user (set up with the known demo secret) is shown
    the current code, so the demo works without an authenticator app. Never outside development."""
    config = current_app.config
    if config.get("ENV_NAME") != "development" or user.totp_secret != config.get("DEMO_TOTP_SECRET"):
        return None
    import pyotp

    return pyotp.TOTP(user.totp_secret).now()


def _with_retry_after(body, status: int, retry_after):
    response = current_app.make_response((body, status))
    if status == 429 and retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (no script, no external image)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, title="QR-code voor uw authenticator-app")
    return Markup(svg)


def _enrol_page(user: User, form, error, status, action: str, signing_in: bool):
    secret = auth.start_enrolment(user)
    return render_template("auth/enrol.html", form=form, error=error, action=action,
                           qr=qr_svg(auth.totp_uri(user, secret)), signing_in=signing_in,
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4))), status


def _enrol(user: User, action: str, signing_in: bool, next_url: str | None = None):
    form = EnrolForm()
    error, status, retry_after = None, 200, None
    if form.validate_on_submit():
        try:
            codes = auth.confirm_enrolment(user, form.code.data, signing_in=signing_in)
        except RateLimited as exc:
            if signing_in:
                session.pop("pending_login", None)
            error, status, retry_after = exc.message, 429, exc.extra.get("retry_after")
        except NotAuthenticated as exc:
            error, status = exc.message, 422
        else:
            if signing_in:
                auth.start_session(user)  # commits the enrolment too
            else:
                db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=next_url or url_for("web.home"))
    elif form.is_submitted():
        error, status = "Vul de code van 6 cijfers uit de app in.", 422
    form.code.data = ""
    body, status = _enrol_page(user, form, error, status, action, signing_in)
    return _with_retry_after(body, status, retry_after)


@bp.route("/inloggen/instellen", methods=["GET", "POST"])
def enrol_at_login():
    """A professional's first sign-in: set up the second step before anything else."""
    user, next_url = _pending_user()
    if user is None or user.totp_enabled:
        return _start_over()
    return _enrol(user, url_for("auth.enrol_at_login"), True, next_url)


@bp.route("/account/tweestaps", methods=["GET", "POST"])
def enrol():
    """Set up the second step while signed in (a parent who wants it, or a new phone)."""
    return _enrol(current_user._get_current_object(), url_for("auth.enrol"), False,
                  url_for("auth.account"))


@bp.post("/account/herstelcodes")
def new_recovery_codes():
    user = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.account"))
    codes = auth.new_recovery_codes(user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"))


@bp.get("/account")
def account():
    user = current_user._get_current_object()
    return render_template("auth/account.html", user=user, sessions=auth.active_sessions(user),
                           tokens=auth.active_tokens(user), this_session=auth.current_session_row(),
                           recovery_left=auth.remaining_recovery_codes(user) if user.totp_enabled else 0)


@bp.post("/account/overal-afmelden")
def logout_everywhere():
    auth.sign_out_everywhere(current_user._get_current_object())
    flash("U bent overal afgemeld: al uw sessies zijn beëindigd en al uw API-tokens ingetrokken.", "success")
    return redirect(url_for("auth.login"))


@bp.post("/sessie/verlengen")
def keepalive():
    """"Ik ben er nog": loading the user for this request already counted as activity."""
    return jsonify({"ok": True, "idle_seconds": int(auth.idle_timeout(current_user).total_seconds())})


@bp.post("/uitloggen")
def logout():
    revoke = request.form.get("tokens_intrekken") == "1"
    auth.end_session(current_user._get_current_object(), revoke_tokens=revoke)
    flash("U bent uitgelogd. Uw API-tokens zijn ingetrokken." if revoke else "U bent uitgelogd.", "success")
    return redirect(url_for("auth.login"))


# ---------------------------------------------------------------- beheerder: reset the second step

@bp.get("/beheer/gebruikers")
def users():
    from casework import policy
    from casework.models import PasswordResetToken

    from .texts import ROLE_LABELS

    beheerder = current_user._get_current_object()
    rows = list(db.session.scalars(policy.beheer_gebruikers_query(beheerder)
                                   .options(selectinload(User.organisation)).order_by(User.naam)))
    # One query for every open invitation of the listed users (no query per row).
    now = auth._now()
    open_ = dict(db.session.execute(
        select(PasswordResetToken.user_id, func.max(PasswordResetToken.expires_at))
        .where(PasswordResetToken.user_id.in_([u.id for u in rows]), PasswordResetToken.used_at.is_(None),
               PasswordResetToken.soort.in_(("uitnodiging", "code")))
        .group_by(PasswordResetToken.user_id)).all()) if rows else {}
    statuses = {u.id: ("gedeactiveerd" if not u.active else
                       ("uitgenodigd" if open_[u.id] > now else "uitnodiging verlopen") if u.id in open_
                       else "actief") for u in rows}
    return render_template("auth/users.html", users=rows, statuses=statuses, role_labels=ROLE_LABELS)


@bp.post("/beheer/gebruikers/<int:user_id>/tweestaps-herstellen")
def reset_totp(user_id: int):
    from casework import policy

    beheerder = current_user._get_current_object()
    user = db.session.scalar(policy.beheer_gebruikers_query(beheerder).where(User.id == user_id))
    if user is None:
        abort(404)
    auth.reset_second_step(user)
    log_security("tweestaps_hersteld", beheerder, detail=str(user.id))
    db.session.commit()
    flash(f"De tweestapsverificatie van {user.naam} is uitgezet. Bij de volgende keer inloggen stelt "
          "deze gebruiker een nieuwe app in. Alle sessies en tokens van deze gebruiker zijn beëindigd.", "success")
    return redirect(url_for("auth.users"))


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


# ---------------------------------------------------------------- invitations: choose a password

def _choose_password(token: str, soorten: tuple[str, ...], action: str, code_form=None):
    """The invited user's first password (from the mail's link, or after the code)."""
    form = ResetPasswordForm()
    status = 200
    if request.method == "POST" and "nieuw" in request.form:
        if form.validate():
            try:
                user = auth.reset_password(token, form.nieuw.data, soorten)
            except ValidationFailed as exc:
                _password_error(form, exc)
                status = 422
            else:
                log_security("uitnodiging_gebruikt", user)
                db.session.commit()
                if current_user.is_authenticated:
                    auth.end_session(current_user._get_current_object())
                flash("Uw wachtwoord is ingesteld. Log nu in met uw e-mailadres en dit wachtwoord."
                      + (" Daarna stelt u de tweestapsverificatie in." if user.is_professional
                         and current_app.config["TOTP_REQUIRED"] else ""), "success")
                return redirect(url_for("auth.login"))
        else:
            status = 422
    _clear(form)
    row = auth.reset_token_user(token, soorten)
    return render_template("auth/uitnodiging_wachtwoord.html", form=form, action=action, user=row.user,
                           code_form=code_form), status


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
def uitnodiging(token: str):
    """The link in an invitation mail: choose a password; works once, for INVITATION_DAYS."""
    if auth.reset_token_user(token, ("uitnodiging",)) is None:
        return render_template("auth/wachtwoord_link_verlopen.html", uitnodiging=True), 404
    return _choose_password(token, ("uitnodiging",), url_for("auth.uitnodiging", token=token))


@bp.route("/uitnodiging", methods=["GET", "POST"])
def uitnodiging_code():
    """An invitation by one-time code: e-mail address and code, then choose a password."""
    form = UitnodigingCodeForm()
    status = 200
    if request.method == "POST":
        row = auth.invitation_code_user(form.email.data or "", form.code.data or "") \
            if form.email.data and form.code.data else None
        if row is not None:
            code = auth.normal_code(form.code.data)
            return _choose_password(code, ("code",), url_for("auth.uitnodiging_code"), code_form=form)
        form.validate()
        if form.email.data and form.code.data:
            form.add_error("code", "Deze code werkt niet: kijk of u hem goed heeft overgenomen en of het "
                                   "e-mailadres klopt. Een code werkt 7 dagen en één keer; vraag de beheerder "
                                   "anders om een nieuwe.")
        log_security("uitnodiging_code_fout", None, email=form.email.data or "")
        db.session.commit()
        status = 422
    form.code.data = ""
    return render_template("auth/uitnodiging_code.html", form=form), status
