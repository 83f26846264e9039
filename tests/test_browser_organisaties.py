"""The beheerder's Organisaties and Instellingen pages in a real headless Chromium: reached from
the main menu, one h1 and one main, a name for every control; a wrong value is announced and
linked to its field and saves nothing; the right values are saved, and the letterhead logo is
uploaded and shown. Same set-up as test_browser_schoolvakanties.py (whose fixtures it uses)."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from casework.extensions import db
from test_browser_schoolvakanties import (  # noqa: F401  the module's app, server, browser and page
    assert_not_english, assert_structure, chromium, page, server, tab_to, vakantie_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]


def _settings(app):
    from casework.models import GemeenteInstellingen, Organisation

    with app.app_context():
        gemeente = db.session.scalar(select(Organisation).where(Organisation.code == "GM9001"))
        row = db.session.get(GemeenteInstellingen, gemeente.id)
        found = (row.advies_termijn_dagen, row.ondertekenaar_naam, row.logo_type) if row else None
        db.session.remove()
        return found


def test_settings_with_the_keyboard_an_error_first_then_saved_with_a_logo(page, vakantie_app, tmp_path):
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Instellingen").click()
    assert_structure(page, "Instellingen van Gemeente Voorbeeldstad")
    assert_not_english(page)

    tab_to(page, "Termijn voor het advies van het samenwerkingsverband (dagen)")
    page.keyboard.type("3")
    tab_to(page, "Instellingen opslaan")
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Niet alle gegevens zijn goed ingevuld")
    expect(alert.get_by_role("link")).to_contain_text("Vul een aantal van 7 tot en met 90 in.")
    field = page.get_by_label("Termijn voor het advies van het samenwerkingsverband (dagen)")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert _settings(vakantie_app) is None  # nothing saved

    field.fill("21")
    page.get_by_label("Naam van wie ondertekent").fill("A. de Wit")
    logo = tmp_path / "logo.png"
    image = io.BytesIO()
    Image.new("RGB", (240, 60), (31, 78, 121)).save(image, "PNG")
    logo.write_bytes(image.getvalue())
    page.get_by_label("Nieuw logo (PNG of JPEG, maximaal 200 KB)").set_input_files(str(logo))
    tab_to(page, "Instellingen opslaan")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Gelukt: de instellingen zijn opgeslagen.")).to_be_visible()
    assert _settings(vakantie_app) == (21, "A. de Wit", "image/png")
    expect(page.get_by_role("img", name="Huidig logo van Gemeente Voorbeeldstad")).to_be_visible()
    assert page.get_by_role("img", name="Huidig logo van Gemeente Voorbeeldstad").evaluate(
        "img => img.complete && img.naturalWidth") == 240
    expect(page.get_by_role("link", name="Bekijk een voorbeeldbrief (PDF)")).to_be_visible()


def test_organisations_list_and_a_new_school_with_the_keyboard(page):
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Organisaties").click()
    assert_structure(page, "Organisaties")
    expect(page.get_by_role("table", name="Scholen")).to_contain_text("Basisschool De Voorbeeld")
    expect(page.get_by_role("link", name="SWV Voorbeeldregio wijzigen")).to_be_visible()

    page.get_by_role("link", name="School toevoegen").click()
    assert_structure(page, "School toevoegen")
    tab_to(page, "Naam")
    page.keyboard.type("Obs De Linde")
    tab_to(page, "BRIN-nummer")
    page.keyboard.type("1234")
    tab_to(page, "Toevoegen")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Een BRIN-nummer is 2 cijfers en 2 letters")
    expect(page.get_by_label("BRIN-nummer")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("BRIN-nummer").fill("12AB")
    page.get_by_label("Vakantieregio").select_option("noord")
    tab_to(page, "Toevoegen")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Gelukt: Obs De Linde is toegevoegd.")).to_be_visible()
    expect(page.get_by_role("table", name="Scholen")).to_contain_text("regio noord")

    page.get_by_role("link", name="SWV Voorbeeldregio wijzigen").click()
    assert_structure(page, "SWV Voorbeeldregio wijzigen")
    served = page.get_by_role("group", name="Gemeenten die deze organisatie bedient")
    expect(served.get_by_role("checkbox", name="Gemeente Voorbeeldstad")).to_be_checked()
    expect(served.get_by_role("checkbox", name="Gemeente Buurdorp")).to_be_checked()
