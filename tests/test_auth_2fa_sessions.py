"""Two-step sign-in (TOTP, recovery codes, the beheerder's reset) and server-side sessions (idle
timeout, absolute lifetime, the sessions page, sign out everywhere). Time is injected through
casework.auth._now; no test sleeps."""
from __future__ import annotations

import re
from datetime import UTC, timedelta
from html import unescape

import pyotp
import pytest
from sqlalchemy import func, select

from casework import auth
from casework.extensions import db
from casework.models import AccessLog, ApiToken, LoginAttempt, User, UserSession, utcnow
from casework.services.cases import commit
from conftest import api_token, otp_code, web_login
from config import TestConfig
from factories import make_user

LPA = "leerplicht@voorbeeldstad.test"
OUDER = "ouder1@voorbeeld.test"
SECRET = TestConfig.DEMO_TOTP_SECRET


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def clock(monkeypatch):
    """The clock of sign-in and sessions, starting now; tests move it forward."""
    now = [utcnow()]
    monkeypatch.setattr(auth, "_now", lambda: now[0])
    return now


def code_at(moment, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=UTC))


def signed_in(client) -> bool:
    response = client.get("/zaken")
    return response.status_code == 200


def password_step(client, email: str, password: str = "demo"):
    return client.post("/inloggen", data={"email": email, "wachtwoord": password})


# ---------------------------------------------------------------- the second step on the web

def test_professional_needs_the_code_after_the_password(client, demo):
    response = password_step(client, LPA)
    assert response.status_code == 302 and response.location == "/inloggen/code"
    assert not signed_in(client)  # the password alone signs nobody in

    page = text(client.get("/inloggen/code"))
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert '<label for="code">Code</label>' in page

    wrong = client.post("/inloggen/code", data={"code": "000000" if otp_code(LPA) != "000000" else "111111"})
    assert wrong.status_code == 422
    assert "De code klopt niet of is al gebruikt." in text(wrong)
    assert not signed_in(client)

    right = client.post("/inloggen/code", data={"code": otp_code(LPA)})
    assert right.status_code == 302 and right.location == "/"
    assert signed_in(client)


def test_only_a_development_demo_shows_the_demo_users_code(app, client, demo, clock, monkeypatch):
    password_step(client, LPA)
    assert "de code is nu" not in text(client.get("/inloggen/code"))  # test: never shown

    monkeypatch.setitem(app.config, "ENV_NAME", "development")
    page = text(client.get("/inloggen/code"))
    assert f"de code is nu {code_at(clock[0])}" in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert client.post("/inloggen/code", data={"code": code_at(clock[0])}).status_code == 302

    other = make_user("eigen@voorbeeldstad.test", "leerplichtambtenaar", demo.voorbeeldstad)
    other.totp_secret = pyotp.random_base32()
    commit()
    client.post("/uitloggen")
    password_step(client, other.email, "test-wachtwoord")
    assert "de code is nu" not in text(client.get("/inloggen/code"))  # a real secret: never shown


def test_a_code_works_only_once(client, demo, clock):
    code = code_at(clock[0])
    password_step(client, LPA)
    assert client.post("/inloggen/code", data={"code": code}).status_code == 302
    client.post("/uitloggen")

    password_step(client, LPA)
    replay = client.post("/inloggen/code", data={"code": code})
    assert replay.status_code == 422 and "al gebruikt" in text(replay)
    assert not signed_in(client)
    # The next time step's code works.
    clock[0] += timedelta(seconds=30)
    assert client.post("/inloggen/code", data={"code": code_at(clock[0])}).status_code == 302


def test_the_code_page_needs_the_password_first(client, demo):
    response = client.post("/inloggen/code", data={"code": otp_code(LPA)})
    assert response.status_code == 302 and response.location == "/inloggen"
    assert not signed_in(client)


def test_wrong_codes_count_as_failed_sign_ins(client, app, demo):
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        assert password_step(client, LPA).status_code == 302  # the right password each time
        assert client.post("/inloggen/code", data={"code": "12345x"}).status_code == 422
    # Knowing the password does not reset the count: the next attempt must wait.
    assert not db.session.scalar(select(func.count()).where(LoginAttempt.succeeded.is_(True)))
    password = password_step(client, LPA)
    assert password.status_code == 429 and int(password.headers["Retry-After"]) >= 1
    assert not signed_in(client)


def test_a_refused_code_answers_429_and_only_the_whole_sign_in_succeeds(client, app, demo):
    assert password_step(client, LPA).status_code == 302
    # The right password alone marks nothing as a successful sign-in.
    assert not db.session.scalar(select(func.count()).where(LoginAttempt.succeeded.is_(True)))
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        client.post("/inloggen/code", data={"code": "12345x"})
    refused = client.post("/inloggen/code", data={"code": otp_code(LPA)})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert not signed_in(client)
    api = client.post("/api/v1/auth/token", json={"email": LPA, "password": "demo", "otp": otp_code(LPA)})
    assert api.status_code == 429 and api.headers["Retry-After"]


