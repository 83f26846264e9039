"""The beheerder's school-holiday pages in a real headless Chromium, with the keyboard only.

The beheerder of Voorbeeldstad opens Schoolvakanties from the main menu, adds a deviation for
Basisschool De Voorbeeld (first with the last day before the first: the error is announced and
linked to the field, and nothing is saved), sees it listed with Dutch dates, changes it, deletes it
after the confirmation step (first saying no), and moves the school to another region. Every
change is in the access log. Every page has one h1, a main landmark and a name for every control.

The same set-up as test_browser_reports.py: one app on its own database, one server and one
browser for the module; every test gets a fresh browser context (its own cookies). Today is
whatever the machine says; the holidays lie in the school year of today.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from casework.extensions import db, queue
from casework.formatting import format_datum
from test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

BEHEER = "beheer@voorbeeldstad.test"
SCHOOL = "Basisschool De Voorbeeld"  # 99AA, the school of Voorbeeldstad (region midden)


def _schooljaar(day: date) -> str:
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


SCHOOLJAAR = _schooljaar(date.today())
_START = int(SCHOOLJAAR[:4])
# A deviation in the autumn of this school year: a Saturday to the Sunday after.
BEGIN = date(_START, 11, 21) - timedelta(days=(date(_START, 11, 21).weekday() - 5) % 7)
EIND = BEGIN + timedelta(days=1)
EIND_GEWIJZIGD = BEGIN + timedelta(days=9)  # the Monday after the next week
TE_VROEG = BEGIN - timedelta(days=3)        # before the first day: invalid


# ------------------------------------------------------------------ app, server, browser


@pytest.fixture(scope="module")
def vakantie_app(app, tmp_path_factory):
    """A second app on a fresh database, as in test_browser.py, once for the module."""
    from conftest import PG_URL, fresh_postgres_database_url, make_app

    saved = queue.huey.storage, queue.app, queue.huey.immediate
    url = fresh_postgres_database_url("casework_browser_vakanties") if PG_URL else None
    browser_app = make_app(tmp_path_factory.mktemp("vakanties"), url, WTF_CSRF_ENABLED=True)
    try:
        yield browser_app
    finally:
        db.state(browser_app).engine.dispose()
        queue.huey.storage, queue.app, queue.huey.immediate = saved


@pytest.fixture(scope="module")
def server(vakantie_app):
    from test_browser import serve

    with serve(vakantie_app, "casework-vakantie-server") as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    from test_browser import launch_chromium

    with launch_chromium() as browser:
        DATE_ORDER[0] = _date_order(browser)
        yield browser


DATE_ORDER = ["%d%m%Y"]  # the module's browser sets it


def _date_order(browser) -> str:
    """The order in which this Chromium's date field takes day, month and year from the keyboard:
    headless Chromium shows mm/dd/jjjj whatever the locale, a Dutch desktop dd-mm-jjjj."""
    context = browser.new_context(locale="nl-NL")
    try:
        probe = context.new_page()
        probe.set_content('<label for="d">Datum</label><input type="date" id="d">')
        probe.focus("#d")
        probe.keyboard.type("01022026")
        value = probe.eval_on_selector("#d", "el => el.value")
    finally:
        context.close()
    assert value in ("2026-02-01", "2026-01-02"), value
    return "%d%m%Y" if value == "2026-02-01" else "%m%d%Y"


@pytest.fixture
def page(chromium, server):
    """A fresh context (no cookies) per test in the module's browser, signed in as beheerder."""
    context = chromium.new_context(base_url=server, locale="nl-NL",
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, BEHEER)
        yield page
    finally:
        context.close()


# ------------------------------------------------------------------ the database


def rows(app, **where) -> list:
    from casework.models import Schoolvakantie

    with app.app_context():
        query = select(Schoolvakantie).filter_by(**where)
        found = [(r.id, r.schooljaar, r.naam, r.regio, r.school_id, r.begin, r.eind)
                 for r in db.session.scalars(query)]
        db.session.remove()
        return found


