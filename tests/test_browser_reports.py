"""The report pages in a real headless Chromium: the leerplichttelling of a gemeente (tables,
charts, the CSV download) and the SWV's regional view with its small numbers hidden.

The same set-up as test_browser.py (an app of its own on its own database, real commits, real
CSRF tokens, a server thread, Debian's chromium), but made once for the whole module: the data
set, the server and the browser; every test gets a fresh browser context (its own cookies).
The data set is built with the builders of test_reports.py: real events, fired on a given Dutch
date and committed. Today is whatever the machine says; the data lies in school years
2024-2025 and 2025-2026, which have both ended by November 2026.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from test_browser import log_in

from casework.extensions import db, queue
from casework.formatting import format_datum
from casework.models import Case, Child
from casework.services.reports import schooljaar_of

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

SCHOOLJAAR = "2025-2026"           # the telling's school year: 1 August 2025 - 31 July 2026
PEILDATUM = date(2026, 7, 31)      # its default peildatum: the school year has ended
LPA = "leerplicht@voorbeeldstad.test"
LPA_BUURDORP = "leerplicht@buurdorp.test"
BEHEER = "beheer@voorbeeldstad.test"
SWV = "adviseur@swv-voorbeeldregio.test"

# What the page, the CSV and the charts must show for Voorbeeldstad in 2025-2026, worked out by
# hand from build_data_set() below.
NIEUW = 3                 # verklaringen 'niet geschikt' on 15 Sep, 1 Oct 2025 and 12 Jan 2026
LOPEND = 3                # the October and January ones, and the one of October 2024
BEEINDIGD_VERLOPEN = 1    # the September one, ended 1 March 2026
MELDINGEN = 9             # 8 received as melding (2 of them langdurig, 1 luxe) + 1 from a signaal
MELDINGEN_DIRECT = 8
MELDINGEN_16_UUR = 6      # 3 plain, 2 that went on a route, 1 escalated signaal
SIGNALEN = 2
THUISZITTERS = 2          # absent since 2 March and since 22 June 2026, open on 31 July
THUISZITTERS_3_MAANDEN = 1
PER_MAAND_MELDINGEN = {"september 2025": 1, "november 2025": 3, "januari 2026": 1,
                       "februari 2026": 2, "mei 2026": 1, "juli 2026": 1}


# ------------------------------------------------------------------ app, server, browser


@pytest.fixture(scope="module")
def report_app(app, tmp_path_factory):
    """A second app on a fresh database, as in test_browser.py, once for the module. The letter
    queue is module-wide, so the test app's queue storage is put back afterwards."""
    from conftest import PG_URL, fresh_postgres_database_url, make_app

    saved = queue.huey.storage, queue.app, queue.huey.immediate
    url = fresh_postgres_database_url("casework_browser_reports") if PG_URL else None
    browser_app = make_app(tmp_path_factory.mktemp("rapportage"), url, WTF_CSRF_ENABLED=True)
    try:
        yield browser_app
    finally:
        db.state(browser_app).engine.dispose()
        queue.huey.storage, queue.app, queue.huey.immediate = saved


@pytest.fixture(scope="module")
def data(report_app):
    """The data set, committed before the server starts; what the tests look for in the pages."""
    from factories import demo_namespace
    from test_reports import Clock

    assert date.today() > PEILDATUM, "the data set needs school year 2025-2026 to have ended"
    with report_app.app_context(), pytest.MonkeyPatch.context() as mp:
        demo = demo_namespace()
        build_data_set(demo, Clock(mp))
        db.session.commit()
        references = list(db.session.scalars(select(Case.reference)))
        children = [f"{c.voornaam} {c.achternaam}" for c in db.session.scalars(select(Child))]
        ids = SimpleNamespace(voorbeeldstad=demo.voorbeeldstad.id, buurdorp=demo.buurdorp.id)
        db.session.remove()
    assert len(references) == 29  # 18 exemptions, 10 verzuim cases of Voorbeeldstad, 1 of Buurdorp
    return SimpleNamespace(references=references, children=children, ids=ids)


