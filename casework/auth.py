"""Passwords (argon2id), browser sessions (Flask-Login) and API bearer tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select

from .extensions import db, login_manager
from .models import ApiToken, LoginFailure, User, new_session_nonce, utcnow
from .services.errors import NotAuthenticated, RateLimited

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("casework-geen-gebruiker")


def _log_security(event: str, user: User | None, email: str | None = None,
                  commit: bool = False) -> None:
    """Security events go to the access log (services/audit.py), in the same transaction."""
    from .services.audit import log_security

    log_security(event, user, email=email)
    if commit:
        db.session.commit()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_rate_limit(email: str) -> None:
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    failures = db.session.scalar(
        select(func.count()).where(LoginFailure.email == email, LoginFailure.at >= since))
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        _log_security("inloggen_geblokkeerd", None, email=email, commit=True)
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
        _log_security("inloggen_mislukt", user, email=email)
        db.session.commit()
        raise NotAuthenticated("Het e-mailadres of het wachtwoord klopt niet.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    return user


def start_session(user: User) -> None:
    session.clear()  # a fresh session at login: nothing from before survives
    login_user(user)
    _log_security("inloggen", user)
    db.session.commit()


def end_session(user: User) -> None:
    # Rotating the nonce invalidates every cookie of this user, also copies kept elsewhere.
    user.session_nonce = new_session_nonce()
    _log_security("uitloggen", user)
    db.session.commit()
    logout_user()
    session.clear()


@login_manager.user_loader
def _load_user(user_key: str) -> User | None:
    user_id, _, nonce = user_key.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=expires))
    _log_security("token_aangemaakt", user)
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
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
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
    row.revoked_at = utcnow()
    _log_security("token_ingetrokken", row.user)
    db.session.commit()