def logged(app, prefix: str) -> list[str]:
    """The beheerder's change records ("onderwerp actie id: field old->new; ...") that start with
    `prefix`."""
    from casework.models import AdminChange, User

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == BEHEER))
        found = [f"{r.onderwerp} {r.actie} {r.onderwerp_id}: "
                 + "; ".join(f"{k} {v[0]}->{v[1]}" for k, v in sorted(r.wijzigingen.items()))
                 for r in db.session.scalars(select(AdminChange).where(AdminChange.actor_id == user_id)
                                             .order_by(AdminChange.seq))]
        db.session.remove()
        return [line for line in found if line.startswith(prefix)]


def school(app):
    from casework.models import Organisation

    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "99AA"))
        found = (org.id, org.naam, org.vakantieregio)
        db.session.remove()
        return found


# ------------------------------------------------------------------ the keyboard

_FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const text = s => (s || '').replace(/\\s+/g, ' ').trim();
  if (el.labels && el.labels.length) return text(el.labels[0].textContent);
  return text(el.getAttribute('aria-label') || el.textContent || el.value);
}"""


def focused_name(page) -> str:
    return page.evaluate(_FOCUSED_JS)


def tab_to(page, name: str, *, back: bool = False, limit: int = 60) -> None:
    """Press Tab (Shift+Tab with `back`) until the focused element is called `name`."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused_name(page)
        if now == name:
            return
        seen.append(now)
    raise AssertionError(f"{name!r} is not reachable with the keyboard; focus went to {seen}")


def type_date(page, day: date) -> None:
    """Type a date in Chromium's date field, the focus on its first part (as after Tab)."""
    page.keyboard.type(day.strftime(DATE_ORDER[0]))


# ------------------------------------------------------------------ the page's structure

# Every visible control of <main> with no accessible name: no <label for>, no wrapping label,
# no aria-label(ledby) with text, and (buttons, links) no text of its own.
_UNNAMED_JS = """() => [...document.querySelectorAll(
    'main input:not([type=hidden]), main select, main textarea, main button, main a[href]')]
  .filter(el => {
    const text = s => (s || '').replace(/\\s+/g, ' ').trim();
    if (el.labels && [...el.labels].some(l => text(l.textContent))) return false;
    if (text(el.getAttribute('aria-label'))) return false;
    const by = el.getAttribute('aria-labelledby');
    if (by && by.split(/\\s+/).some(id => text((document.getElementById(id) || {}).textContent))) return false;
    if (['BUTTON', 'A'].includes(el.tagName) && text(el.textContent)) return false;
    return true;
  }).map(el => el.outerHTML)"""


