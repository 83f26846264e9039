"""Passwords (rules, change, reset by mail through a real SMTP sink) and sign-in delays per account
and per client address (no lockout by others, password spraying slowed, across processes)."""
from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy as email_policy
from html import unescape

import pytest
from aiosmtpd.controller import Controller
from flask import g, has_app_context
from sqlalchemy import func, select

from casework import create_app
from casework.extensions import db
from casework.models import ApiToken, PasswordResetToken, User
from conftest import PG_URL, fresh_postgres_database_url, make_app, otp_code, web_login
from fake_clock import install_clock

OUDER1 = "ouder1@voorbeeld.test"
OUDER2 = "ouder2@voorbeeld.test"
LPA = "leerplicht@voorbeeldstad.test"
GOOD = "fiets door de duinen naar zee"  # 29 characters, not common
ADDRESS_A, ADDRESS_B, ADDRESS_C = "203.0.113.10", "198.51.100.20", "192.0.2.30"


def page(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def login(client, email, password="demo", address="127.0.0.1"):
    """The whole web sign-in (with the code of the second step where the user has one)."""
    return web_login(client, email, password, environ_base={"REMOTE_ADDR": address})


def token(client, email, password="demo", address="127.0.0.1"):
    return client.post("/api/v1/auth/token",
                       json={"email": email, "password": password,
                             "otp": otp_code(email) if has_app_context() else ""},
                       environ_base={"REMOTE_ADDR": address})


def forget_loaded_user() -> None:
    """The tests run inside one app context, where Flask-Login keeps the user it loaded (g);
    a real request has its own. Forget it so the next request loads its user from its cookie."""
    g.pop("_login_user", None)


def change(client, current, new, again=None):
    return client.post("/account/wachtwoord",
                       data={"huidig": current, "nieuw": new, "herhaal": new if again is None else again})


# ------------------------------------------------------------------ a real SMTP sink


class _Sink:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """aiosmtpd on localhost at a random port; the app's SMTP settings point at it."""
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_FROM", "noreply@casework.test")
    try:
        yield sink
    finally:
        controller.stop()


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/wachtwoord-herstellen/\S+)", text).group(1)


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize("password, expected", [
    ("kort", "te kort: gebruik minimaal 12 tekens (u gebruikte er 4)"),
    ("elf tekens!", "te kort: gebruik minimaal 12 tekens (u gebruikte er 11)"),
    ("wachtwoord123", "veel gebruikt"),
    ("Welkom12345678", "veel gebruikt"),
    ("QWERTY123456", "veel gebruikt"),  # case does not matter
    ("P@ssw0rd2026!", "veel gebruikt"),
    ("aaaaaaaaaaaaaaaa", "veel gebruikt"),
    ("Karim de Vries", "niet uw e-mailadres of naam"),
])
def test_weak_new_password_refused_with_a_dutch_message(client, password, expected):
    login(client, OUDER2)
    response = change(client, "demo", password)
    assert response.status_code == 422
    assert expected in page(response)
    assert token(client, OUDER2).status_code == 200  # nothing changed


@pytest.mark.parametrize("length", [12, 64, 128])
def test_long_passwords_accepted(client, length):
    password = ("Het leerplichtspreekuur begint om negen uur " * 4)[:length]
    assert len(password) == length
    login(client, OUDER2)
    response = change(client, "demo", password)
    assert response.status_code == 302, page(response)
    assert token(client, OUDER2, password).status_code == 200


def test_password_over_128_characters_refused(client):
    login(client, OUDER2)
    response = change(client, "demo", ("Een lange zin over de school " * 5)[:129])
    assert response.status_code == 422
    assert "te lang: gebruik maximaal 128 tekens (u gebruikte er 129)" in page(response)


def test_common_list_is_shipped_and_large():
    from casework.passwords import common_passwords

    common = common_passwords()
    assert len(common) >= 10_000
    assert {"wachtwoord", "welkom123", "123456", "password", "feyenoord"} <= common
    assert all(p == p.lower() for p in common)


# ------------------------------------------------------------------ change


def test_change_password_ends_other_sessions_and_tokens(app, client):
    other = app.test_client()
    assert login(other, OUDER1).status_code == 302
    api = {"Authorization": f"Bearer {token(client, OUDER1).get_json()['token']}"}
    assert client.get("/api/v1/cases", headers=api).status_code == 200
    login(client, OUDER1)

    wrong = change(client, "niet-mijn-wachtwoord", GOOD)
    assert wrong.status_code == 422 and "Uw huidige wachtwoord klopt niet." in page(wrong)
    mismatch = change(client, "demo", GOOD, GOOD + "x")
    assert mismatch.status_code == 422 and "niet hetzelfde" in page(mismatch)

    response = change(client, "demo", GOOD)
    assert response.status_code == 302
    forget_loaded_user()
    assert client.get("/zaken").status_code == 200  # this browser stays signed in
    forget_loaded_user()
    assert other.get("/zaken").status_code == 302  # the other browser is signed out
    assert client.get("/api/v1/cases", headers=api).status_code == 401  # the token is revoked
    assert token(client, OUDER1).status_code == 401  # the old password stops working
    assert token(client, OUDER1, GOOD).status_code == 200


