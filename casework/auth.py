"""Passwords (argon2id), the second step (TOTP, recovery codes), browser sessions (Flask-Login
plus a server-side `user_sessions` row per session) and API bearer tokens."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, flash, g, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import joinedload

from .extensions import db, login_manager
from .models import (
    ApiToken, LoginAttempt, PasswordResetToken, RecoveryCode, User, UserSession, new_session_nonce, utcnow,
)
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


def authenticate(email: str, password: str, second_step: bool = True) -> User:
    """The user for these credentials; the same error for an unknown email and a wrong password.

    For a user with a second step (second_step_needed) the sign-in has not succeeded yet: the
    attempt is only marked successful when the code is accepted (check_second_step,
    confirm_enrolment). second_step=False: a signed-in user confirming the password."""
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
    if second_step and second_step_needed(user) is not None:
        # The password is right but the code is still to come: this attempt neither counts as a
        # failure nor as a sign-in (a sign-in would forgive the failures, also those of guessing
        # the code). The code step is an attempt of its own (check_second_step).
        db.session.delete(attempt)
        db.session.commit()
    else:
        _attempt_succeeded(attempt)
    return user


def _email_key(user: User) -> str:
    return user.email.strip().lower()


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
    a wrong code counts as a failed sign-in attempt for this account and address (the delays of
    _start_attempt; a refused attempt raises RateLimited). Only an accepted code marks the
    sign-in as succeeded; the caller commits (start_session, issue_token)."""
    db.session.commit()  # nothing of this step may be undone by a refusal below
    attempt = _start_attempt(_email_key(user))
    code = _normal(code)
    if user.totp_secret and (_use_totp(user, user.totp_secret, code) or _use_recovery_code(user, code)):
        _attempt_succeeded(attempt)
        return
    db.session.rollback()
    _log_security("inloggen_mislukt", user, email=_email_key(user), commit=True)
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


def confirm_enrolment(user: User, code: str | None, signing_in: bool = True) -> list[str]:
    """Switch the second step on when the code matches the pending secret; returns the new
    recovery codes (shown once; only their sha256 is kept). A wrong code counts as a failed
    attempt (the sign-in delays); at sign-in it is a failed sign-in. The caller commits."""
    db.session.commit()
    attempt = _start_attempt(_email_key(user))
    secret = user.totp_pending_secret
    if not secret or not _use_totp(user, secret, _normal(code)):
        db.session.rollback()
        if signing_in:
            _log_security("inloggen_mislukt", user, email=_email_key(user))
        db.session.commit()
        raise NotAuthenticated(ENROL_WRONG, {"code": [ENROL_WRONG]})
    _attempt_succeeded(attempt)
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
    end_all_sessions(user)


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
    _log_security("inloggen", user)
    db.session.commit()


def current_session_row() -> UserSession | None:
    return g.get("user_session")


def _revoke_tokens(user: User) -> None:
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=_now()))


def end_session(user: User, revoke_tokens: bool = False) -> None:
    """Sign out here: this session's row ends (a copied cookie is worthless); on request the
    user's API tokens are revoked too."""
    row = current_session_row()
    if row is not None:
        row.ended_at = _now()
    if revoke_tokens:
        _revoke_tokens(user)
    _log_security("uitloggen", user)
    db.session.commit()
    logout_user()
    session.clear()


def sign_out_everywhere(user: User) -> None:
    """"Overal afmelden": every browser session and every API token of this user ends."""
    end_all_sessions(user)
    _log_security("uitloggen", user)
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
    _log_security("token_aangemaakt", user)
    db.session.commit()
    return token, expires


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


_TOKEN_KEY = "casework.api_token"
# Built once: every API request runs it (building and keying a statement costs more than the
# indexed read itself).
_TOKEN_QUERY = (select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))
                .options(joinedload(ApiToken.user)))


def token_row() -> ApiToken | None:
    """The request's valid bearer token, with its user; looked up once per request (the access
    check and the view both ask)."""
    if _TOKEN_KEY in request.environ:
        return request.environ[_TOKEN_KEY]
    row = _look_up_token()
    request.environ[_TOKEN_KEY] = row
    return row


def _look_up_token() -> ApiToken | None:
    token = _bearer()
    if not token:
        return None
    row = db.session.scalar(_TOKEN_QUERY, {"token_hash": _token_hash(token)})
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
    _log_security("token_ingetrokken", row.user)
    db.session.commit()


# ------------------------------------------------------------------ passwords: set, change, reset