def assert_structure(page, h1: str) -> None:
    """One h1 (the given one), one main, and a name for every control, also by Playwright's
    accessibility tree (get_by_label / to_have_accessible_name)."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(h1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
    assert page.evaluate(_UNNAMED_JS) == []
    controls = page.locator("main").locator("input:not([type=hidden]), select, textarea")
    for i in range(controls.count()):
        control = controls.nth(i)
        label = control.evaluate("el => el.labels[0].textContent.replace(/\\s+/g, ' ').trim()")
        expect(control).to_have_accessible_name(label)
        expect(page.get_by_label(label, exact=True)).to_have_count(1)
        assert page.get_by_label(label, exact=True).evaluate("(a, b) => a === b", control.element_handle())
    assert page.locator("html").get_attribute("lang") == "nl"


def assert_not_english(page) -> None:
    text = page.locator("main").inner_text()
    for word in ("Save", "Delete", "Cancel", "Edit", "Submit", "required", "Invalid", "Not a valid", "This field"):
        assert not re.search(rf"\b{word}\b", text), (word, text)


def deviation_row(page):
    return (page.get_by_role("table", name="Afwijkingen van scholen in uw gemeente")
            .get_by_role("row").filter(has_text="Studiedagen"))


# ------------------------------------------------------------------ the tests


def test_add_invalid_then_valid_edit_and_delete_with_the_keyboard(page, vakantie_app):
    from playwright.sync_api import expect

    school_id, school_naam, _ = school(vakantie_app)
    assert school_naam == SCHOOL
    before = rows(vakantie_app)

    # From the home page to Schoolvakanties, by the main menu.
    tab_to(page, "Schoolvakanties")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/beheer/schoolvakanties$"))
    assert_structure(page, f"Schoolvakanties {SCHOOLJAAR}")
    expect(page.get_by_text(f"Geen afwijkingen in {SCHOOLJAAR}")).to_be_visible()

    tab_to(page, "Vakantie toevoegen")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/beheer/schoolvakanties/nieuw"))
    assert_structure(page, "Vakantie toevoegen")
    expect(page.get_by_label("Schooljaar")).to_have_value(SCHOOLJAAR)

    # The school, a name, and a last day before the first.
    tab_to(page, "Voor wie geldt deze vakantie?")
    page.keyboard.type("Basis")  # the select's type-ahead
    expect(page.get_by_label("Voor wie geldt deze vakantie?")).to_have_value(f"school:{school_id}")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Naam van de vakantie"
    page.keyboard.type("Studiedagen")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Eerste vrije dag"
    type_date(page, BEGIN)
    tab_to(page, "Laatste vrije dag")
    type_date(page, TE_VROEG)
    expect(page.get_by_label("Eerste vrije dag")).to_have_value(BEGIN.isoformat())
    expect(page.get_by_label("Laatste vrije dag")).to_have_value(TE_VROEG.isoformat())
    page.keyboard.press("Enter")  # submits the form

    # Announced in Dutch, linked to the field, and nothing saved.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Laatste vrije dag: De laatste vrije dag ligt voor de eerste.")
    assert_structure(page, "Vakantie toevoegen")
    assert_not_english(page)
    eind = page.get_by_label("Laatste vrije dag")
    expect(eind).to_have_attribute("aria-invalid", "true")
    expect(eind).to_have_accessible_description(re.compile("De laatste vrije dag ligt voor de eerste"))
    described = eind.get_attribute("aria-describedby").split()
    expect(page.locator(f"#{described[-1]}")).to_contain_text("Kies een latere datum.")
    expect(page.get_by_label("Eerste vrije dag")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Naam van de vakantie")).to_have_value("studiedagen")  # kept
    expect(page.get_by_label("Voor wie geldt deze vakantie?")).to_have_value(f"school:{school_id}")
    assert rows(vakantie_app) == before
    assert logged(vakantie_app, "schoolvakantie") == []

    # The alert's link takes the focus to the field; the right day, and Enter.
    tab_to(page, "Laatste vrije dag: De laatste vrije dag ligt voor de eerste. Kies een latere datum.")
    page.keyboard.press("Enter")
    assert focused_name(page) == "Laatste vrije dag"
    type_date(page, EIND)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/beheer/schoolvakanties\?schooljaar={SCHOOLJAAR}$"))
    expect(page.get_by_role("status")).to_contain_text(
        f"Gelukt: de studiedagen {SCHOOLJAAR} ({SCHOOL}) is toegevoegd: van {format_datum(BEGIN)} "
        f"tot en met {format_datum(EIND)}.")
    row = deviation_row(page)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text(
        [SCHOOL, "Studiedagen", format_datum(BEGIN), format_datum(EIND), re.compile("Wijzigen")])
    assert re.fullmatch(r"\d{1,2} [a-z]+ \d{4}", format_datum(EIND)) and "november" in format_datum(BEGIN)
    saved = rows(vakantie_app, naam="studiedagen")
    assert [r[1:] for r in saved] == [(SCHOOLJAAR, "studiedagen", None, school_id, BEGIN, EIND)]
    vakantie_id = saved[0][0]
    assert logged(vakantie_app, "schoolvakantie") == [
        f"schoolvakantie toegevoegd {vakantie_id}: begin None->{BEGIN}; eind None->{EIND}; naam None->studiedagen; "
        f"school_id None->{school_id}; schooljaar None->{SCHOOLJAAR}"]

    # Change the last day.
    tab_to(page, f"Wijzigen: studiedagen van {SCHOOL}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/beheer/schoolvakanties/{vakantie_id}/wijzigen$"))
    assert_structure(page, "Vakantie wijzigen")
    expect(page.get_by_label("Laatste vrije dag")).to_have_value(EIND.isoformat())
    tab_to(page, "Laatste vrije dag")
    type_date(page, EIND_GEWIJZIGD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        f"is gewijzigd: van {format_datum(BEGIN)} tot en met {format_datum(EIND_GEWIJZIGD)}.")
    expect(deviation_row(page).get_by_role("cell").nth(3)).to_have_text(format_datum(EIND_GEWIJZIGD))
    assert [r[6] for r in rows(vakantie_app, id=vakantie_id)] == [EIND_GEWIJZIGD]
    assert logged(vakantie_app, "schoolvakantie gewijzigd") == [
        f"schoolvakantie gewijzigd {vakantie_id}: eind {EIND}->{EIND_GEWIJZIGD}"]

    # Delete: the confirmation step first, "no" keeps it.
    tab_to(page, f"Verwijderen: studiedagen van {SCHOOL}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/beheer/schoolvakanties/{vakantie_id}/verwijderen$"))
    assert_structure(page, "Vakantie verwijderen?")
    expect(page.get_by_role("main")).to_contain_text(
        f"U verwijdert de studiedagen {SCHOOLJAAR} ({SCHOOL}): van {format_datum(BEGIN)} tot en met "
        f"{format_datum(EIND_GEWIJZIGD)}.")
    assert len(rows(vakantie_app, id=vakantie_id)) == 1  # opening the page deletes nothing
    tab_to(page, "Nee, terug")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Schoolvakanties {SCHOOLJAAR}")
    expect(deviation_row(page)).to_have_count(1)
    assert len(rows(vakantie_app, id=vakantie_id)) == 1
    assert logged(vakantie_app, "schoolvakantie verwijderd") == []

    tab_to(page, f"Verwijderen: studiedagen van {SCHOOL}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vakantie verwijderen?")
    tab_to(page, "Ja, verwijder deze vakantie")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        f"Gelukt: de studiedagen {SCHOOLJAAR} ({SCHOOL}) is verwijderd.")
    expect(deviation_row(page)).to_have_count(0)
    expect(page.get_by_text(f"Geen afwijkingen in {SCHOOLJAAR}")).to_be_visible()
    assert rows(vakantie_app) == before
    assert logged(vakantie_app, "schoolvakantie verwijderd") == [
        f"schoolvakantie verwijderd {vakantie_id}: begin {BEGIN}->None; eind {EIND_GEWIJZIGD}->None; "
        f"naam studiedagen->None; school_id {school_id}->None; schooljaar {SCHOOLJAAR}->None"]

    # The beheerder finds the three changes, old -> new, under Wijzigingen.
    tab_to(page, "Wijzigingen", back=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/beheer/wijzigingen$"))
    assert_structure(page, "Wijzigingen")
    log = page.get_by_role("table", name="Wijzigingen, de nieuwste eerst")
    for what in ("toegevoegd", "gewijzigd", "verwijderd"):
        expect(log.get_by_role("row").filter(has_text=f"Schoolvakantie {what}: studiedagen {SCHOOLJAAR}")
               ).to_have_count(1)
    expect(log.get_by_role("row").filter(has_text="Schoolvakantie gewijzigd")).to_contain_text(
        f"laatste vrije dag: {format_datum(EIND)} → {format_datum(EIND_GEWIJZIGD)}")


def test_a_regional_holiday_with_a_school_name_is_refused(page, vakantie_app):
    """A region's holiday must have one of the five national names: the error is on the name."""
    from playwright.sync_api import expect

    before = rows(vakantie_app)
    page.goto(f"/beheer/schoolvakanties/nieuw?schooljaar={SCHOOLJAAR}")
    expect(page.get_by_label("Voor wie geldt deze vakantie?")).to_have_value("regio:midden")
    tab_to(page, "Naam van de vakantie")
    page.keyboard.type("studiedag")
    page.keyboard.press("Tab")
    type_date(page, BEGIN)
    tab_to(page, "Laatste vrije dag")
    type_date(page, EIND)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        "Naam van de vakantie: Een vakantie van een regio heet herfst, kerst, voorjaar, mei of zomer.")
    naam = page.get_by_label("Naam van de vakantie")
    expect(naam).to_have_attribute("aria-invalid", "true")
    expect(naam).to_have_accessible_description(re.compile("Een vakantie van een regio heet herfst"))
    expect(page.get_by_label("Laatste vrije dag")).not_to_have_attribute("aria-invalid", "true")
    assert_structure(page, "Vakantie toevoegen")
    assert rows(vakantie_app) == before


