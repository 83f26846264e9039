"""Authentication in the model layer: password hashes, sign-in errors, rate limit, tokens, sessions."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import session
from sqlalchemy import func, select

from casework import auth
from casework.extensions import db
from casework.models import ApiToken, LoginAttempt, User, UserSession, utcnow
from casework.services.errors import NotAuthenticated, RateLimited
from factories import make_user
from fake_clock import install_clock


# ------------------------------------------------------------------ passwords

def test_passwords_are_stored_as_argon2id_hashes(demo):
    users = list(db.session.scalars(select(User)))
    assert users
    for user in users:
        assert user.password_hash.startswith("$argon2id$"), user.email
        assert "demo" not in user.password_hash
    hashed = auth.hash_password("Geheim-wachtwoord-1")
    assert hashed.startswith("$argon2id$") and "Geheim-wachtwoord-1" not in hashed
    assert auth.hash_password("Geheim-wachtwoord-1") != hashed  # salted


def test_authenticate_with_the_right_password(demo):
    assert auth.authenticate("leerplicht@voorbeeldstad.test", "demo").id == demo.lpa.id
    # The email is matched without regard to case and surrounding spaces.
    assert auth.authenticate("  Leerplicht@Voorbeeldstad.TEST ", "demo").id == demo.lpa.id


def _refusal(email: str, password: str) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as excinfo:
        auth.authenticate(email, password)
    return excinfo.value


def test_unknown_email_and_wrong_password_get_the_same_answer(demo):
    unknown = _refusal("niemand@voorbeeld.test", "demo")
    wrong = _refusal("leerplicht@voorbeeldstad.test", "fout")
    assert (unknown.status, unknown.code, unknown.message) == (wrong.status, wrong.code, wrong.message)
    assert unknown.status == 401
    assert "niemand" not in unknown.message


def test_inactive_user_refused_with_the_same_answer(demo):
    wrong = _refusal("leerplicht@voorbeeldstad.test", "fout")
    demo.lpa.active = False
    db.session.flush()
    assert _refusal("leerplicht@voorbeeldstad.test", "demo").message == wrong.message


def test_attempts_are_recorded_without_plain_email_and_success_is_marked(demo):
    email = "ouder1@voorbeeld.test"
    for _ in range(3):
        _refusal(email, "fout")
    rows = list(db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)))
    assert [r.succeeded for r in rows] == [False, False, False]
    assert len({r.account for r in rows}) == 1
    stored = db.session.execute(select(LoginAttempt.__table__)).all()
    assert not any("ouder1" in str(value) for line in stored for value in line)
    auth.authenticate(email, "demo")
    rows = list(db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)))
    assert [r.succeeded for r in rows] == [False, False, False, True]


def test_growing_delay_after_the_free_failures(app, demo, monkeypatch):
    assert app.config["LOGIN_ACCOUNT_FREE_FAILURES"] == 5  # the setting's default
    clock = install_clock(monkeypatch)
    email = "ouder2@voorbeeld.test"
    free = app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
    for _ in range(free - 1):
        _refusal(email, "fout")
    assert auth.authenticate(email, "demo").id == demo.ouder2.id  # below the limit: still in
    for _ in range(free):
        _refusal(email, "fout")
    with pytest.raises(RateLimited) as excinfo:
        auth.authenticate(email, "demo")  # even the right password must wait
    assert excinfo.value.status == 429
    assert excinfo.value.extra["retry_after"] == 1
    clock.advance(seconds=1)
    _refusal(email, "fout")  # after the wait the next attempt is checked; it fails again
    with pytest.raises(RateLimited) as excinfo:
        auth.authenticate(email, "demo")
    assert excinfo.value.extra["retry_after"] == 2  # twice as long
    clock.advance(seconds=2)
    assert auth.authenticate(email, "demo").id == demo.ouder2.id
    # Unknown emails are limited too (no way to tell them apart by the answer).
    for _ in range(free):
        _refusal("bestaat-niet@voorbeeld.test", "fout")
    with pytest.raises(RateLimited):
        auth.authenticate("bestaat-niet@voorbeeld.test", "fout")
    # Another account is not affected.
    assert auth.authenticate("ouder1@voorbeeld.test", "demo").id == demo.ouder1.id


def test_delay_is_capped(app, demo, monkeypatch):
    install_clock(monkeypatch)
    email = "ouder2@voorbeeld.test"
    account = auth._keyed("account", email)
    address = auth._keyed("address", auth.client_address())
    now = auth.utcnow()
    db.session.add_all([LoginAttempt(at=now - timedelta(seconds=1), account=account,
                                     address=address, succeeded=False) for _ in range(40)])
    db.session.flush()
    with pytest.raises(RateLimited) as excinfo:
        auth.authenticate(email, "demo")
    assert excinfo.value.extra["retry_after"] == app.config["LOGIN_MAX_DELAY_SECONDS"] - 1


def test_failures_outside_the_window_do_not_count(app, demo):
    email = "ouder2@voorbeeld.test"
    long_ago = utcnow() - timedelta(minutes=app.config["LOGIN_WINDOW_MINUTES"] + 1)
    account = auth._keyed("account", email)
    address = auth._keyed("address", auth.client_address())
    db.session.add_all([LoginAttempt(at=long_ago, account=account, address=address,
                                     succeeded=False) for _ in range(30)])
    db.session.flush()
    assert auth.authenticate(email, "demo").id == demo.ouder2.id
    assert auth.prune_login_attempts() == 30


# ------------------------------------------------------------------ API tokens

def _api_user(app, token: str) -> User:
    with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
        return auth.api_user()


def test_api_token_is_stored_hashed(app, demo):
    token, expires = auth.issue_token(demo.lpa)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.lpa.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, str(row.id))
    stored = db.session.execute(select(ApiToken.__table__)).all()
    assert not any(token in str(value) for line in stored for value in line)
    assert row.expires_at == expires
    assert expires - utcnow() <= timedelta(hours=app.config["API_TOKEN_HOURS"])
    assert _api_user(app, token).id == demo.lpa.id


def test_expired_token_refused(app, demo):
    token, _ = auth.issue_token(demo.lpa)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.lpa.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    with pytest.raises(NotAuthenticated):
        _api_user(app, token)


def test_revoked_token_refused(app, demo):
    token, _ = auth.issue_token(demo.lpa)
    with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
        auth.revoke_current_token()
    with pytest.raises(NotAuthenticated):
        _api_user(app, token)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer onzin", "Basic abc", "bearer  "])
def test_missing_or_unknown_token_refused(app, demo, header):
    auth.issue_token(demo.lpa)
    with app.test_request_context(headers={"Authorization": header} if header else {}):
        with pytest.raises(NotAuthenticated):
            auth.api_user()


def test_token_of_a_deactivated_user_refused(app, demo):
    token, _ = auth.issue_token(demo.lpa)
    demo.lpa.active = False
    db.session.flush()
    with pytest.raises(NotAuthenticated):
        _api_user(app, token)


# ------------------------------------------------------------------ browser sessions

def test_end_session_ends_the_server_side_session(app, demo):
    user = demo.ouder1
    with app.test_request_context():
        auth.start_session(user)
        key, sid = user.get_id(), session["sid"]
        assert auth._load_user(key).id == user.id
        auth.end_session(user)
    # The cookie copied before signing out no longer loads the user: its session row has ended.
    with app.test_request_context():
        session["sid"] = sid
        assert auth._load_user(key) is None
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.ended_at is not None


def test_session_key_of_an_inactive_user_or_a_forged_nonce_loads_nobody(demo):
    user = demo.ouder1
    assert auth._load_user(f"{user.id}:verzonnen") is None
    assert auth._load_user("abc:def") is None
    key = user.get_id()
    user.active = False
    db.session.flush()
    assert auth._load_user(key) is None


def test_new_users_get_distinct_nonces(demo):
    a = make_user("een@voorbeeld.test", "ouder", None)
    b = make_user("twee@voorbeeld.test", "ouder", None)
    assert a.session_nonce and b.session_nonce and a.session_nonce != b.session_nonce
