"""Shared fixtures: one app per test session on a migrated database with the demo data;
each test runs inside a transaction that is rolled back (savepoints for the app's commits).

The database is SQLite by default; set CASEWORK_TEST_DATABASE_URL to a PostgreSQL URL
(scripts/test.sh does) to run the same suite against a real PostgreSQL server.
"""
from __future__ import annotations

import os
import uuid
from contextlib import nullcontext

import pyotp
import pytest
from flask import g, request_started
from sqlalchemy import create_engine, func, select, text, update

from casework import create_app
from casework.extensions import db, queue
from config import TestConfig

PG_URL = os.environ.get("CASEWORK_TEST_DATABASE_URL")
# The two-role set-up (scripts/test.sh creates both roles): CASEWORK_TEST_DATABASE_URL connects
# as the owner role, which migrates; the app then connects as this role, which may not change
# or delete audit rows, nor alter or drop any table.
PG_APP_ROLE = os.environ.get("CASEWORK_TEST_APP_ROLE")


def database_settings(database_url: str) -> dict:
    """DATABASE_URL for the app and, on PostgreSQL with an app role, the owner URL for migrations."""
    if not (PG_APP_ROLE and database_url.startswith("postgresql")):
        return {"DATABASE_URL": database_url}
    from sqlalchemy.engine import make_url

    app_url = make_url(database_url).set(username=PG_APP_ROLE, password=None)
    return {"DATABASE_URL": app_url.render_as_string(hide_password=False),
            "MIGRATION_DATABASE_URL": database_url, "DATABASE_APP_ROLE": PG_APP_ROLE}
# Production is the default outside the scripts; the tests run as test (as scripts/test.sh says).
os.environ.setdefault("CASEWORK_ENV", "test")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(tmp_dir, database_url: str | None = None, **overrides):
    """A fully migrated app with demo data on its own database."""
    from casework.cli import upgrade_database
    from casework.demo import load_demo

    if database_url is None:
        database_url = f"sqlite:///{tmp_dir}/casework-{uuid.uuid4().hex[:8]}.db"
    elif database_url.startswith("postgresql"):
        _reset_postgres(database_url)
    cfg = TestConfig.from_env()
    cfg.update(**{**database_settings(database_url), "QUEUE_BACKEND": "memory", **overrides})
    app = create_app(cfg)
    with app.app_context():
        upgrade_database()
        load_demo()
    request_started.connect(_forget_request_user, app)
    _MADE_APPS.append(app)
    return app


def _forget_request_user(sender, **extra) -> None:
    """A test's app context (and so `g`) outlives each request of the test client; the user that
    Flask-Login caches in `g` is per request, as in the running app."""
    g.pop("_login_user", None)
    g.pop("user_session", None)


_MADE_APPS: list = []


def latest_app():
    """The app make_app built last (the one a browser test's server runs)."""
    return _MADE_APPS[-1]


def fresh_postgres_database_url(name: str) -> str:
    """A brand-new PostgreSQL database next to the test database (for tests that really commit),
    named after it, so that runs on different test databases of one server never meet."""
    from sqlalchemy.engine import make_url

    name = f"{make_url(PG_URL).database}_{name}"
    base = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with base.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base.dispose()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("db"), PG_URL)
    yield app
    db.state(app).engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Every test in a transaction that is rolled back; the app's commits become savepoints."""
    saved_queue = (queue.huey.storage, queue.app)
    if "no_transaction" in request.keywords:
        try:
            yield
        finally:
            queue.huey.storage, queue.app = saved_queue  # a test's own app takes the queue over
        return
    state = db.state(app)
    with app.app_context():
        connection = state.engine.connect()
        outer = connection.begin()
        db.session.remove()
        state.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
        queue.huey.flush()
        try:
            yield
        finally:
            db.session.remove()
            state.sessionmaker.configure(bind=state.engine,
                                         join_transaction_mode="conservative_savepoint")
            outer.rollback()
            connection.close()
            queue.huey.storage, queue.app = saved_queue
            queue.huey.flush()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app_ctx):
    """The demo users, organisations and children by short name."""
    from factories import demo_namespace

    return demo_namespace()


def otp_code(email: str, app=None) -> str:
    """The code a demo professional's authenticator app shows now (the demo TOTP secret).

    A code works once per 30-second step, so the user's last used step is forgotten first: a test
    may sign the same demo user in several times. `app`: another app than the test's (browser tests).
    """
    from casework.models import User

    with app.app_context() if app is not None else nullcontext():
        db.session.execute(update(User).where(func.lower(User.email) == email.strip().lower())
                           .values(totp_last_step=None))
        db.session.commit()
    return pyotp.TOTP(TestConfig.DEMO_TOTP_SECRET).now()


def web_login(client, email: str, password: str = "demo", **kwargs):
    """Sign in on the web like a person: password, then (when asked) the code from the app.
    Returns the last response (a 302 onwards when it worked)."""
    response = client.post("/inloggen", data={"email": email, "wachtwoord": password}, **kwargs)
    if response.status_code == 302 and response.location.startswith("/inloggen/code"):
        again = {k: kwargs[k] for k in ("headers", "environ_base") if k in kwargs}
        response = client.post("/inloggen/code", data={"code": otp_code(email)}, **again)
    return response


def web_signed_in(client, email: str):
    """Sign in on the web (both steps) and insist it worked; returns the client."""
    response = web_login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def api_token(client, email: str, password: str = "demo") -> dict:
    """Authorization headers for a demo user, obtained through the real token endpoint (with the
    code of the second step; a parent without it ignores the field)."""
    response = client.post("/api/v1/auth/token",
                           json={"email": email, "password": password, "otp": otp_code(email)})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def auth_headers(client):
    return lambda email: api_token(client, email)


def render_pending() -> list:
    """Render every pending letter now, the way the worker does."""
    from casework.letters.tasks import render_letter_now
    from casework.models import Letter

    ids = list(db.session.scalars(select(Letter.id).where(Letter.status == "pending")))
    return [render_letter_now(i) for i in ids]
