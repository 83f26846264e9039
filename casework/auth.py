"""Passwords (argon2id), the second step (TOTP, recovery codes), browser sessions (Flask-Login
plus a server-side `user_sessions` row per session) and API bearer tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, flash, g, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select, update

from .extensions import db, login_manager
from .models import ApiToken, LoginFailure, RecoveryCode, User, UserSession, new_session_nonce, utcnow
from .services.errors import NotAuthenticated, RateLimited

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("casework-geen-gebruiker")


def _now() -> datetime:
    """The clock of sign-in, sessions and codes (naive UTC); tests replace it."""
    return utcnow()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_rate_limit(email: str) -> None:
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    failures = db.session.scalar(
        select(func.count()).where(LoginFailure.email == email, LoginFailure.at >= since))
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        raise RateLimited("Te veel mislukte pogingen om in te loggen. Probeer het over een kwartier opnieuw.")


def authenticate(email: str, password: str) -> User:
    """The user for these credentials; the same error for an unknown email and a wrong password."""
    email = (email or "").strip().lower()
    _check_rate_limit(email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
        ok = user is not None and user.active
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        db.session.add(LoginFailure(email=email))
        db.session.commit()
        raise NotAuthenticated("Het e-mailadres of het wachtwoord klopt niet.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # With a second step the failures are forgotten only once it succeeded too: knowing the
    # password must not reset the count for guessing the code.
    if second_step_needed(user) is None:
        _clear_failures(user)
    return user


def _email_key(user: User) -> str:
    return user.email.strip().lower()


def _clear_failures(user: User) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == _email_key(user)))


def _record_failure(user: User) -> None:
    db.session.add(LoginFailure(email=_email_key(user)))
    db.session.commit()


# ---------------------------------------------------------------- second step (TOTP, RFC 6238)

TOTP_PERIOD = 30  # seconds per time step (the RFC's default, what every authenticator app uses)
RECOVERY_CODE_COUNT = 10
WRONG_CODE = "De code klopt niet of is al gebruikt. Vul de nieuwe code uit uw app in."


def second_step_needed(user: User) -> str | None:
    """"code" when the user must enter a code, "enrol" when a professional must first set up
    the second step (CASEWORK_TOTP_REQUIRED), None when the password is enough (a parent)."""
    if user.totp_enabled:
        return "code"
    if user.is_professional and current_app.config["TOTP_REQUIRED"]:
        return "enrol"
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                               issuer_name=current_app.config["TOTP_ISSUER"])


def _code_step(secret: str, code: str) -> int | None:
    """The time step (now, or one step either side for clock drift) this 6-digit code is for."""
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = int(_now().replace(tzinfo=UTC).timestamp()) // TOTP_PERIOD
    for step in (now - 1, now, now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normal(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _use_totp(user: User, secret: str, code: str) -> bool:
    step = _code_step(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False  # wrong, or used before: a code works once
    user.totp_last_step = step
    return True


def _use_recovery_code(user: User, code: str) -> bool:
    if not re.fullmatch(r"[0-9a-f]{10}", code):
        return False
    digest = hashlib.sha256(code.encode()).hexdigest()
    row = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest,
        RecoveryCode.used_at.is_(None)))
    if row is None:
        return False
    row.used_at = _now()
    return True


def check_second_step(user: User, code: str | None) -> None:
    """Accept a current, unused TOTP code or an unused recovery code (which is then used up);
    a wrong code counts as a failed sign-in (the same limit as for passwords)."""
    _check_rate_limit(_email_key(user))
    code = _normal(code)
    if user.totp_secret and (_use_totp(user, user.totp_secret, code) or _use_recovery_code(user, code)):
        return
    db.session.rollback()
    _record_failure(user)
    raise NotAuthenticated(WRONG_CODE, {"otp": [WRONG_CODE]})


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(select(func.count()).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def start_enrolment(user: User) -> str:
    """The secret being set up (kept until confirmed, so reloading the page shows the same QR)."""
    if not user.totp_pending_secret:
        user.totp_pending_secret = new_totp_secret()
        db.session.commit()
    return user.totp_pending_secret


ENROL_WRONG = "De code klopt niet. Controleer de tijd op uw telefoon en vul de nieuwe code uit de app in."


def confirm_enrolment(user: User, code: str | None) -> list[str]:
    """Switch the second step on when the code matches the pending secret; returns the new
    recovery codes (shown once; only their sha256 is kept). The caller commits."""
    _check_rate_limit(_email_key(user))
    secret = user.totp_pending_secret
    if not secret or not _use_totp(user, secret, _normal(code)):
        db.session.rollback()
        _record_failure(user)
        raise NotAuthenticated(ENROL_WRONG, {"code": [ENROL_WRONG]})
    user.totp_secret, user.totp_pending_secret, user.totp_enrolled_at = secret, None, _now()
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hashlib.sha256(code.encode()).hexdigest(),
                                    created_at=_now()))
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def reset_second_step(user: User) -> None:
    """A beheerder's reset: the second step is off and set up again at the next sign-in; every
    session and token of the user ends (the old phone may be in someone else's hands)."""
    user.totp_secret = user.totp_pending_secret = user.totp_enrolled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _end_everything(user)


# ---------------------------------------------------------------- browser sessions

def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_agent_summary(ua: str | None) -> str:
    """"Firefox op Windows": enough to recognise one's own devices, nothing more."""
    ua = ua or ""
    browser = next((name for token, name in (
        ("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
        ("Safari/", "Safari"), ("python-requests", "script"), ("curl/", "curl"),
    ) if token in ua), "")
    system = next((name for token, name in (
        ("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
        ("Mac OS X", "macOS"), ("Linux", "Linux"),
    ) if token in ua), "")
    if browser and system:
        return f"{browser} op {system}"
    return (browser or system or ua[:60] or "onbekend")[:200]


def idle_timeout(user: User) -> timedelta:
    cfg = current_app.config
    minutes = cfg["SESSION_IDLE_MINUTES_OUDER"] if user.role == "ouder" else cfg["SESSION_IDLE_MINUTES"]
    return timedelta(minutes=minutes)


def start_session(user: User) -> None:
    """Sign in on the web (after the second step): a fresh cookie holding only a random key whose
    sha256 is the session's row."""
    session.clear()  # a fresh session at login: nothing from before survives
    key = secrets.token_urlsafe(32)
    now = _now()
    db.session.add(UserSession(user_id=user.id, key_hash=_key_hash(key), created_at=now,
                               last_seen_at=now,
                               user_agent=user_agent_summary(request.headers.get("User-Agent"))))
    session["sid"] = key
    login_user(user)
    _clear_failures(user)
    db.session.commit()


def current_session_row() -> UserSession | None:
    return g.get("user_session")


def _revoke_tokens(user: User) -> None:
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=_now()))


def _end_everything(user: User) -> None:
    user.session_nonce = new_session_nonce()  # also cookies that predate the session records
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id,
                                                 UserSession.ended_at.is_(None)).values(ended_at=_now()))
    _revoke_tokens(user)


