"""Passwords (argon2id), browser sessions (Flask-Login) and API bearer tokens."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select, update

from .extensions import db, login_manager
from .models import ApiToken, LoginAttempt, PasswordResetToken, User, new_session_nonce, utcnow
from .passwords import password_problems
from .services.errors import NotAuthenticated, NotFound, RateLimited, ValidationFailed

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


# ------------------------------------------------------------------ growing delays
#
# Every attempt is a LoginAttempt row, written (and committed) before the password is checked, so
# attempts that run at the same time in other processes count too. An attempt must wait when, in
# the window (LOGIN_WINDOW_MINUTES), too many failures came before it:
#  - per account: after LOGIN_ACCOUNT_FREE_FAILURES failures on this account (since its last
#    successful sign-in), from any address that has not signed in to this account before; and
#    after as many failures on this account from this address (a sign-in elsewhere does not
#    forgive those);
#  - per address: after LOGIN_ADDRESS_FREE_FAILURES failures from this client address, over all
#    accounts (password spraying);
#  - from an address where this account signed in within LOGIN_KNOWN_ADDRESS_DAYS, only that
#    address's own failures on this account count: others cannot lock the user out there.
# The k-th failure over the free number costs 2**k seconds after the last failure, at most
# LOGIN_MAX_DELAY_SECONDS. A refused attempt checks no password and counts for nothing.

def _now() -> datetime:
    return utcnow()


def _keyed(kind: str, value: str) -> str:
    key = (current_app.config.get("SECRET_KEY") or "casework").encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:64]


def client_address() -> str:
    """The client address (after any ProxyFix); an IPv6 address by its /64 prefix."""
    raw = (request.remote_addr if has_request_context() else None) or "onbekend"
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _delay(failures: int, free: int, cap: int) -> int:
    if failures < free:
        return 0
    return min(2 ** min(failures - free, 30), cap)


def _wait_seconds(account: str, address: str, now: datetime, before_id: int | None) -> int:
    """Seconds the attempt at `now` (row id `before_id`) must still wait; 0 when it may go on."""
    cfg = current_app.config
    cap = cfg["LOGIN_MAX_DELAY_SECONDS"]
    since = now - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    earlier = [LoginAttempt.id < before_id] if before_id is not None else []

    def failures_since(*where) -> tuple[int, datetime | None]:
        count, last = db.session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since, *earlier, *where)).one()
        return count, last

    def last_success(*where) -> datetime | None:
        return db.session.scalar(select(func.max(LoginAttempt.at)).where(
            LoginAttempt.succeeded.is_(True), *where))

    checks = []
    known = last_success(LoginAttempt.account == account, LoginAttempt.address == address)
    if known is not None and known >= now - timedelta(days=cfg["LOGIN_KNOWN_ADDRESS_DAYS"]):
        checks.append((failures_since(LoginAttempt.account == account,
                                      LoginAttempt.address == address, LoginAttempt.at > known),
                       cfg["LOGIN_ACCOUNT_FREE_FAILURES"]))
    else:
        signed_in = last_success(LoginAttempt.account == account)
        after = [LoginAttempt.at > signed_in] if signed_in is not None else []
        checks.append((failures_since(LoginAttempt.account == account, *after),
                       cfg["LOGIN_ACCOUNT_FREE_FAILURES"]))
        # This address's own failures on the account: not forgiven by a sign-in elsewhere.
        checks.append((failures_since(LoginAttempt.account == account,
                                      LoginAttempt.address == address),
                       cfg["LOGIN_ACCOUNT_FREE_FAILURES"]))
        checks.append((failures_since(LoginAttempt.address == address),
                       cfg["LOGIN_ADDRESS_FREE_FAILURES"]))
    wait = 0
    for (count, last), free in checks:
        delay = _delay(count, free, cap)
        if delay and last is not None:
            wait = max(wait, math.ceil((last + timedelta(seconds=delay) - now).total_seconds()))
    return wait


def wait_text(seconds: int) -> str:
    """'45 seconden', '1 minuut', '15 minuten' (rounded up to whole minutes from a minute on)."""
    if seconds < 60:
        return "1 seconde" if seconds == 1 else f"{seconds} seconden"
    minutes = math.ceil(seconds / 60)
    return "1 minuut" if minutes == 1 else f"{minutes} minuten"


def _refuse(wait: int) -> RateLimited:
    return RateLimited(
        "Er is te vaak een verkeerd wachtwoord gebruikt. Om uw account te beschermen moet u even "
        f"wachten: probeer het over {wait_text(wait)} opnieuw.", retry_after=wait)


def _start_attempt(email: str) -> LoginAttempt:
    """Record this attempt (as a failure until it succeeds), or refuse it with 429."""
    now = _now()
    account, address = _keyed("account", email), _keyed("address", client_address())
    wait = _wait_seconds(account, address, now, None)  # cheap refusal: no row, no hash
    if wait > 0:
        _log_security("inloggen_geblokkeerd", None, email=email, commit=True)
        raise _refuse(wait)
    attempt = LoginAttempt(at=now, account=account, address=address, succeeded=False)
    db.session.add(attempt)
    db.session.commit()  # visible at once to attempts in other processes
    # Attempts that started at the same moment elsewhere: only those before this row count.
    wait = _wait_seconds(account, address, now, attempt.id)
    if wait > 0:
        db.session.delete(attempt)
        _log_security("inloggen_geblokkeerd", None, email=email)
        db.session.commit()
        raise _refuse(wait)
    return attempt


def _attempt_succeeded(attempt: LoginAttempt) -> None:
    attempt.succeeded = True
    # One success row per account and address is enough to know the address.
    db.session.execute(delete(LoginAttempt).where(
        LoginAttempt.account == attempt.account, LoginAttempt.address == attempt.address,
        LoginAttempt.succeeded.is_(True), LoginAttempt.id != attempt.id))


def prune_login_attempts() -> int:
    """Delete attempts no rule looks at any more (failures past the window, old successes)."""
    cfg = current_app.config
    now = _now()
    result = db.session.execute(delete(LoginAttempt).where(
        ((LoginAttempt.succeeded.is_(False))
         & (LoginAttempt.at < now - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])))
        | (LoginAttempt.at < now - timedelta(days=max(cfg["LOGIN_KNOWN_ADDRESS_DAYS"], 1)))))
    db.session.commit()
    return result.rowcount or 0


def authenticate(email: str, password: str) -> User:
    """The user for these credentials; the same error for an unknown email and a wrong password."""
    email = (email or "").strip().lower()
    attempt = _start_attempt(email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
        ok = user is not None and user.active
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        _log_security("inloggen_mislukt", user, email=email, commit=True)
        raise NotAuthenticated("Het e-mailadres of het wachtwoord klopt niet.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _attempt_succeeded(attempt)
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


# ------------------------------------------------------------------ passwords: set, change, reset

def set_password(user: User, password: str) -> None:
    """Set a new password under the password rules; ends every session and token of the user.

    The demo loader and synthetic data use hash_password() directly (the demo password "demo"
    is for demo users on a development machine); every path where a person chooses a password
    comes through here. The caller commits.
    """
    problems = password_problems(password, email=user.email, naam=user.naam)
    if problems:
        raise ValidationFailed(problems[0], fields={"wachtwoord": problems})
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def end_all_sessions(user: User) -> None:
    """Every browser session (the nonce in the cookie) and API token of this user ends now.

    Server-side session records, where they exist, must be ended here as well.
    """
    now = _now()
    user.session_nonce = new_session_nonce()
    db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
    ).values(used_at=now))


def change_password(user: User, current: str, new: str) -> None:
    """Change with the current password (counted like a sign-in); this browser stays signed in."""
    try:
        authenticate(user.email, current)
    except NotAuthenticated:
        raise ValidationFailed("Uw huidige wachtwoord klopt niet.",
                               fields={"huidig": ["Uw huidige wachtwoord klopt niet."]}) from None
    set_password(user, new)
    db.session.commit()
    if has_request_context():
        login_user(user)  # this cookie carries the new nonce; other browsers are signed out


def _reset_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_reset_token(email: str) -> tuple[User, str] | None:
    """A new single-use reset token for this e-mail address, or None (unknown, inactive, or a
    mail was sent less than 5 minutes ago). The caller answers the same in every case."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.active:
        return None
    now = _now()
    recent = db.session.scalar(select(func.count()).where(
        PasswordResetToken.user_id == user.id,
        PasswordResetToken.created_at > now - timedelta(minutes=5)))
    if recent:
        return None  # no mail bombing: one mail per 5 minutes
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
    ).values(used_at=now))  # only the newest link works
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordResetToken(
        user_id=user.id, token_hash=_reset_hash(token), created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])))
    db.session.commit()
    return user, token


def reset_token_user(token: str) -> PasswordResetToken | None:
    """The unused, unexpired token row for this link, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(PasswordResetToken).where(
        PasswordResetToken.token_hash == _reset_hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= _now() or not row.user.active:
        return None
    return row


def reset_password(token: str, new: str) -> User:
    """Set the password from a reset link; the link is used up, every session and token ends."""
    row = reset_token_user(token)
    if row is None:
        raise NotFound("Deze link werkt niet meer: hij is al gebruikt of verlopen.")
    user = row.user
    set_password(user, new)  # marks this and every other reset link as used
    db.session.commit()
    return user