def test_every_control_on_the_list_and_an_existing_holiday_has_a_name(page, vakantie_app):
    from playwright.sync_api import expect

    page.goto(f"/beheer/schoolvakanties?schooljaar={SCHOOLJAAR}")
    assert_structure(page, f"Schoolvakanties {SCHOOLJAAR}")
    assert_not_english(page)
    expect(page.get_by_role("navigation", name="Schooljaren")).to_be_visible()
    for regio in ("Regio noord", "Regio midden", "Regio zuid"):
        expect(page.get_by_role("heading", level=2, name=regio)).to_be_visible()
    expect(page.get_by_role("combobox", name=f"Vakantieregio van {SCHOOL}")).to_be_visible()
    expect(page.get_by_role("button", name=f"Regio opslaan voor {SCHOOL}")).to_be_visible()

    # The national advice of this school year is in every region; each row's links say which
    # holiday of which region they are for (a screen reader's list of links has no table).
    for regio in ("noord", "midden", "zuid"):
        for verb in ("Wijzigen", "Verwijderen"):  # the hidden part is its own box: "Wijzigen :"
            name = re.compile(rf"^{verb} ?: herfstvakantie van regio {regio}$")
            expect(page.get_by_role("link", name=name)).to_have_count(1)
    names = page.get_by_role("main").get_by_role("link").evaluate_all(
        "links => links.map(a => a.textContent.replace(/\\s+/g, ' ').trim())")
    actions = [n for n in names if n.startswith(("Wijzigen", "Verwijderen"))]
    assert actions and len(set(actions)) == len(actions), actions

    # The edit and delete pages of a regional holiday.
    href = page.get_by_role("link", name=re.compile(r"^Wijzigen ?: herfstvakantie van regio midden$")).get_attribute("href")
    page.goto(href)
    assert_structure(page, "Vakantie wijzigen")
    assert_not_english(page)
    expect(page.get_by_label("Voor wie geldt deze vakantie?")).to_have_value("regio:midden")
    expect(page.get_by_label("Naam van de vakantie")).to_have_value("herfst")
    page.goto(href.replace("/wijzigen", "/verwijderen"))
    assert_structure(page, "Vakantie verwijderen?")
    assert_not_english(page)
    expect(page.get_by_role("button", name="Ja, verwijder deze vakantie")).to_be_visible()
    expect(page.get_by_role("link", name="Nee, terug")).to_be_visible()