def end_session(user: User, revoke_tokens: bool = False) -> None:
    """Sign out here: this session's row ends (a copied cookie is worthless); on request the
    user's API tokens are revoked too."""
    row = current_session_row()
    if row is not None:
        row.ended_at = _now()
    if revoke_tokens:
        _revoke_tokens(user)
    db.session.commit()
    logout_user()
    session.clear()


def end_all_sessions(user: User) -> None:
    """"Overal afmelden": every browser session and every API token of this user ends."""
    _end_everything(user)
    db.session.commit()
    logout_user()
    session.clear()


def active_sessions(user: User) -> list[UserSession]:
    now = _now()
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None),
        UserSession.created_at > now - timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
        UserSession.last_seen_at > now - idle_timeout(user)).order_by(UserSession.created_at.desc())))


def active_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > _now()).order_by(ApiToken.created_at.desc())))


@login_manager.user_loader
def _load_user(user_key: str) -> User | None:
    user_id, _, nonce = user_key.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None  # a deactivated user's sessions end at once
    key = session.get("sid")
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == _key_hash(key))) if key else None
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    now = _now()
    if (now - row.last_seen_at > idle_timeout(user)
            or now - row.created_at > timedelta(hours=current_app.config["SESSION_MAX_HOURS"])):
        row.ended_at = now
        db.session.commit()
        session.clear()
        flash("Uw sessie is verlopen. Log opnieuw in.", "info")
        return None
    if now - row.last_seen_at >= timedelta(seconds=10):
        row.last_seen_at = now  # the loader runs first in a request: nothing else is pending
        db.session.commit()
    g.user_session = row
    return user


# ---------------------------------------------------------------- API tokens

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    ua = user_agent_summary(request.headers.get("User-Agent")) if has_request_context() else ""
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=expires,
                            created_at=now, user_agent=ua))
    _clear_failures(user)
    db.session.commit()
    return token, expires


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_row() -> ApiToken | None:
    token = _bearer()
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    now = _now()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= timedelta(minutes=1):
        row.last_used_at = now  # the first look-up of a request: nothing else is pending yet
        db.session.commit()
    return row


def api_user() -> User:
    row = token_row()
    if row is None:
        raise NotAuthenticated("Log in: stuur een geldig token mee (Authorization: Bearer …).")
    return row.user


def revoke_current_token() -> None:
    row = token_row()
    if row is None:
        raise NotAuthenticated("Dit token is niet (meer) geldig.")
    row.revoked_at = _now()
    db.session.commit()
