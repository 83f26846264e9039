"""Forgotten password in a real headless Chromium: the mail arrives in a real SMTP sink
(aiosmtpd on localhost), the browser follows its link, chooses a new password and signs in."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller

from casework.extensions import db, queue
from test_browser import serve
from test_passwords_bruteforce import _free_port, _Sink

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

NEW = "mijn fiets staat achter het gemeentehuis"


@pytest.fixture
def sink():
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.port = port
    try:
        yield sink
    finally:
        controller.stop()


@contextmanager
def mail_app(tmp_path, sink, database: str):
    """A second app on a fresh database (PostgreSQL: `database`) that sends its mail to the sink."""
    from conftest import PG_URL, fresh_postgres_database_url, make_app

    saved = queue.huey.storage, queue.app, queue.huey.immediate
    url = fresh_postgres_database_url(database) if PG_URL else None
    browser_app = make_app(tmp_path, url, WTF_CSRF_ENABLED=True, SMTP_HOST="127.0.0.1",
                           SMTP_PORT=sink.port)
    try:
        yield browser_app
    finally:
        db.state(browser_app).engine.dispose()
        queue.huey.storage, queue.app, queue.huey.immediate = saved


@pytest.fixture
def server(app, tmp_path, sink):
    with mail_app(tmp_path, sink, "casework_browser_wachtwoord") as browser_app, serve(browser_app) as base_url:
        yield base_url


@pytest.fixture
def page(server):
    from test_browser import launch_chromium

    with launch_chromium() as browser:
        context = browser.new_context(base_url=server, locale="nl-NL")
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()


def test_forgotten_password_through_the_mail(page, sink):
    from playwright.sync_api import expect

    page.goto("/inloggen")
    page.get_by_role("link", name="Wachtwoord vergeten?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wachtwoord vergeten")
    page.get_by_label("E-mailadres").fill("ouder2@voorbeeld.test")
    page.get_by_role("button", name="Stuur mij een link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")

    assert len(sink.messages) == 1
    text = sink.messages[0].get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/wachtwoord-herstellen/\S+", text).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Nieuw wachtwoord kiezen")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("welkom12345")
    page.get_by_label("Nieuw wachtwoord nog een keer").fill("welkom12345")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.locator(".field-error")).to_contain_text("te kort")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW)
    page.get_by_label("Nieuw wachtwoord nog een keer").fill(NEW)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Uw nieuwe wachtwoord is ingesteld")

    page.get_by_label("E-mailadres").fill("ouder2@voorbeeld.test")
    page.get_by_label("Wachtwoord", exact=True).fill(NEW)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("status")).to_contain_text("U bent ingelogd als Karim de Vries")
    page.goto(link)  # the link worked once
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet meer")
