"""The web UI in a real headless Chromium (Playwright), against a real server thread and database.

The app gets its own database (demo data, real commits) because the usual rolled-back test
transaction cannot be shared with the server's threads.
"""
from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.extensions import db, queue
from casework.letters.render import LETTER_KINDS

CHROMIUM = os.environ.get("CASEWORK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


@pytest.fixture
def browser_app(app, tmp_path):
    """A second app on a fresh database. The letter queue is module-wide, so the test app's
    queue storage is put back afterwards."""
    from conftest import PG_URL, fresh_postgres_database_url, make_app

    saved = queue.huey.storage, queue.app, queue.huey.immediate
    url = fresh_postgres_database_url("casework_browser") if PG_URL else None
    browser = make_app(tmp_path, url, WTF_CSRF_ENABLED=True)  # real CSRF tokens in the browser
    try:
        yield browser
    finally:
        db.state(browser).engine.dispose()
        queue.huey.storage, queue.app, queue.huey.immediate = saved


@contextmanager
def serve(wsgi_app, name: str = "casework-test-server"):
    """The app on a real HTTP server in a thread on a free port; yields its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # keep the test output readable
            pass

    srv = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=srv.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


@pytest.fixture
def server(browser_app):
    with serve(browser_app) as url:
        yield url


@contextmanager
def launch_chromium():
    """Debian's Chromium, headless, through Playwright (the test is skipped where it is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (set CASEWORK_CHROMIUM); "
                    "browser downloads are not possible")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(server):
    with launch_chromium() as browser:
        context = browser.new_context(base_url=server, locale="nl-NL", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()


def log_in(page, email: str) -> None:
    page.goto("/")
    assert "/inloggen" in page.url
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill("demo")
    page.get_by_label("Wachtwoord").press("Enter")  # submit with the keyboard
    page.wait_for_load_state()
    if "/inloggen/code" in page.url:  # the second step: the code from the authenticator app
        from conftest import latest_app, otp_code

        page.get_by_label("Code").fill(otp_code(email, latest_app()))
        page.get_by_label("Code").press("Enter")
        page.wait_for_load_state()
    assert "/inloggen" not in page.url


def log_out(page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(re.compile(r"/inloggen$"))
    assert page.get_by_text("U bent uitgelogd.").is_visible()


def render_letters(browser_app) -> list[str]:
    from casework.letters.tasks import render_letter_now
    from casework.models import Letter

    with browser_app.app_context():
        ids = list(db.session.scalars(select(Letter.id).where(Letter.status == "pending")))
        return [render_letter_now(i) for i in ids]


def test_kennisgeving_to_in_behandeling_in_a_real_browser(page, browser_app):
    from playwright.sync_api import expect

    # Keyboard: the first Tab from the top of a page lands on the skip link, which jumps to main.
    page.goto("/inloggen")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]")
    assert focused == ["Naar de inhoud", "#inhoud"]
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_visible()  # shown while focused
    page.keyboard.press("Enter")
    assert page.url.endswith("#inhoud")

    # The parent files a kennisgeving for Sam.
    log_in(page, "ouder1@voorbeeld.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn kinderen")
    page.get_by_role("link", name="Beroep doen op vrijstelling voor Sam Jansen").click()
    expect(page.get_by_label("Voor welk kind?")).to_have_value(re.compile(r"\d+"))
    assert "Sam Jansen" in page.get_by_label("Voor welk kind?").evaluate("s => s.selectedOptions[0].text")
    page.get_by_label("Schooljaar").select_option(index=1)  # next school year: on time
    page.get_by_label("Waarom kan uw kind niet naar school?").fill(
        "Sam heeft sinds de zomer zoveel angst dat hij niet meer naar school kan.")
    page.get_by_role("radio", name="Nee").check()
    page.get_by_role("button", name="Kennisgeving versturen").click()

    expect(page.get_by_role("status")).to_contain_text("Gelukt: de kennisgeving is ontvangen")
    expect(page.locator(".uitleg")).to_contain_text("Wij hebben uw kennisgeving ontvangen.")
    expect(page.locator(".uitleg")).to_contain_text("U hoeft nu niets te doen.")
    reference = re.search(r"V5A-\d{4}-\d{5}", page.get_by_role("heading", level=1).inner_text()).group(0)
    case_url = page.url
    log_out(page)

    # The leerplichtambtenaar opens it from the work list and takes it into handling.
    log_in(page, "leerplicht@voorbeeldstad.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Sam Jansen")
    row.get_by_role("link", name=reference).click()
    assert page.url == case_url
    page.get_by_label("Deskundige (jeugdarts)").select_option(label="Dr. Aisha Bouzid, GGD Voorbeeld")
    page.get_by_role("button", name="In behandeling nemen").click()
    expect(page.get_by_role("status")).to_contain_text("Gelukt: In behandeling nemen.")
    expect(page.locator(".case-header")).to_contain_text("In behandeling")
    expect(page.get_by_text("Wordt gemaakt").first).to_be_visible()

    # The worker renders the letters; after a reload they are links on the case page.
    assert render_letters(browser_app) == ["rendered"] * 3
    page.reload()
    letter_link = page.get_by_role("link", name=LETTER_KINDS["v5a_in_behandeling_ouder"], exact=True)
    expect(letter_link).to_be_visible()
    expect(page.get_by_role("link", name=LETTER_KINDS["v5a_beoordelingsverzoek"], exact=True)).to_be_visible()
    pdf = page.request.get(letter_link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    if os.environ.get("CASEWORK_SCREENSHOT"):  # refresh the README's picture on request only
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    log_out(page)

    # The parent sees the letters addressed to them, and not the doctor's.
    log_in(page, "ouder1@voorbeeld.test")
    page.goto(case_url)
    expect(page.locator(".uitleg")).to_contain_text("De leerplichtambtenaar heeft een jeugdarts gevraagd")
    for kind in ("v5a_ontvangstbevestiging", "v5a_in_behandeling_ouder"):
        expect(page.get_by_role("link", name=LETTER_KINDS[kind], exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=LETTER_KINDS["v5a_beoordelingsverzoek"], exact=True)).to_have_count(0)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Mijn kinderen").click()
    expect(page.get_by_role("region", name="Sam Jansen")).to_contain_text("De jeugdarts gaat uw kind beoordelen")


def test_form_errors_are_announced_and_linked(page, browser_app):
    from playwright.sync_api import expect

    log_in(page, "ouder1@voorbeeld.test")
    page.goto("/kennisgeving/nieuw")
    page.get_by_label("Schooljaar").select_option(index=1)
    page.get_by_role("button", name="Kennisgeving versturen").click()
    expect(page.get_by_role("status")).to_contain_text("Gelukt")
    page.goto("/kennisgeving/nieuw")
    page.get_by_label("Schooljaar").select_option(index=1)
    page.get_by_role("button", name="Kennisgeving versturen").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Voor dit kind loopt al een zaak")
    alert.get_by_role("link", name=re.compile("Bekijk de zaak die al loopt")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zaak V5A-")