@pytest.fixture(scope="module")
def server(report_app, data):
    from test_browser import serve

    with serve(report_app, "casework-report-server") as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    from test_browser import launch_chromium

    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium, server):
    """A fresh context (no cookies) per test in the module's browser."""
    context = chromium.new_context(base_url=server, locale="nl-NL", accept_downloads=True,
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


# ------------------------------------------------------------------ the data set


def build_data_set(demo, clock) -> None:
    """Cases of Voorbeeldstad (and a few of Buurdorp), each walked through its real events."""
    from test_reports import beeindig, d, exemption, melding, route, signaal, step

    buurdorp = demo.buurdorp
    # For the SWV's regional view, 2025 up to the end of school year 2024-2025: new exemptions
    # (until 31 July 2025) in Buurdorp 3 in the first quarter, Voorbeeldstad 6 in the second
    # and 5 in July.
    for _ in range(3):
        exemption(demo, clock, d("2025-02-10"), eind=d("2025-07-31"), gemeente=buurdorp)
    for _ in range(6):
        exemption(demo, clock, d("2025-05-12"), eind=d("2025-07-31"))
    for _ in range(5):
        exemption(demo, clock, d("2025-07-07"), eind=d("2025-07-31"))

    # The leerplichttelling 2025-2026 of Voorbeeldstad.
    kort = exemption(demo, clock, d("2025-09-15"), eind=d("2026-02-28"))   # < 6 months
    beeindig(demo, clock, kort, d("2026-03-01"), "verlopen")
    exemption(demo, clock, d("2025-10-01"), eind=d("2026-07-31"))          # 6 to 12 months
    exemption(demo, clock, d("2026-01-12"))                                # hele leerplicht
    exemption(demo, clock, d("2024-10-01"))                                # the year before
    for day in ("2025-09-08", "2025-11-03", "2026-02-02"):
        melding(demo, clock, d(day))
    melding(demo, clock, d("2026-01-12"), "luxe")
    melding(demo, clock, d("2026-05-04"), "langdurig_relatief", periode_start=d("2026-03-02"))
    melding(demo, clock, d("2026-07-06"), "langdurig_relatief", periode_start=d("2026-06-22"))
    escalated = signaal(demo, clock, d("2025-10-06"))
    step(demo, clock, escalated, d("2025-11-10"), "escaleer_naar_melding")
    signaal(demo, clock, d("2026-03-09"))
    route(demo, clock, d("2025-11-17"), "halt")
    route(demo, clock, d("2026-02-16"), "vrijwillige_hulp")
    melding(demo, clock, d("2025-10-06"), gemeente=buurdorp)  # not Voorbeeldstad's


# ------------------------------------------------------------------ reading pages

# Every table in <main>: its accessible name (caption or aria-labelledby), its column headers and
# its rows (body and footer) as cell texts, the row header first.
_TABLES_JS = """() => [...document.querySelectorAll('main table')].map(t => {
  const by = t.getAttribute('aria-labelledby');
  const name = t.caption ? t.caption.textContent
                         : (by ? document.getElementById(by).textContent : '');
  const text = c => c.textContent.replace(/\\s+/g, ' ').trim();
  return {name: name.replace(/\\s+/g, ' ').trim(),
          head: [...t.querySelectorAll('thead th')].map(text),
          rows: [...t.querySelectorAll('tbody tr, tfoot tr')].map(r => [...r.cells].map(text))};
})"""


def tables(page) -> dict[str, dict]:
    """{accessible name: {"head": [...], "rows": {row header: [cell, ...]}}}; names are unique."""
    found = page.evaluate(_TABLES_JS)
    names = [t["name"] for t in found]
    assert all(names) and len(set(names)) == len(names), names
    return {t["name"]: {"head": t["head"], "rows": {r[0]: r[1:] for r in t["rows"]}} for t in found}


def assert_headers_have_scope(page) -> None:
    """Column headers say they are, row headers too: a screen reader reads a cell with both."""
    wrong = page.locator("main thead th:not([scope=col]), main tbody th:not([scope=row]), "
                         "main tfoot th:not([scope=row])")
    assert wrong.count() == 0, wrong.evaluate_all("ths => ths.map(th => th.outerHTML)")


def column(table: dict, header: str) -> dict[str, str]:
    """One column of a table as {row header: cell}."""
    k = table["head"].index(header) - 1
    return {row: cells[k] for row, cells in table["rows"].items()}


def svg_texts(svg) -> list[str]:
    return svg.locator("text").evaluate_all("ts => ts.map(t => t.textContent)")


def chart_values(svg) -> dict[str, str]:
    """A bar chart's labels and the numbers written at the end of the bars."""
    texts = svg_texts(svg)
    assert len(texts) % 2 == 0, texts
    return dict(zip(texts[::2], texts[1::2], strict=True))


def open_from_menu(page, name: str) -> None:
    """Follow a link of the main menu with the keyboard (Tab to it, Enter)."""
    from playwright.sync_api import expect

    nav = page.get_by_role("navigation", name="Hoofdmenu")
    link = nav.get_by_role("link", name=name, exact=True)
    href = link.get_attribute("href")
    for _ in range(20):
        page.keyboard.press("Tab")
        if link.evaluate("a => a === document.activeElement"):
            break
    else:
        raise AssertionError(f"the menu link {name!r} cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(href) + "$"))
    expect(link).to_have_attribute("aria-current", "page")


def show_telling(page, schooljaar: str) -> None:
    from playwright.sync_api import expect

    open_from_menu(page, "Leerplichttelling")
    lopend = schooljaar_of(date.today())  # the page opens on the running school year
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^Leerplichttelling Gemeente \w+, schooljaar {lopend.replace('-', '–')}$"))
    jaar = page.get_by_label("Schooljaar", exact=True)
    expect(jaar).to_have_value(lopend)
    jaar.select_option(label=schooljaar.replace("-", "–"))
    page.get_by_role("button", name="Telling tonen").click()
    page.wait_for_url(re.compile(rf"schooljaar={schooljaar}"))


# ------------------------------------------------------------------ the leerplichttelling


def test_leerplichttelling_tables_charts_and_csv(page, data):
    from playwright.sync_api import expect

    log_in(page, LPA)
    show_telling(page, SCHOOLJAAR)
    peil = format_datum(PEILDATUM)
    assert peil == "31 juli 2026"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Leerplichttelling Gemeente Voorbeeldstad, schooljaar 2025–2026")
    expect(page).to_have_title(re.compile("^Leerplichttelling Gemeente Voorbeeldstad 2025-2026"))
    main = page.locator("main")
    expect(main).to_contain_text(f"Peildatum: {peil}.")

    # Key figures.
    figures = dict(zip(main.locator(".kerncijfers dt").all_inner_texts(),
                       main.locator(".kerncijfers dd").all_inner_texts(), strict=True))
    assert figures == {
        "Verzuimmeldingen": str(MELDINGEN), "Signalen zorgelijk verzuim": str(SIGNALEN),
        f"Thuiszitters op {peil}": str(THUISZITTERS),
        "Nieuwe vrijstellingen 5 onder a": str(NIEUW),
        f"Lopende vrijstellingen op {peil}": str(LOPEND), "Processen-verbaal": "0",
    }

    # The tables, each with an accessible name and column headers; the counts of the data set.
    t = tables(page)
    assert_headers_have_scope(page)
    for name in t:
        expect(page.get_by_role("table", name=name, exact=True)).to_have_count(1)
        assert len(t[name]["head"]) >= 2, name  # a header for the labels and for the counts
    assert t["Vrijstellingen 5 onder a"]["rows"] == {
        "Nieuw in het schooljaar": [str(NIEUW)], "Waarvan na een herbeoordeling": ["0"],
        f"Lopend op {peil}": [str(LOPEND)],
        "Beëindigd in het schooljaar": [str(BEEINDIGD_VERLOPEN)]}
    assert t["Nieuwe vrijstellingen naar duur"]["rows"] == {
        "Korter dan 6 maanden": ["1"], "6 tot en met 12 maanden": ["1"],
        "12 tot en met 24 maanden": ["0"], "Langer dan 24 maanden": ["0"],
        "Hele leerplicht (geen einddatum)": ["1"], "Totaal": [str(NIEUW)]}
    assert column(t["Beëindigde vrijstellingen naar reden"], "Aantal") == {
        "Verlopen (einddatum bereikt)": "1", "Ingeschreven op een school": "0", "Verhuisd": "0",
        "Einde leerplicht": "0", "Andere reden": "0", "Totaal": "1"}
    soorten = t["Verzuimmeldingen naar verzuimsoort"]
    assert soorten["head"] == ["Verzuimsoort", "Ontvangen als melding", "Eerst een signaal",
                               "Totaal"]
    assert soorten["rows"] == {
        "16 uur in 4 weken": ["5", "1", str(MELDINGEN_16_UUR)],
        "Langdurig relatief verzuim": ["2", "0", "2"], "Luxeverzuim": ["1", "0", "1"],
        "Overig verzuim": ["0", "0", "0"], "Totaal": [str(MELDINGEN_DIRECT), "1", str(MELDINGEN)]}
    assert t["Signalen zorgelijk verzuim"]["rows"] == {
        "Ontvangen in het schooljaar": [str(SIGNALEN)],
        f"Daarvan een melding geworden (tot en met {peil})": ["1"]}
    assert t["Thuiszitters op de peildatum"]["rows"] == {
        "4 weken of langer afwezig": [str(THUISZITTERS)],
        "Waarvan langer dan 3 maanden": [str(THUISZITTERS_3_MAANDEN)]}
    assert t["Gekozen routes"]["rows"] == {
        "Route 1: vrijwillige hulp": ["1", "0"], "Route 2: Halt-interventie": ["1", "0"],
        "Route 3: verzoek aan de Raad": ["0", "0"], "Route 4: proces-verbaal": ["0", "0"]}
    per_maand = t["Meldingen, signalen en nieuwe vrijstellingen per maand"]
    months = list(per_maand["rows"])
    assert (len(months), months[0], months[-1]) == (12, "augustus 2025", "juli 2026")
    assert column(per_maand, "Meldingen") == {m: str(PER_MAAND_MELDINGEN.get(m, 0)) for m in months}
    assert {m for m, n in column(per_maand, "Signalen").items() if n != "0"} == {
        "oktober 2025", "maart 2026"}
    assert {m for m, n in column(per_maand, "Nieuwe vrijstellingen").items() if n != "0"} == {
        "september 2025", "oktober 2025", "januari 2026"}

    # Every chart is an image with a name, in a figure with a caption and with its numbers in a
    # table right below it; a bar chart writes the same numbers as its table.
    svgs = main.locator("svg")
    expect(svgs).to_have_count(4)
    for svg in svgs.all():
        expect(svg).to_have_attribute("role", "img")
        expect(svg).to_have_accessible_name(re.compile(r"\S.*schooljaar 2025-2026"))
        figure = svg.locator("xpath=ancestor::figure[1]")
        expect(figure).to_have_accessible_name(re.compile(r"\w"))
        expect(figure.get_by_role("table")).to_have_count(1)
        assert figure.evaluate("f => !!(f.querySelector('svg').compareDocumentPosition("
                               "f.querySelector('table')) & Node.DOCUMENT_POSITION_FOLLOWING)")

    def chart(title: str):
        return page.get_by_role("img", name=re.compile(f"^{title}, schooljaar 2025-2026"))

    assert chart_values(chart("Gekozen routes")) == column(t["Gekozen routes"], "Gekozen")
    assert chart_values(chart("Verzuimmeldingen naar verzuimsoort")) == {
        k: v for k, v in column(soorten, "Totaal").items() if k != "Totaal"}
    assert chart_values(chart("Nieuwe vrijstellingen naar duur")) == {
        k: v for k, v in column(t["Nieuwe vrijstellingen naar duur"], "Aantal").items()
        if k != "Totaal"}
    trend = chart("Meldingen, signalen en nieuwe vrijstellingen per maand")
    assert {"aug 2025", "sep", "jan 2026", "jul"} <= set(svg_texts(trend))  # the months
    # Counts only: no link to a case, no child, no case reference.
    hrefs = main.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert sorted(h.split("?")[0] for h in hrefs) == [  # only the downloads of this telling
        "/rapportage/leerplichttelling.csv", "/rapportage/leerplichttelling.xlsx"]
    body = page.locator("body").inner_text()
    assert not [r for r in data.references if r in body]
    assert not [c for c in data.children if c in body]

    # The CSV, downloaded through the page's link, holds the same counts.
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV-bestand downloaden").click()
    download = info.value
    assert download.suggested_filename == "leerplichttelling-voorbeeldstad-2025-2026.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the ë right
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["Gemeente", "Schooljaar", "Peildatum", "Onderdeel", "Uitsplitsing", "Aantal"]
    assert text.count("\r\n") == len(rows)
    assert {tuple(r[:3]) for r in rows[1:]} == {
        ("Gemeente Voorbeeldstad", SCHOOLJAAR, PEILDATUM.isoformat())}
    counts = {(r[3], r[4]): int(r[5]) for r in rows[1:]}
    assert len(counts) == len(rows) - 1  # no line twice

    def shown(table: str, row: str, k: int = 0) -> int:
        return int(t[table]["rows"][row][k])

    vrij, soort = "Vrijstellingen 5 onder a", "Verzuimmeldingen naar verzuimsoort"
    thuis = f"Thuiszitters op {peil}"
    expected = {  # CSV line: (what the page shows, what the data set holds)
        (vrij, "Nieuw in het schooljaar"): (shown(vrij, "Nieuw in het schooljaar"), NIEUW),
        (vrij, f"Lopend op {peil}"): (shown(vrij, f"Lopend op {peil}"), LOPEND),
        (vrij, "Beëindigd in het schooljaar"): (
            shown(vrij, "Beëindigd in het schooljaar"), BEEINDIGD_VERLOPEN),
        ("Beëindigde vrijstellingen naar reden", "Verlopen (einddatum bereikt)"): (
            shown("Beëindigde vrijstellingen naar reden", "Verlopen (einddatum bereikt)"), 1),
        ("Nieuwe vrijstellingen naar duur", "Hele leerplicht (geen einddatum)"): (
            shown("Nieuwe vrijstellingen naar duur", "Hele leerplicht (geen einddatum)"), 1),
        ("Verzuimmeldingen", "Totaal"): (shown(soort, "Totaal", 2), MELDINGEN),
        ("Verzuimmeldingen", "Waarvan ontvangen als melding"): (
            shown(soort, "Totaal", 0), MELDINGEN_DIRECT),
        ("Verzuimmeldingen", "Waarvan eerst een signaal"): (shown(soort, "Totaal", 1), 1),
        (soort, "16 uur in 4 weken"): (shown(soort, "16 uur in 4 weken", 2), MELDINGEN_16_UUR),
        (soort, "Luxeverzuim"): (shown(soort, "Luxeverzuim", 2), 1),
        ("Signalen zorgelijk verzuim", "Ontvangen"): (
            shown("Signalen zorgelijk verzuim", "Ontvangen in het schooljaar"), SIGNALEN),
        (thuis, "4 weken of langer afwezig"): (
            shown("Thuiszitters op de peildatum", "4 weken of langer afwezig"), THUISZITTERS),
        (thuis, "Langer dan 3 maanden afwezig"): (
            shown("Thuiszitters op de peildatum", "Waarvan langer dan 3 maanden"),
            THUISZITTERS_3_MAANDEN),
        ("Gekozen routes", "Route 2: Halt-interventie"): (
            shown("Gekozen routes", "Route 2: Halt-interventie"), 1),
        ("Processen-verbaal", "Totaal"): (shown("Processen-verbaal", "Totaal"), 0),
    }
    in_csv = {key: counts[key] for key in expected}
    assert in_csv == {key: on_page for key, (on_page, _) in expected.items()}
    assert in_csv == {key: by_hand for key, (_, by_hand) in expected.items()}

    # The spreadsheet, through its own link: the same lines, the counts as numbers.
    from openpyxl import load_workbook

    with page.expect_download() as info:
        page.get_by_role("link", name="Excel-bestand downloaden (.xlsx)").click()
    assert info.value.suggested_filename == "leerplichttelling-voorbeeldstad-2025-2026.xlsx"
    xlsx = Path(info.value.path()).read_bytes()
    assert xlsx.startswith(b"PK\x03\x04")  # a zip, as an .xlsx is
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0]
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert lines[0] == rows[0]
    assert {(r[3], r[4]): r[5] for r in lines[1:]} == counts


def test_while_the_telling_is_made_the_page_says_so(page, data):
    """A year of a large gemeente takes seconds: after pressing the button the user reads (and
    a screen reader hears, role=status) that it is on its way, not a page that seems stuck."""
    from playwright.sync_api import expect

    log_in(page, LPA)
    open_from_menu(page, "Leerplichttelling")
    status = page.locator("[data-bezig-status]")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    # Hold the submission back in the page itself (a listener after the page's own), so the
    # message can be read before the next page replaces it.
    page.evaluate("window.addEventListener('submit', e => e.preventDefault(), {once: true})")
    page.get_by_label("Schooljaar", exact=True).select_option(label=SCHOOLJAAR.replace("-", "–"))
    page.get_by_role("button", name="Telling tonen").click()
    expect(status).to_have_text(
        "De telling wordt gemaakt. Dat kan bij een grote gemeente enkele seconden duren.")
    expect(page.get_by_role("form", name="Telling kiezen")).to_have_attribute("aria-busy", "true")
    page.get_by_role("button", name="Telling tonen").click()  # now for real
    page.wait_for_url(re.compile(rf"schooljaar={SCHOOLJAAR}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(SCHOOLJAAR.replace("-", "–"))
    expect(status).to_have_text("")  # the new page starts quiet


def test_a_peildatum_in_the_future_is_an_error_on_the_field_and_no_report(page, data):
    from playwright.sync_api import expect

    log_in(page, LPA)
    show_telling(page, SCHOOLJAAR)
    expect(page.get_by_role("link", name="CSV-bestand downloaden")).to_be_visible()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    peildatum = page.get_by_label("Peildatum", exact=True)
    expect(peildatum).to_have_attribute("type", "date")
    peildatum.fill(tomorrow)
    with page.expect_response(re.compile(r"/rapportage/leerplichttelling\?")) as answer:
        peildatum.press("Enter")  # submit with the keyboard
    assert answer.value.status == 422
    page.wait_for_load_state()

    message = "Kies een peildatum van vandaag of eerder."
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Niet alle gegevens zijn goed ingevuld. Kijk de velden na.")
    # The field keeps what was typed, is marked invalid and has the message as its description.
    expect(peildatum).to_have_value(tomorrow)
    expect(peildatum).to_have_attribute("aria-invalid", "true")
    expect(peildatum).to_have_accessible_description(re.compile(re.escape(message)))
    expect(page.get_by_label("Schooljaar", exact=True)).to_have_value(SCHOOLJAAR)
    # The message in the alert is a link to the field.
    alert.get_by_role("link", name=f"Peildatum: {message}").click()
    assert page.url.endswith("#peildatum")
    expect(peildatum).to_be_focused()
    # No report: no key figures, tables, charts or download; the heading names no gemeente.
    expect(page.get_by_role("heading", level=1)).to_have_text("Leerplichttelling")
    expect(page.get_by_role("heading", name="Kerncijfers")).to_have_count(0)
    expect(page.locator("main table, main svg, main figure")).to_have_count(0)
    expect(page.get_by_role("link", name="CSV-bestand downloaden")).to_have_count(0)
    # The CSV address with the same input answers the page with the error, not a file.
    csv_answer = page.request.get(
        f"/rapportage/leerplichttelling.csv?schooljaar={SCHOOLJAAR}&peildatum={tomorrow}")
    assert csv_answer.status == 422 and csv_answer.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in csv_answer.headers and message in csv_answer.text()

    # A date typed by hand in another form (an old link, a bookmark): a Dutch message too.
    response = page.goto(
        f"/rapportage/leerplichttelling?schooljaar={SCHOOLJAAR}&peildatum=31-07-2026")
    assert response.status == 422
    expect(page.get_by_role("alert").get_by_role("link")).to_have_text(
        "Peildatum: Vul een geldige datum in (dag, maand en jaar).")
    expect(page.locator("main table")).to_have_count(0)


# ------------------------------------------------------------------ the SWV's regional view

def assert_no_small_numbers(page) -> None:
    """No table cell on the page shows a count from 1 to 4, nor does a sentence or a chart."""
    cells = page.locator("main td, main th").evaluate_all("cs => cs.map(c => c.textContent.trim())")
    assert cells
    small = [c for c in cells if re.fullmatch(r"[1-4]", c)]
    assert not small, small
    for sentence in page.locator("main p").all_inner_texts():
        assert not re.search(r"van [1-4] naar|naar [1-4]\.", sentence), sentence
    for svg in page.locator("main svg").all():
        # Axis ticks (text-anchor="end", on the left) are a scale, not counts; every other text of
        # a chart is a quarter, a series name or a value.
        texts = svg.locator('text:not([text-anchor="end"])').evaluate_all(
            "ts => ts.map(t => t.textContent)")
        assert not [t for t in texts if re.fullmatch(r"[1-4]", t.strip())], texts


def assert_no_case_and_no_child(page, data) -> None:
    hrefs = page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if re.search(r"/zaken/|/brieven/|/kinderen/", h)], hrefs
    assert not page.locator("main a").count(), "the regional view links to nothing"
    text = page.locator("body").inner_text()
    assert not [r for r in data.references if r in text]
    assert not [c for c in data.children if c in text]
    assert not re.search(r"\b(V5A|VZ)-\d{4}-\d+", page.content())


def test_swv_regional_view_hides_small_numbers_and_links_to_no_case(page, data):
    from playwright.sync_api import expect

    log_in(page, SWV)
    open_from_menu(page, "Regio-overzicht")
    expect(page.get_by_role("heading", level=1)).to_have_text("Regio-overzicht SWV Voorbeeldregio")
    # By default the last eight quarters; the gemeenten of the region, and no other.
    t = tables(page)
    nieuw = t["Nieuwe vrijstellingen 5 onder a"]
    assert list(nieuw["rows"]) == ["Gemeente Buurdorp", "Gemeente Voorbeeldstad", "Regio"]
    assert nieuw["head"][0] == "Gemeente" and len(nieuw["head"]) == 1 + 8 + 1  # quarters and Totaal
    for name in ("Verzuim in de regio SWV Voorbeeldregio per kwartaal",
                 "Vrijstellingen 5 onder a in de regio SWV Voorbeeldregio per kwartaal"):
        chart = page.get_by_role("img", name=re.compile("^" + name))
        expect(chart).to_be_visible()
        expect(chart.locator("xpath=ancestor::figure[1]").get_by_role("table")).to_have_count(1)
    expect(page.locator("main svg")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("< 5")
    assert_no_small_numbers(page)
    assert_no_case_and_no_child(page, data)
    assert_headers_have_scope(page)

    # A period that does not end on a quarter's last day (or today) is refused: two periods a day
    # apart would differ by one case (differencing), and so tell one child's verklaring.
    page.get_by_label("Vanaf", exact=True).fill("2025-01-01")
    page.get_by_label("Tot en met", exact=True).fill("2025-07-31")
    page.get_by_role("button", name="Overzicht tonen").click()
    page.wait_for_url(re.compile(r"van=2025-01-01&tot=2025-07-31"))
    expect(page.locator("main")).to_contain_text("Kies 31 maart, 30 juni, 30 september, 31 december")
    expect(page.locator("main table")).to_have_count(0)

    # Whole quarters: 2025 K1 to K3. Every count below 5, 0 included, is "< 5".
    page.get_by_label("Vanaf", exact=True).fill("2025-01-01")
    page.get_by_label("Tot en met", exact=True).fill("2025-09-30")
    page.get_by_role("button", name="Overzicht tonen").click()
    page.wait_for_url(re.compile(r"van=2025-01-01&tot=2025-09-30"))
    expect(page.locator("main")).to_contain_text(
        "Periode: 1 januari 2025 tot en met 30 september 2025; per kalenderkwartaal (3 kwartalen).")
    t = tables(page)
    nieuw = t["Nieuwe vrijstellingen 5 onder a"]
    assert nieuw["head"] == ["Gemeente", "2025 K1", "2025 K2", "2025 K3", "Totaal"]
    assert nieuw["rows"]["Gemeente Buurdorp"][0] == "< 5"  # its 3 new exemptions in K1
    for key in ("Verzuimmeldingen", "Signalen zorgelijk verzuim"):
        assert set(t[key]["rows"]["Regio"]) == {"< 5"}  # no verzuim: a 0 is hidden like 1 to 4
    for table in t.values():
        for cells in table["rows"].values():
            assert "0" not in cells
    assert_no_small_numbers(page)
    assert_no_case_and_no_child(page, data)


# ------------------------------------------------------------------ who sees what


def test_who_may_see_which_report(page, data):
    from playwright.sync_api import expect

    heading = page.get_by_role("heading", level=1)
    vs = data.ids.voorbeeldstad
    telling_url = f"/rapportage/leerplichttelling?gemeente={vs}&schooljaar={SCHOOLJAAR}"

    # The SWV adviser has no leerplichttelling: not in the menu, and the address says so.
    log_in(page, SWV)
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav.get_by_role("link", name="Regio-overzicht")).to_be_visible()
    expect(nav.get_by_role("link", name="Leerplichttelling")).to_have_count(0)
    response = page.goto(telling_url)
    assert response.status == 403
    expect(heading).to_have_text("Geen toegang")
    expect(page.locator("main")).to_contain_text("U heeft geen toegang tot deze pagina.")
    expect(page.locator("main table")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Voorbeeldstad")
    assert page.request.get(telling_url.replace("telling?", "telling.csv?")).status == 403
    page.context.clear_cookies()

    # The leerplichtambtenaar of Buurdorp sees Buurdorp's telling, not Voorbeeldstad's.
    log_in(page, LPA_BUURDORP)
    show_telling(page, SCHOOLJAAR)
    expect(heading).to_have_text("Leerplichttelling Gemeente Buurdorp, schooljaar 2025–2026")
    t = tables(page)
    assert t["Verzuimmeldingen naar verzuimsoort"]["rows"]["Totaal"] == ["1", "0", "1"]
    assert t["Vrijstellingen 5 onder a"]["rows"]["Nieuw in het schooljaar"] == ["0"]
    expect(page.get_by_label("Gemeente", exact=True)).to_have_count(0)  # one gemeente: no choice
    response = page.goto(telling_url)  # Voorbeeldstad's, by changing the address
    assert response.status == 404
    expect(heading).to_have_text("Niet gevonden")
    expect(page.locator("main")).to_contain_text("Deze telling is niet gevonden.")
    expect(page.locator("main")).not_to_contain_text("Voorbeeldstad")
    expect(page.locator("main table")).to_have_count(0)
    answer = page.request.get(telling_url.replace("telling?", "telling.csv?"))
    assert answer.status == 404 and answer.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in answer.headers
    response = page.goto("/rapportage/regio")  # nor the SWV's view
    assert response.status == 403
    expect(heading).to_have_text("Geen toegang")
    page.context.clear_cookies()

    # The beheerder of Voorbeeldstad sees its telling, with the same numbers as the LPA.
    log_in(page, BEHEER)
    show_telling(page, SCHOOLJAAR)
    expect(heading).to_have_text("Leerplichttelling Gemeente Voorbeeldstad, schooljaar 2025–2026")
    t = tables(page)
    assert t["Vrijstellingen 5 onder a"]["rows"]["Nieuw in het schooljaar"] == [str(NIEUW)]
    assert t["Verzuimmeldingen naar verzuimsoort"]["rows"]["Totaal"][-1] == str(MELDINGEN)