def test_change_page_needs_a_session(client):
    response = client.get("/account/wachtwoord")
    assert response.status_code == 302 and "/inloggen" in response.location


# ------------------------------------------------------------------ reset by mail


def test_reset_by_mail_works_once(app, client, smtp):
    api = {"Authorization": f"Bearer {token(client, OUDER1).get_json()['token']}"}
    response = client.post("/wachtwoord-vergeten", data={"email": " Ouder1@Voorbeeld.test "})
    assert response.status_code == 200 and "Kijk in uw e-mail" in page(response)
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == OUDER1 and mail["From"] == "noreply@casework.test"
    assert mail["Subject"] == "Nieuw wachtwoord voor Casework"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Beste Petra Jansen" in text and "werkt 60 minuten en maar één keer" in text
    assert "Heeft u dit niet zelf gevraagd?" in text and 'lang="nl"' in html
    link = _link(mail)
    assert link in html
    raw = link.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.execute(select(PasswordResetToken.__table__)).all()
    assert stored and not any(raw in str(value) for row in stored for value in row)  # hashed

    assert client.get(link).status_code == 200
    weak = client.post(link, data={"nieuw": "welkom123456", "herhaal": "welkom123456"})
    assert weak.status_code == 422 and "veel gebruikt" in page(weak)
    done = client.post(link, data={"nieuw": GOOD, "herhaal": GOOD})
    assert done.status_code == 302 and done.location.endswith("/inloggen")
    assert token(client, OUDER1).status_code == 401
    assert token(client, OUDER1, GOOD).status_code == 200
    assert client.get("/api/v1/cases", headers=api).status_code == 401  # old tokens revoked

    again = client.get(link)
    assert again.status_code == 404 and "Deze link werkt niet meer" in page(again)
    assert client.post(link, data={"nieuw": "nog een ander wachtwoord", "herhaal":
                                   "nog een ander wachtwoord"}).status_code == 404
    assert token(client, OUDER1, GOOD).status_code == 200  # unchanged by the second try


def test_reset_link_expires(app, client, smtp, monkeypatch):
    clock = install_clock(monkeypatch)
    client.post("/wachtwoord-vergeten", data={"email": OUDER2})
    link = _link(smtp.messages[-1])
    clock.advance(minutes=app.config["PASSWORD_RESET_MINUTES"] - 1)
    assert client.get(link).status_code == 200
    clock.advance(minutes=2)
    assert client.get(link).status_code == 404
    assert client.post(link, data={"nieuw": GOOD, "herhaal": GOOD}).status_code == 404
    assert token(client, OUDER2).status_code == 200  # the password did not change