def test_the_sign_in_succeeds_at_the_code(client, demo):
    password_step(client, LPA)
    assert client.post("/inloggen/code", data={"code": otp_code(LPA)}).status_code == 302
    assert [a.succeeded for a in db.session.scalars(select(LoginAttempt))] == [True]


def test_api_wrong_codes_count_and_the_delay_answers_429(client, app, demo):
    body = {"email": LPA, "password": "demo"}
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        assert client.post("/api/v1/auth/token", json=body | {"otp": "99999a"}).status_code == 401
    refused = client.post("/api/v1/auth/token", json=body | {"otp": otp_code(LPA)})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


# ---------------------------------------------------------------- the API

def test_api_token_needs_the_code_for_a_professional(client, demo, clock):
    body = {"email": LPA, "password": "demo"}
    missing = client.post("/api/v1/auth/token", json=body)
    assert missing.status_code == 401
    assert missing.get_json()["fields"]["otp"] == [
        "Vul in het veld otp de code van 6 cijfers uit uw authenticator-app in."]

    wrong = client.post("/api/v1/auth/token", json=body | {"otp": "99999a"})
    assert wrong.status_code == 401 and "De code klopt niet" in wrong.get_json()["message"]

    code = code_at(clock[0])
    ok = client.post("/api/v1/auth/token", json=body | {"otp": code})
    assert ok.status_code == 200, ok.get_json()
    replay = client.post("/api/v1/auth/token", json=body | {"otp": code})
    assert replay.status_code == 401 and replay.get_json()["fields"]["otp"]


def test_professional_without_second_step_gets_no_token(client, demo):
    demo.lpa.totp_secret = None
    commit()
    response = client.post("/api/v1/auth/token", json={"email": LPA, "password": "demo", "otp": "123456"})
    assert response.status_code == 401
    assert "Stel eerst tweestapsverificatie in" in response.get_json()["message"]


def test_parent_signs_in_with_the_password_only(client, demo):
    response = password_step(client, OUDER)
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/mijn-kinderen").status_code == 200
    response = client.post("/api/v1/auth/token", json={"email": OUDER, "password": "demo"})
    assert response.status_code == 200


# ---------------------------------------------------------------- enrolment and recovery codes

def _new_professional(demo, email="nieuw@voorbeeldstad.test") -> User:
    user = make_user(email, "leerplichtambtenaar", demo.voorbeeldstad, naam="Nieuwe Collega")
    user.totp_secret = user.totp_enrolled_at = None
    commit()
    return user


def _enrol(client, user: User, url: str, moment) -> list[str]:
    page = text(client.get(url))
    assert "<svg" in page and "QR-code" in page  # the QR code, inline
    db.session.refresh(user)
    secret = user.totp_pending_secret
    assert " ".join(secret[i:i + 4] for i in range(0, 32, 4)) in page  # and the key as text
    wrong = client.post(url, data={"code": "000000" if code_at(moment, secret) != "000000" else "111111"})
    assert wrong.status_code == 422
    done = client.post(url, data={"code": code_at(moment, secret)})
    assert done.status_code == 200 and "Uw herstelcodes" in text(done)
    return re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", text(done))


def test_professional_must_enrol_before_anything_and_recovery_codes_work_once(client, demo, clock, tmp_path):
    user = _new_professional(demo)
    response = client.post("/inloggen", data={"email": user.email, "wachtwoord": "test-wachtwoord"})
    assert response.status_code == 302 and response.location == "/inloggen/instellen"
    assert not signed_in(client)

    codes = _enrol(client, user, "/inloggen/instellen", clock[0])
    assert len(codes) == 10 and len(set(codes)) == 10
    assert signed_in(client)
    assert user.totp_enrolled_at is not None and user.totp_secret

    client.post("/uitloggen")
    client.post("/inloggen", data={"email": user.email, "wachtwoord": "test-wachtwoord"})
    assert client.post("/inloggen/code", data={"code": codes[3]}).status_code == 302
    assert signed_in(client)
    client.post("/uitloggen")

    client.post("/inloggen", data={"email": user.email, "wachtwoord": "test-wachtwoord"})
    again = client.post("/inloggen/code", data={"code": codes[3].upper()})
    assert again.status_code == 422
    assert not signed_in(client)


def test_parent_may_turn_on_the_second_step(client, demo, clock):
    web_login(client, OUDER)
    assert "Staat uit" in text(client.get("/account"))
    _enrol(client, demo.ouder1, "/account/tweestaps", clock[0])
    client.post("/uitloggen")

    response = password_step(client, OUDER)
    assert response.status_code == 302 and response.location == "/inloggen/code"
    no_otp = client.post("/api/v1/auth/token", json={"email": OUDER, "password": "demo"})
    assert no_otp.status_code == 401 and "otp" in no_otp.get_json()["fields"]


# ---------------------------------------------------------------- the beheerder's reset