def set_password(user: User, password: str, keep: UserSession | None = None) -> None:
    """Set a new password under the password rules; ends every session and token of the user.

    The demo loader and synthetic data use hash_password() directly (the demo password "demo"
    is for demo users on a development machine); every path where a person chooses a password
    comes through here. The caller commits.
    """
    problems = password_problems(password, email=user.email, naam=user.naam)
    if problems:
        raise ValidationFailed(problems[0], fields={"wachtwoord": problems})
    user.password_hash = hash_password(password)
    end_all_sessions(user, keep=keep)


def end_all_sessions(user: User, keep: UserSession | None = None) -> None:
    """Every browser session (its `user_sessions` row, and the nonce in the cookie, also of
    cookies that predate the session rows), API token and password reset link of this user ends
    now; `keep`: a session row that stays (the browser that changed the password). The caller
    commits."""
    now = _now()
    user.session_nonce = new_session_nonce()
    ended = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep is not None:
        ended = ended.where(UserSession.id != keep.id)
    db.session.execute(ended.values(ended_at=now))
    db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
    ).values(used_at=now))


def change_password(user: User, current: str, new: str) -> None:
    """Change with the current password (counted like a sign-in); this browser stays signed in."""
    try:
        authenticate(user.email, current, second_step=False)
    except NotAuthenticated:
        raise ValidationFailed("Uw huidige wachtwoord klopt niet.",
                               fields={"huidig": ["Uw huidige wachtwoord klopt niet."]}) from None
    keep = current_session_row() if has_request_context() else None
    set_password(user, new, keep=keep)
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


def reset_token_user(token: str, soorten: tuple[str, ...] = ("herstel",)) -> PasswordResetToken | None:
    """The unused, unexpired token row for this link (of one of these kinds), or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(PasswordResetToken).where(
        PasswordResetToken.token_hash == _reset_hash(token)))
    if (row is None or row.soort not in soorten or row.used_at is not None or row.expires_at <= _now()
            or not row.user.active):
        return None
    return row


def reset_password(token: str, new: str, soorten: tuple[str, ...] = ("herstel",)) -> User:
    """Set the password from a reset or invitation link (or an invitation code); the link is used
    up, every session and token ends."""
    row = reset_token_user(token, soorten)
    if row is None:
        raise NotFound("Deze link werkt niet meer: hij is al gebruikt of verlopen.")
    user = row.user
    set_password(user, new)  # marks this and every other reset link as used
    db.session.commit()
    return user


# ------------------------------------------------------------------ invitations

# A one-time code: 16 characters without look-alikes (no 0/O, 1/I/L), 80 bits, in groups of 4.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normal_code(code: str) -> str:
    """A typed invitation code as stored: upper case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", (code or "").upper())[:40]


def unusable_password_hash() -> str:
    """The password of an invited user until they choose one: a random secret nobody knows."""
    return hash_password(secrets.token_urlsafe(32))


def create_invitation(user: User, soort: str) -> str:
    """A new invitation for `user` ("uitnodiging": a link for the mail; "code": a code the
    beheerder passes on); earlier links and codes stop working. Returns the link's token or the
    code (shown once; only its SHA-256 is kept). The caller commits."""
    now = _now()
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)).values(used_at=now))
    if soort == "code":
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
        secret, stored = "-".join(raw[i:i + 4] for i in range(0, 16, 4)), raw
    else:
        secret = stored = secrets.token_urlsafe(32)
    db.session.add(PasswordResetToken(
        user_id=user.id, token_hash=_reset_hash(stored), created_at=now, soort=soort,
        expires_at=now + timedelta(days=current_app.config["INVITATION_DAYS"])))
    return secret


def open_invitation(user_id: int) -> PasswordResetToken | None:
    """The newest invitation of this user that has not been used yet (it may have expired)."""
    return db.session.scalar(select(PasswordResetToken).where(
        PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None),
        PasswordResetToken.soort.in_(("uitnodiging", "code")))
        .order_by(PasswordResetToken.created_at.desc()).limit(1))


def invitation_code_user(email: str, code: str) -> PasswordResetToken | None:
    """The invitation of this e-mail address with this code, if it still works."""
    row = reset_token_user(normal_code(code), ("code",))
    if row is None or row.user.email.lower() != (email or "").strip().lower():
        return None
    return row


def deactivate(user: User) -> None:
    """The account stops working now: every session, API token and open link ends (the caller
    commits)."""
    user.active = False
    end_all_sessions(user)