def test_same_answer_for_unknown_email_and_no_mail(client, smtp):
    known = client.post("/wachtwoord-vergeten", data={"email": OUDER2})
    unknown = client.post("/wachtwoord-vergeten", data={"email": "niemand@voorbeeld.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert [m["To"] for m in smtp.messages] == [OUDER2]
    # Asking again within 5 minutes answers the same, but sends no second mail.
    again = client.post("/wachtwoord-vergeten", data={"email": OUDER2})
    assert again.get_data() == known.get_data() and len(smtp.messages) == 1


def test_link_uses_the_public_url_not_the_host_header(app, client, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://casework.gemeente.test")
    client.post("/wachtwoord-vergeten", data={"email": OUDER2},
                headers={"Host": "evil.example"})
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    assert "https://casework.gemeente.test/wachtwoord-herstellen/" in text
    assert "evil.example" not in text


def test_demo_password_still_loads_for_demo_users(app, demo):
    from casework.demo import load_demo

    load_demo()  # hash_password, not the rules: "demo" stays the demo users' password
    assert db.session.scalar(select(User).where(User.email == OUDER2)).password_hash


# ------------------------------------------------------------------ delays, no lockout


def test_failures_elsewhere_do_not_lock_the_user_out_of_a_known_address(app, client, monkeypatch):
    clock = install_clock(monkeypatch)
    assert login(client, OUDER2, address=ADDRESS_B).status_code == 302  # the user's own computer
    client.post("/uitloggen")
    # Ten wrong passwords from address A; the attacker waits out each delay.
    failures = refusals = 0
    while failures < 10:
        response = token(client, OUDER2, "geraden", address=ADDRESS_A)
        if response.status_code == 429:
            refusals += 1
            clock.advance(seconds=int(response.headers["Retry-After"]))
        else:
            assert response.status_code == 401
            failures += 1
    assert refusals == 10 - app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
    refused = token(client, OUDER2, "geraden", address=ADDRESS_A)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # A never-seen address must wait as the attacker does (at most LOGIN_MAX_DELAY_SECONDS).
    web = login(client, OUDER2, address=ADDRESS_C)
    assert web.status_code == 429
    assert 0 < int(web.headers["Retry-After"]) <= app.config["LOGIN_MAX_DELAY_SECONDS"]
    assert re.search(r"probeer het over \d+ (seconden|minuten|minuut|seconde) opnieuw", page(web))
    # The user at the known address signs in at once, on the web and the API.
    assert login(client, OUDER2, address=ADDRESS_B).status_code == 302
    client.post("/uitloggen")
    assert token(client, OUDER2, address=ADDRESS_B).status_code == 200
    # The attacker stays slowed down; once the user has signed in, a new address is free again.
    assert token(client, OUDER2, "geraden", address=ADDRESS_A).status_code == 429
    assert token(client, OUDER2, address=ADDRESS_C).status_code == 200


def test_password_spraying_from_one_address_is_slowed(app, client, monkeypatch):
    install_clock(monkeypatch)
    free = app.config["LOGIN_ADDRESS_FREE_FAILURES"]
    accounts = [f"medewerker{i}@voorbeeldstad.test" for i in range(free)]
    for email in accounts:
        assert token(client, email, "Welkom2026!", address=ADDRESS_A).status_code == 401
    refused = token(client, LPA, "Welkom2026!", address=ADDRESS_A)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.get_json()["retry_after"] == 1
    assert "te vaak een verkeerd wachtwoord" in refused.get_json()["message"]
    # The accounts themselves and other addresses are not slowed.
    assert token(client, LPA, address=ADDRESS_B).status_code == 200


@pytest.mark.no_transaction
def test_limit_holds_across_two_app_instances(tmp_path, monkeypatch):
    url = fresh_postgres_database_url("casework_login_two_apps") if PG_URL else \
        f"sqlite:///{tmp_path}/shared.db"
    first = make_app(tmp_path, url)
    second = create_app({**first.config})
    try:
        install_clock(monkeypatch)
        one, two = first.test_client(), second.test_client()
        for i in range(first.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
            client = one if i % 2 else two
            assert token(client, OUDER2, "fout", address=ADDRESS_A).status_code == 401
        assert token(one, OUDER2, address=ADDRESS_A).status_code == 429
        assert token(two, OUDER2, address=ADDRESS_A).status_code == 429
    finally:
        for app in (first, second):
            with app.app_context():
                db.session.remove()
            db.state(app).engine.dispose()


def test_concurrent_attempts_see_each_other(app, demo, monkeypatch):
    """Attempts that passed the first check at the same moment: only the earlier rows count."""
    from casework import auth
    from casework.models import LoginAttempt
    from casework.services.errors import RateLimited

    install_clock(monkeypatch)
    free = app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
    real_wait = auth._wait_seconds
    calls = []

    def first_check_sees_nothing(account, address, now, before_id):
        calls.append(before_id)
        if before_id is None:
            return 0  # as if the other attempts had not been written yet
        return real_wait(account, address, now, before_id)

    monkeypatch.setattr(auth, "_wait_seconds", first_check_sees_nothing)
    account = auth._keyed("account", OUDER2)
    address = auth._keyed("address", auth.client_address())
    db.session.add_all([LoginAttempt(at=auth.utcnow(), account=account, address=address,
                                     succeeded=False) for _ in range(free)])
    db.session.commit()
    with pytest.raises(RateLimited):
        auth.authenticate(OUDER2, "demo")
    assert calls[-1] is not None
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == free


def test_api_token_revocation_row_kept(app, client):
    """Revoked tokens stay as rows (revoked_at set): the token table keeps its history."""
    token(client, OUDER2)
    login(client, OUDER2)
    change(client, "demo", GOOD)
    with app.app_context():
        rows = list(db.session.scalars(select(ApiToken).join(User).where(User.email == OUDER2)))
    assert rows and all(r.revoked_at is not None for r in rows)


def test_mail_in_the_background_after_the_answer(app, client, smtp, monkeypatch):
    import threading

    monkeypatch.setitem(app.config, "MAIL_IN_BACKGROUND", True)
    response = client.post("/wachtwoord-vergeten", data={"email": OUDER2})
    assert response.status_code == 200
    for thread in threading.enumerate():
        if thread.name == "casework-mail":
            thread.join(timeout=10)
    assert [m["To"] for m in smtp.messages] == [OUDER2]


def test_smtp_server_down_gives_the_same_answer(app, client, monkeypatch):
    unknown = client.post("/wachtwoord-vergeten", data={"email": "niemand@voorbeeld.test"})
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", _free_port())  # nobody listens there
    known = client.post("/wachtwoord-vergeten", data={"email": OUDER2})
    assert known.status_code == 200 and known.get_data() == unknown.get_data()