def test_a_schools_region_with_the_keyboard(page, vakantie_app):
    from playwright.sync_api import expect

    school_id, _, regio = school(vakantie_app)
    assert regio == "midden"
    page.goto(f"/beheer/schoolvakanties?schooljaar={SCHOOLJAAR}")
    tab_to(page, f"Vakantieregio van {SCHOOL}")
    page.keyboard.press("ArrowUp")  # from "Regio midden" to "Regio noord"
    expect(page.get_by_label(f"Vakantieregio van {SCHOOL}")).to_have_value("noord")
    tab_to(page, f"Regio opslaan voor {SCHOOL}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Gelukt: {SCHOOL} staat nu in regio noord.")
    expect(page.get_by_label(f"Vakantieregio van {SCHOOL}")).to_have_value("noord")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Schoolvakanties {SCHOOLJAAR}")
    assert school(vakantie_app)[2] == "noord"
    assert logged(vakantie_app, "organisatie gewijzigd") == [
        f"organisatie gewijzigd {school_id}: vakantieregio midden->noord"]

    # And back, so the other tests see the demo's region.
    tab_to(page, f"Vakantieregio van {SCHOOL}")
    page.keyboard.press("ArrowDown")
    tab_to(page, f"Regio opslaan voor {SCHOOL}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Gelukt: {SCHOOL} staat nu in regio midden.")
    assert school(vakantie_app)[2] == "midden"
