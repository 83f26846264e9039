"""The steps that give every case a way forward, in a real headless Chromium: a parent gives up a
running exemption, the LPA moves an advice request to another SWV and ends the procedure, and the
LPA takes a verzuim case from monitoring back to a route. By keyboard, with every input labelled,
and with errors announced and linked to their input. Same set-up as test_browser.py."""
from __future__ import annotations

import re

import pytest

from test_browser import browser_app, log_in, log_out, page, server  # noqa: F401

from casework.extensions import db
from casework.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

# Every input, select and textarea of a step's form has a label a screen reader reads out.
UNLABELLED = """(form) => [...form.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden')
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
    .map(el => el.name)"""


def _step(page, event: str):
    return page.locator(f"form[aria-labelledby='stap-{event}']")


def _open_by_keyboard(page, summary: str) -> None:
    """A final step is folded away in a <details>; the keyboard opens it."""
    page.locator("summary", has_text=summary).focus()
    page.keyboard.press("Enter")


def _state(app, case_id: int) -> str:
    with app.app_context():
        return db.session.get(Case, case_id).state


def test_the_new_steps_work_by_keyboard_in_a_real_browser(page, browser_app):  # noqa: F811
    from playwright.sync_api import expect

    from factories import demo_namespace, make_case
    from factories_verzuim import make_verzuim_case

    with browser_app.app_context():
        demo = demo_namespace()
        running = make_case(demo, "vrijgesteld").id
        monitoring = make_verzuim_case(demo, "monitoring").id
        swv_buur = str(demo.swv_buur.id)

    # --- The parent gives up the running exemption (zie_af). -------------------------------
    log_in(page, "ouder1@voorbeeld.test")
    page.goto(f"/zaken/{running}")
    _open_by_keyboard(page, "Afzien van de vrijstelling")
    form = _step(page, "zie_af")
    expect(form).to_be_visible()
    assert form.evaluate(UNLABELLED) == []
    expect(form).to_contain_text("Uw kind is dan weer leerplichtig")
    form.get_by_label("Wilt u iets toelichten? (niet verplicht)").fill("Het gaat beter met haar.")
    form.get_by_role("button", name="Afzien van de vrijstelling").press("Enter")
    # Without "Ik weet het zeker" nothing happens, and the error says so next to the checkbox.
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    assert _state(browser_app, running) == "vrijgesteld"
    error_link = alert.get_by_role("link").first
    target = error_link.get_attribute("href")
    assert target and target.startswith("#")
    error_link.press("Enter")  # the link in the summary moves the focus to the input
    confirm = _step(page, "zie_af").get_by_label("Ik weet het zeker")
    expect(confirm).to_be_focused()
    page.keyboard.press("Space")
    expect(confirm).to_be_checked()
    # The typed text is still there after the refusal.
    expect(_step(page, "zie_af").get_by_label("Wilt u iets toelichten? (niet verplicht)")) \
        .to_have_value("Het gaat beter met haar.")
    _step(page, "zie_af").get_by_role("button", name="Afzien van de vrijstelling").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Gelukt")
    assert _state(browser_app, running) == "beeindigd"
    log_out(page)

    # --- The LPA moves an advice request to another SWV, then ends the procedure. -------------
    with browser_app.app_context():
        demo = demo_namespace()
        asked = make_case(demo, "advies_gevraagd").id
    log_in(page, "leerplicht@voorbeeldstad.test")
    page.goto(f"/zaken/{asked}")
    form = _step(page, "vraag_ander_swv")
    expect(form).to_contain_text("Het eerste samenwerkingsverband krijgt dan geen toegang meer")
    assert form.evaluate(UNLABELLED) == []
    form.get_by_label("Samenwerkingsverband", exact=True).select_option(swv_buur)
    no = form.get_by_role("group", name=re.compile("Mogen de gegevens")).get_by_label("Nee")
    no.focus()
    page.keyboard.press("Space")
    expect(no).to_be_checked()
    form.get_by_label("De ouder of verzorger").check()
    form.get_by_label("Samenvatting voor het samenwerkingsverband").fill("Anonieme schets van de vraag.")
    # The reason is required: without it, the error is announced and names the field.
    form.get_by_role("button", name=re.compile("ander samenwerkingsverband")).press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Waarom vraagt u een ander samenwerkingsverband?")
    with browser_app.app_context():
        assert db.session.get(Case, asked).swv_id != demo.swv_buur.id
    form = _step(page, "vraag_ander_swv")
    form.get_by_label("Waarom vraagt u een ander samenwerkingsverband?").fill(
        "Geen antwoord binnen de termijn.")
    form.get_by_role("button", name=re.compile("ander samenwerkingsverband")).press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Gelukt")
    with browser_app.app_context():
        assert db.session.get(Case, asked).swv_id == demo.swv_buur.id

    _open_by_keyboard(page, "Beëindigen")
    form = _step(page, "beeindig")
    assert form.evaluate(UNLABELLED) == []
    form.get_by_label("Reden").select_option("verhuisd")
    form.get_by_label("Toelichting").fill("Het gezin woont sinds kort in een andere gemeente.")
    form.get_by_label("Ik weet het zeker").check()
    form.get_by_role("button", name="Beëindigen").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Gelukt")
    assert _state(browser_app, asked) == "beeindigd"

    # --- The LPA takes a verzuim case from monitoring back to a route (hervat_route). --------
    page.goto(f"/zaken/{monitoring}")
    form = _step(page, "hervat_route")
    expect(form).to_be_visible()
    assert form.evaluate(UNLABELLED) == []
    form.get_by_label("Naar welke route?").select_option("vrijwillige_hulp")
    form.get_by_role("button").press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Waarom is een route weer nodig?: Dit veld is verplicht.")
    assert _state(browser_app, monitoring) == "monitoring"
    alert.get_by_role("link").first.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("name", re.compile("motivering"))
    page.keyboard.type("Sinds de monitoring mist de leerling weer lessen.")
    _step(page, "hervat_route").get_by_role("button").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Gelukt")
    assert _state(browser_app, monitoring) == "vrijwillige_hulp"