def test_beheerder_resets_the_second_step_of_a_user_of_the_gemeente(app, client, demo):
    headers = api_token(client, LPA)
    lpa_client = app.test_client()
    web_login(lpa_client, LPA)
    assert signed_in(lpa_client)

    web_login(client, "beheer@voorbeeldstad.test")
    assert "Femke de Leeuw" in text(client.get("/beheer/gebruikers"))
    response = client.post(f"/beheer/gebruikers/{demo.lpa.id}/tweestaps-herstellen")
    assert response.status_code == 302

    db.session.refresh(demo.lpa)
    assert demo.lpa.totp_secret is None
    assert not signed_in(lpa_client)  # the LPA's sessions and tokens ended
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    event = db.session.scalar(select(AccessLog).where(
        AccessLog.user_id == demo.beheerder.id, AccessLog.what == f"tweestaps_hersteld:{demo.lpa.id}"))
    assert event is not None and event.kind == "beveiliging"
    # The next sign-in sets it up again.
    assert password_step(lpa_client, LPA).location == "/inloggen/instellen"


def test_beheerder_of_another_gemeente_cannot_reset(client, demo):
    make_user("beheer@buurdorp.test", "beheerder", demo.buurdorp)
    client.post("/inloggen", data={"email": "beheer@buurdorp.test", "wachtwoord": "test-wachtwoord"})
    client.post("/inloggen/code", data={"code": otp_code("beheer@buurdorp.test")})
    assert "Femke de Leeuw" not in text(client.get("/beheer/gebruikers"))
    assert client.post(f"/beheer/gebruikers/{demo.lpa.id}/tweestaps-herstellen").status_code == 404
    db.session.refresh(demo.lpa)
    assert demo.lpa.totp_secret is not None


def test_only_a_beheerder_resets(client, demo):
    web_login(client, LPA)
    assert client.post(f"/beheer/gebruikers/{demo.school.id}/tweestaps-herstellen").status_code == 403


# ---------------------------------------------------------------- sessions

def test_idle_timeout_for_professionals_and_parents(app, client, demo, clock):
    web_login(client, LPA)
    clock[0] += timedelta(minutes=14)
    assert signed_in(client)  # activity: the idle time starts again
    clock[0] += timedelta(minutes=15, seconds=30)
    response = client.get("/zaken")
    assert response.status_code == 302 and response.location.startswith("/inloggen")
    assert "Uw sessie is verlopen" in text(client.get("/inloggen"))
    clock[0] -= timedelta(hours=1)
    assert not signed_in(client)  # ended for good, not only too late

    parent = app.test_client()
    web_login(parent, OUDER)
    clock[0] += timedelta(minutes=29)
    assert parent.get("/mijn-kinderen").status_code == 200
    clock[0] += timedelta(minutes=31)
    assert parent.get("/mijn-kinderen").status_code == 302


def test_keep_alive_keeps_the_session(client, demo, clock):
    web_login(client, LPA)
    page = text(client.get("/verzuim/nieuw"))  # a page with a form
    assert 'data-sessie-idle="900"' in page and 'id="sessie-waarschuwing"' in page
    assert 'aria-live="assertive"' in page and "Ik ben er nog" in page
    clock[0] += timedelta(minutes=14)
    response = client.post("/sessie/verlengen")
    assert response.status_code == 200 and response.get_json() == {"ok": True, "idle_seconds": 900}
    clock[0] += timedelta(minutes=14)
    assert signed_in(client)


def test_absolute_lifetime(client, demo, clock):
    web_login(client, LPA)
    for _ in range(12 * 6 - 1):  # busy all day: a request every 10 minutes
        clock[0] += timedelta(minutes=10)
        assert signed_in(client)
    clock[0] += timedelta(minutes=11)  # 12 hours and a minute after signing in
    assert not signed_in(client)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == demo.lpa.id))
    assert row.ended_at is not None and row.ended_at - row.created_at >= timedelta(hours=12)


def test_sign_out_everywhere_ends_other_sessions_and_tokens(app, client, demo):
    headers = api_token(client, LPA)
    other = app.test_client()
    web_login(other, LPA, headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"})
    web_login(client, LPA)

    page = text(client.get("/account"))
    assert "Firefox op Windows" in page and "(deze sessie)" in page
    assert "Geldige API-tokens" in page and "Geen geldige tokens." not in page

    response = client.post("/account/overal-afmelden")
    assert response.status_code == 302 and response.location == "/inloggen"
    assert not signed_in(client) and not signed_in(other)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_sign_out_revokes_the_tokens_only_when_asked(app, client, demo):
    headers = api_token(client, LPA)
    web_login(client, LPA)
    client.post("/uitloggen")
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    web_login(client, LPA)
    response = client.post("/uitloggen", data={"tokens_intrekken": "1"})
    assert "Uw API-tokens zijn ingetrokken" in text(client.get(response.location))
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.lpa.id)).revoked_at


def test_a_deactivated_user_is_signed_out_at_once(client, demo):
    web_login(client, LPA)
    assert signed_in(client)
    demo.lpa.active = False
    commit()
    assert not signed_in(client)


def test_totp_not_required_lets_an_unenrolled_professional_in(client, app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", False)
    user = _new_professional(demo)
    response = client.post("/inloggen", data={"email": user.email, "wachtwoord": "test-wachtwoord"})
    assert response.status_code == 302 and response.location == "/"
