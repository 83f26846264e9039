"""Verzuim in a real headless Chromium: a school's signaal, the LPA's investigation and route choice,
and what the school sees afterwards. Same set-up as test_browser.py: its own app and database
(real commits, real CSRF tokens), a server thread, Debian's chromium."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

# The app, server and page fixtures, and the log-in helpers, are the ones of the vrijstelling tests.
from test_browser import browser_app, log_in, log_out, page, render_letters, server  # noqa: F401

from casework.formatting import format_datum
from casework.letters.render import LETTER_KINDS

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

OMSCHRIJVING = "Noor is altijd te laat voor het eerste uur, vaak een half uur of meer."
OORZAAK = "Noor brengt elke ochtend haar broertjes naar de basisschool; moeder werkt vroeg."


def test_signaal_to_voluntary_help_and_the_school_sees_only_in_behandeling(page, browser_app):  # noqa: F811
    from playwright.sync_api import expect

    today = date.today()

    # The verzuimcoördinator of Voorbeeld College submits a signaal for Noor de Vries (14).
    log_in(page, "school@voorbeeldcollege.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verzuim")
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    nav.get_by_role("link", name="Verzuim melden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verzuim melden")
    page.get_by_label("Leerling", exact=True).select_option(label="Noor de Vries (geboren 2 september 2012)")
    signaal = page.get_by_role("radio", name="Signaal zorgelijk verzuim")
    signaal.focus()
    page.keyboard.press("Space")  # the keyboard chooses, as a mouse would
    expect(signaal).to_be_checked()
    # Without any script: choosing a signaal hides what only belongs to a melding.
    expect(page.locator(".alleen-melding")).to_be_hidden()
    expect(signaal).to_have_accessible_description(re.compile("minder dan 16 uur in 4 schoolweken"))
    page.get_by_label("Aantal uren ongeoorloofd verzuim").fill("6")
    page.get_by_label("Aantal keer te laat").fill("14")
    page.get_by_label("Eerste dag van de periode").fill((today - timedelta(days=20)).isoformat())
    page.get_by_label("Laatste dag van de periode").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Wat is er aan de hand?").fill(OMSCHRIJVING)
    situatie = page.get_by_label("Welke situatie uit het verzuimbeleid van de school?")
    situatie.fill("Structureel te laat in het eerste lesuur (situatie 2)")
    situatie.press("Tab")
    expect(page.get_by_role("button", name="Versturen naar de leerplichtambtenaar")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Gelukt: het signaal is verstuurd")
    reference = re.search(r"VZ-\d{4}-\d{5}", page.get_by_role("heading", level=1).inner_text()).group(0)
    expect(page.locator(".case-header")).to_contain_text("Ontvangen")
    case_url = page.url
    log_out(page)

    # The leerplichtambtenaar of Buurdorp opens it from the work list.
    log_in(page, "leerplicht@buurdorp.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Noor de Vries")
    expect(row).to_contain_text("Signaal")
    row.get_by_role("link", name=reference).click()
    assert page.url == case_url
    panel = page.get_by_role("region", name="Waar staat deze zaak?")
    expect(panel.locator('[aria-current="step"]')).to_contain_text("Waarnemen")

    # Onderzoek starten: the conversation is today.
    page.get_by_label("Datum van het gesprek", exact=True).fill(today.isoformat())
    page.get_by_label("Tijd", exact=True).fill("10:00")
    page.get_by_label("Plaats", exact=True).fill("Gemeentehuis Buurdorp")
    page.get_by_role("button", name="Onderzoek starten").click()
    expect(page.get_by_role("status")).to_contain_text("Gelukt: Onderzoek starten.")
    expect(panel.locator('[aria-current="step"]')).to_contain_text("Analyseren")

    # Record the cause (the conversation date is filled in already) and ask for the proposal.
    expect(page.get_by_label("Wanneer was het gesprek met de ouders en de leerling?")).to_have_value(
        today.isoformat())
    page.get_by_label("Wat is de oorzaak van het verzuim?").fill(OORZAAK)
    page.get_by_label("Bij welke soort oorzaak past dit het best?").select_option(label="De thuissituatie")
    page.get_by_role("button", name="Routevoorstel bekijken").click()

    proposal = page.get_by_role("region", name="Routevoorstel")
    expect(proposal).to_contain_text("Casework stelt voor: Route 1: vrijwillige hulp")
    expect(proposal).to_contain_text("Een signaal is bedoeld voor vroege hulp")
    assert page.url.endswith("#routevoorstel")
    expect(panel.locator('[aria-current="step"]')).to_contain_text("Plannen")
    chosen = page.get_by_role("radio", name=re.compile("Route 1: vrijwillige hulp"))
    expect(chosen).to_be_checked()
    # The proposal is chosen, so "why another route?" is not asked.
    expect(page.get_by_label("Waarom kiest u een andere route?")).to_be_hidden()
    page.get_by_label("Afspraken met de leerling en de ouders").fill(
        "Buurvrouw brengt de broertjes; Noor is om 8.15 uur op school. Gesprek met wijkteam.")
    page.get_by_role("button", name="Route kiezen").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Gelukt: Route kiezen. De zaak staat nu op ‘Route 1: vrijwillige hulp’.")
    expect(page.get_by_role("table")).to_contain_text(
        "Gekozen volgens het voorstel: Route 1: vrijwillige hulp.")
    log_out(page)

    # The letters are made; the school signs in again and sees only "In behandeling".
    assert set(render_letters(browser_app)) == {"rendered"}
    log_in(page, "school@voorbeeldcollege.test")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("In behandeling")
    row.get_by_role("link", name=reference).click()
    expect(page.locator(".case-header")).to_contain_text("In behandeling")
    main = page.locator("main")
    for word in ("route", "hulp", "oorzaak", "broertjes", "wijkteam", "Gemeentehuis"):
        expect(main).not_to_contain_text(word, ignore_case=True)
    expect(main).to_contain_text(f"{format_datum(today)}")
    letter = page.get_by_role("link", name=LETTER_KINDS["vz_ontvangstbevestiging"], exact=True)
    expect(letter).to_be_visible()
    pdf = page.request.get(letter.get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    expect(page.get_by_role("link", name=LETTER_KINDS["vz_route_vrijwillige_hulp"])).to_have_count(0)
