"""The server-rendered web UI, through Flask's test client (CSRF is off in TestConfig)."""
from __future__ import annotations

from html import unescape
import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from flask import g
from sqlalchemy import event, func, select

from casework import policy
from casework.extensions import db
from casework.models import AccessLog, AuditEvent, Case, Child, Letter
from casework.services import cases as case_service
from casework.services.audit import history_count
from casework.views.texts import OUDER_STATUS, STATE_UITLEG, ouder_uitleg
from casework.workflows.vrijstelling import EVENTS, STATES
from conftest import otp_code, render_pending, web_login

LPA = "leerplicht@voorbeeldstad.test"
LPA_BUURDORP = "leerplicht@buurdorp.test"
ARTS = "jeugdarts@ggd-voorbeeld.test"
SWV = "adviseur@swv-voorbeeldregio.test"
SWV_BUUR = "adviseur@swv-naburig.test"
OUDER1 = "ouder1@voorbeeld.test"
OUDER2 = "ouder2@voorbeeld.test"
BEHEER = "beheer@voorbeeldstad.test"
SCHOOL = "school@devoorbeeld.test"
WRONG_LOGIN = "Het e-mailadres of het wachtwoord klopt niet."


# ------------------------------------------------------------------ helpers


def login(client, email, password="demo", **kwargs):
    return web_login(client, email, password, **kwargs)


def logged_in(client, email):
    response = login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def alert(html: str) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def step(client, case_id, event_name, version, **fields):
    data = {f"{event_name}-{k}": v for k, v in fields.items()}
    data[f"{event_name}-expected_version"] = str(version)
    return client.post(f"/zaken/{case_id}/stap/{event_name}", data=data)


def kennisgeving(actor, child, **extra):
    data = {"child_id": child.id, "schooljaar": "2027-2028", "toelichting": "Veel angst.", **extra}
    return case_service.open_case(actor, "vrijstelling_5a", data)


def to_state(demo, state: str, *, toestemming: bool = False, child=None) -> Case:
    """A case of Sam (or `child`) driven through the real services to `state`, committed."""
    case = kennisgeving(demo.ouder1 if child is None else demo.lpa, child or demo.sam)
    path = ["kennisgeving_ontvangen", "in_behandeling", "advies_gevraagd", "advies_uitgebracht",
            "vrijgesteld"]
    steps = {
        "in_behandeling": ("neem_in_behandeling", demo.lpa, {"deskundige_id": demo.arts.id}),
        "advies_gevraagd": ("vraag_advies", demo.arts, {
            "swv_id": demo.swv_regio.id, "toestemming": toestemming,
            "toestemming_door": "ouder",
            "samenvatting": "Leerling groep 5 met ernstige angstklachten; geen schoolgang sinds maanden."}),
        "advies_uitgebracht": ("breng_advies_uit", demo.swv, {
            "advies": "Onderwijs op afstand met begeleiding.", "soort": "algemeen",
            "mogelijkheden": ["OPDC De Brug", "Onderwijs op afstand"]}),
        "vrijgesteld": ("geef_verklaring", demo.arts, {
            "geschikt": False, "weging_advies": "Advies meegewogen; nu nog niet haalbaar.",
            "verklaringsdatum": date.today().isoformat(), "niet_behandelend_arts": True,
            "ingangsdatum": date.today().isoformat(),
            "herbeoordelingsdatum": (date.today() + timedelta(days=180)).isoformat(),
            "medische_notitie": "GEHEIM: diagnose en behandelaar."}),
    }
    for target in path[1:path.index(state) + 1]:
        name, actor, data = steps[target]
        case_service.fire(case, name, actor=actor, data=data)
    case_service.commit()
    return case


def state_of(case_id: int) -> tuple[str, int]:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    return case.state, history_count(case_id)


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


# ------------------------------------------------------------------ layout, login, logout


def test_login_page_is_dutch_and_accessible(client):
    html = text(client.get("/inloggen"))
    assert '<html lang="nl">' in html
    assert html.index('class="skip-link" href="#inhoud">Naar de inhoud</a>') < html.index("<main")
    assert '<main id="inhoud"' in html
    assert '<label for="email">E-mailadres</label>' in html
    assert '<label for="wachtwoord">Wachtwoord</label>' in html
    assert 'role="status" aria-live="polite"' in html


def test_unauthenticated_goes_to_login(client):
    response = client.get("/zaken")
    assert response.status_code == 302
    assert response.location.startswith("/inloggen?next=/zaken")


@pytest.mark.parametrize("email, target", [
    (OUDER1, "/mijn-kinderen"), (LPA, "/zaken"), (ARTS, "/zaken"), (SWV, "/zaken"),
    (BEHEER, "/beheer/audit"),
])
def test_login_ok_and_home_per_role(client, email, target):
    response = login(client, email)
    assert response.status_code == 302 and response.location == "/"
    home = client.get("/")
    assert home.status_code == 302 and home.location == target
    page = client.get(target)
    assert page.status_code == 200
    assert "Uitloggen" in text(page)


def test_school_home_is_its_verzuim_overview(client):
    logged_in(client, SCHOOL)
    home = client.get("/")
    assert home.status_code == 302 and home.location == "/zaken"
    assert "<h1>Verzuim</h1>" in text(client.get("/zaken"))
    assert client.get("/kennisgeving/nieuw").status_code == 403  # vrijstelling is not the school's


def test_login_failure_same_message_for_unknown_email_and_wrong_password(client):
    wrong_password = login(client, LPA, "niet-goed")
    unknown = login(client, "niemand@nergens.test", "demo")
    assert wrong_password.status_code == unknown.status_code == 200
    assert alert(text(wrong_password)) == alert(text(unknown)) == WRONG_LOGIN
    assert client.get("/zaken").status_code == 302  # still not signed in


def test_login_is_rate_limited(client, app, monkeypatch):
    from fake_clock import install_clock

    install_clock(monkeypatch)
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_FREE_FAILURES", 2)
    login(client, LPA, "fout1")
    login(client, LPA, "fout2")
    response = login(client, LPA, "demo")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "probeer het over 1 seconde opnieuw" in alert(text(response))


@pytest.mark.parametrize("target, expected", [
    ("/zaken?status=in_behandeling", "/zaken?status=in_behandeling"),
    ("//evil.example/zaken", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_login_redirects_only_to_local_next(client, target, expected):
    response = login(client, LPA, query_string={"next": target})  # next survives the second step
    assert response.status_code == 302
    assert response.location == expected


def test_logout_really_ends_the_session(client, app):
    logged_in(client, LPA)
    assert client.get("/zaken").status_code == 200
    old_cookie = client.get_cookie("session").value

    response = client.post("/uitloggen")
    assert response.status_code == 302 and response.location == "/inloggen"
    assert client.get("/zaken").status_code == 302

    # The cookie copied before logging out is worthless now: the server rotated the session nonce.
    other = app.test_client()
    other.set_cookie("session", old_cookie)
    response = other.get("/zaken")
    assert response.status_code == 302
    assert response.location.startswith("/inloggen")


def test_logout_is_post_only(client):
    logged_in(client, LPA)
    assert client.get("/uitloggen").status_code == 405
    assert client.get("/zaken").status_code == 200


def test_csrf_is_enforced_when_enabled(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = login(client, LPA)
    assert response.status_code == 400
    assert "Formulier verlopen" in text(response)
    page = text(client.get("/inloggen"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/inloggen", data={"email": LPA, "wachtwoord": "demo", "csrf_token": token})
    assert response.status_code == 302 and response.location == "/inloggen/code"
    g.pop("csrf_token", None)  # the test's app context (and so g) outlives each request
    page = text(client.get("/inloggen/code"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/inloggen/code", data={"code": "123456"})
    assert response.status_code == 400  # the second step's form is protected too
    response = client.post("/inloggen/code", data={"code": otp_code(LPA), "csrf_token": token})
    assert response.status_code == 302 and response.location == "/"


def test_pages_send_protective_headers(client):
    logged_in(client, LPA)
    response = client.get("/zaken")
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_error_pages_are_dutch(client):
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert "Niet gevonden" in text(response) and '<html lang="nl">' in text(response)
    logged_in(client, OUDER1)
    response = client.get("/beheer/audit")
    assert response.status_code == 403
    assert "Geen toegang" in text(response)


def test_every_web_endpoint_has_a_route_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.split(".")[0] in ("web", "auth")}
    assert endpoints == {name for name in policy.ROUTE_RULES if name.split(".")[0] in ("web", "auth")}


# ------------------------------------------------------------------ work list


@pytest.fixture
def worklist(demo):
    """Four open cases in Voorbeeldstad with different deadlines, plus one in Buurdorp."""
    extra = Child(bsn="100200300", voornaam="Mila", achternaam="Bos", geboortedatum=date(2016, 1, 5),
                  geslacht="V", adres="Beukweg 1", postcode_plaats="1234 AD Voorbeeldstad",
                  gemeente_id=demo.voorbeeldstad.id, school_id=None)
    db.session.add(extra)
    db.session.flush()
    today = date.today()
    sam = kennisgeving(demo.lpa, demo.sam, ontvangen_op=(today - timedelta(days=3)).isoformat())
    lotte = kennisgeving(demo.lpa, demo.lotte, ontvangen_op=(today - timedelta(days=30)).isoformat())
    daan = kennisgeving(demo.lpa, demo.daan, ontvangen_op=(today - timedelta(days=10)).isoformat())
    mila = kennisgeving(demo.lpa, extra)
    case_service.fire(mila, "neem_in_behandeling", actor=demo.lpa,
                      data={"deskundige_id": demo.arts.id, "motivering_te_laat": "Acute situatie."})
    noor = kennisgeving(demo.ouder2, demo.noor)
    case_service.commit()
    return {"sam": sam.reference, "lotte": lotte.reference, "daan": daan.reference,
            "mila": mila.reference, "noor": noor.reference}


def test_lpa_worklist_sorted_by_due_date_with_late_marker(client, worklist):
    logged_in(client, LPA)
    html = text(client.get("/zaken"))
    assert "<h1>Werkvoorraad</h1>" in html
    order = [ref for ref in re.findall(r">(V5A-\d{4}-\d{5})</a>", html)]
    # Lotte's is due first (and overdue), then Daan's, then Sam's; Mila's due date is 6 weeks out.
    assert order == [worklist["lotte"], worklist["daan"], worklist["sam"], worklist["mila"]]
    assert worklist["noor"] not in html  # Buurdorp's case is not Voorbeeldstad's business
    lotte_row = html[html.index(worklist["lotte"]):html.index(worklist["daan"])]
    assert "te laat" in lotte_row
    assert "te laat" not in html[html.index(worklist["sam"]):]
    assert "Lotte Jansen" in html


def test_lpa_worklist_filters_by_state_and_searches(client, worklist):
    logged_in(client, LPA)
    html = text(client.get("/zaken", query_string={"status": "in_behandeling"}))
    assert re.findall(r">(V5A-\d{4}-\d{5})</a>", html) == [worklist["mila"]]
    assert '<label for="status">Status</label>' in html
    assert '<option value="in_behandeling" selected>' in html

    html = text(client.get("/zaken", query_string={"q": "lotte"}))
    assert re.findall(r">(V5A-\d{4}-\d{5})</a>", html) == [worklist["lotte"]]
    html = text(client.get("/zaken", query_string={"q": worklist["daan"]}))
    assert re.findall(r">(V5A-\d{4}-\d{5})</a>", html) == [worklist["daan"]]
    html = text(client.get("/zaken", query_string={"q": "niemand"}))
    assert "Er zijn geen zaken die passen bij uw zoekopdracht." in html


def test_worklist_paginates(client, worklist, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEB_PER_PAGE", 3)
    logged_in(client, LPA)
    first = text(client.get("/zaken"))
    second = text(client.get("/zaken", query_string={"pagina": 2}))
    assert re.findall(r">(V5A-\d{4}-\d{5})</a>", first) == [worklist["lotte"], worklist["daan"], worklist["sam"]]
    assert re.findall(r">(V5A-\d{4}-\d{5})</a>", second) == [worklist["mila"]]
    assert "Pagina 2 van 2" in second and "Volgende pagina" in first


def test_worklist_says_more_than_the_cap(client, worklist, app, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 3)
    monkeypatch.setitem(app.config, "WEB_PER_PAGE", 2)
    logged_in(client, LPA)
    html = text(client.get("/zaken"))
    assert "Meer dan 3 zaken, pagina 1 van 2." in html
    html = text(client.get("/zaken", query_string={"q": "jansen"}))  # a search counts exactly
    assert "3 zaken, pagina 1 van 2." in html and "Meer dan" not in html
    html = text(client.get("/zaken", query_string={"q": "jansen", "pagina": 7}))
    assert "pagina 2 van 2." in html  # past the end: the last page


def test_worklist_empty_state(client, demo):
    logged_in(client, LPA_BUURDORP)
    assert "Er zijn nu geen zaken voor u." in text(client.get("/zaken"))


def test_worklist_titles_per_role(client, demo):
    to_state(demo, "advies_gevraagd")
    for email, title in [(ARTS, "Mijn toegewezen zaken"), (SWV, "Adviesaanvragen"),
                         (OUDER1, "Zaken van mijn kinderen")]:
        client.post("/uitloggen")
        logged_in(client, email)
        html = text(client.get("/zaken"))
        assert f"<h1>{title}</h1>" in html


def test_worklist_queries_do_not_grow_with_rows(client, demo):
    def make(n, start):
        for i in range(n):
            child = Child(bsn=f"9{start + i:08d}", voornaam=f"Kind{start + i}", achternaam="Test",
                          geboortedatum=date(2016, 1, 1), geslacht="X",
                          gemeente_id=demo.voorbeeldstad.id)
            db.session.add(child)
            db.session.flush()
            kennisgeving(demo.lpa, child)
        case_service.commit()

    logged_in(client, LPA)
    make(3, 0)
    with count_queries() as few:
        html = text(client.get("/zaken"))
    assert html.count(">V5A-") == 3
    make(27, 100)
    with count_queries() as many:
        html = text(client.get("/zaken"))
    assert html.count(">V5A-") == 30
    assert len(many) == len(few), many


# ------------------------------------------------------------------ privacy per role


def test_swv_adviser_without_consent_never_sees_identity(client, demo):
    case = to_state(demo, "advies_gevraagd", toestemming=False)
    logged_in(client, SWV)
    forbidden = [r"\bSam\b", "Jansen", "2017", "100023757", "Lindelaan", "Basisschool", "14 maart"]
    for url in ("/zaken", f"/zaken/{case.id}"):
        html = text(client.get(url))
        # The round's own kenmerk, never the case's (which would tie it to a named round).
        assert policy.swv_round_reference(case) in html and case.reference not in html
        for pattern in forbidden:
            assert not re.search(pattern, html), (url, pattern)
    assert "Anoniem" in text(client.get("/zaken"))
    # Searching by name is no oracle either: it finds nothing.
    for q in ("sam", "Jansen", "sam jansen"):
        assert case.reference not in text(client.get("/zaken", query_string={"q": q}))
    detail = text(client.get(f"/zaken/{case.id}"))
    assert "Advies uitbrengen" in detail and "Leerling groep 5" in detail


def test_swv_adviser_with_consent_sees_the_child(client, demo):
    case = to_state(demo, "advies_gevraagd", toestemming=True)
    logged_in(client, SWV)
    html = text(client.get(f"/zaken/{case.id}"))
    assert "Sam Jansen" in html
    assert "Persoonlijk advies over dit kind" in html
    log = db.session.scalars(select(AccessLog.what).where(AccessLog.case_id == case.id)).all()
    assert "identiteit" in log


def test_neighbouring_swv_and_other_lpa_do_not_see_the_case(client, demo):
    case = to_state(demo, "advies_gevraagd")
    for email in (SWV_BUUR, LPA_BUURDORP, OUDER2):
        client.post("/uitloggen")
        logged_in(client, email)
        assert client.get(f"/zaken/{case.id}").status_code == 404
        assert case.reference not in text(client.get("/zaken"))


def test_ouder_cannot_open_or_act_on_another_familys_case(client, demo):
    case = to_state(demo, "kennisgeving_ontvangen")
    before = state_of(case.id)
    logged_in(client, OUDER2)
    response = client.get(f"/zaken/{case.id}")
    assert response.status_code == 404
    assert not re.search(r"\bSam\b", text(response))
    assert step(client, case.id, "trek_in", case.version, bevestiging="y").status_code == 404
    assert state_of(case.id) == before


def test_ouder_sees_plain_language_status_and_no_internal_fields(client, demo):
    case = to_state(demo, "advies_gevraagd")
    logged_in(client, OUDER1)
    html = text(client.get(f"/zaken/{case.id}"))
    assert "De jeugdarts heeft het samenwerkingsverband gevraagd" in html
    assert "U hoeft nu niets te doen." in html
    assert "Leerling groep 5" not in html  # the summary for the SWV is not for the parent
    assert "Dr. Aisha Bouzid" not in html  # roles, not people
    assert "Jeugdarts" in html and "Ouder of verzorger" in html


def test_parent_texts_exist_for_every_state():
    assert set(OUDER_STATUS) == set(STATES) == set(STATE_UITLEG)
    for state in STATES:
        uitleg, _ = ouder_uitleg(state, {})
        assert len(uitleg) > 40, state
    assert ouder_uitleg("niet_ontvankelijk", {"aanvullen_voor": "2026-12-21"}) == (
        "Uw kennisgeving is nog niet compleet. In de brief leest u wat er ontbreekt. "
        "Vul uw kennisgeving aan vóór 21 december 2026 met de knop hieronder. Daarna gaan wij verder.", True)


def test_every_event_but_the_opening_one_has_a_form():
    from casework.forms.events import EVENT_FORMS

    # The opening events are the kennisgeving page and the import command, not case forms.
    assert set(EVENT_FORMS) == set(EVENTS) - {"dien_in", "importeer"}


# ------------------------------------------------------------------ children and kennisgeving


def test_ouder_children_page_and_kennisgeving(client, demo):
    sam_id = demo.sam.id
    logged_in(client, OUDER1)
    html = text(client.get("/mijn-kinderen"))
    for name in ("Sam Jansen", "Lotte Jansen", "Daan Jansen"):
        assert name in html
    assert "Noor" not in html
    assert f'href="/kennisgeving/nieuw?kind={sam_id}"' in html

    form = text(client.get(f"/kennisgeving/nieuw?kind={sam_id}"))
    assert f'<option selected value="{sam_id}">' in form
    assert "Waarom kan uw kind niet naar school?" in form
    assert "ontvangen_op" not in form  # only the LPA registers a paper notice

    data = {"child_id": sam_id, "schooljaar": "2027-2028", "toelichting": "Sam heeft veel angst.",
            "eerder_vrijgesteld": "nee"}
    response = client.post("/kennisgeving/nieuw", data=data)
    assert response.status_code == 302
    case_id = int(response.location.rsplit("/", 1)[1])
    page = text(client.get(response.location))
    assert "Gelukt: de kennisgeving is ontvangen" in page
    assert "Wij hebben uw kennisgeving ontvangen." in page
    case = db.session.get(Case, case_id)
    assert case.state == "kennisgeving_ontvangen" and case.data["toelichting"] == "Sam heeft veel angst."

    # A second kennisgeving for Sam: refused, with a link to the open case, nothing created.
    count = db.session.scalar(select(func.count()).select_from(Case))
    response = client.post("/kennisgeving/nieuw", data=data)
    assert response.status_code == 409
    html = text(response)
    assert "Voor dit kind loopt al een zaak" in alert(html)
    assert f'href="/zaken/{case_id}"' in html
    assert db.session.scalar(select(func.count()).select_from(Case)) == count

    children = text(client.get("/mijn-kinderen"))
    assert "Kennisgeving ontvangen" in children and "Er loopt al een zaak" in children


def test_ouder_cannot_file_for_someone_elses_child(client, demo):
    noor_id = demo.noor.id
    logged_in(client, OUDER1)
    response = client.post("/kennisgeving/nieuw", data={
        "child_id": noor_id, "schooljaar": "2027-2028", "toelichting": "x", "eerder_vrijgesteld": "nee"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.child_id == noor_id)) == 0


def test_lpa_registers_a_paper_kennisgeving(client, demo):
    daan_id = demo.daan.id
    logged_in(client, LPA)
    form = text(client.get("/kennisgeving/nieuw"))
    assert 'type="date"' in form and "Noor" not in form
    received = (date.today() - timedelta(days=7)).isoformat()
    response = client.post("/kennisgeving/nieuw", data={
        "child_id": daan_id, "schooljaar": "2027-2028", "toelichting": "Brief van de ouders.",
        "eerder_vrijgesteld": "ja", "ontvangen_op": received})
    assert response.status_code == 302
    case = db.session.get(Case, int(response.location.rsplit("/", 1)[1]))
    assert case.data["ontvangen_op"] == received and case.data["papier"] is True
    assert case.data["eerder_vrijgesteld"] is True


def test_kennisgeving_field_errors(client, demo):
    logged_in(client, LPA)
    response = client.post("/kennisgeving/nieuw", data={
        "child_id": demo.daan.id, "schooljaar": "2027-2028", "eerder_vrijgesteld": "nee",
        "ontvangen_op": (date.today() + timedelta(days=3)).isoformat()})
    assert response.status_code == 422
    html = text(response)
    assert 'aria-describedby="ontvangen_op-hint ontvangen_op-fout"' in html
    assert "De ontvangstdatum kan niet in de toekomst liggen." in html


def test_lpa_children_search(client, demo):
    logged_in(client, LPA)
    html = text(client.get("/mijn-kinderen", query_string={"q": "lotte"}))
    assert "Lotte Jansen" in html and "Sam Jansen" not in html
    assert "Kennisgeving registreren" in html


# ------------------------------------------------------------------ case page and events


def test_lpa_takes_case_into_handling_via_form(client, demo):
    case = to_state(demo, "kennisgeving_ontvangen")
    logged_in(client, LPA)
    html = text(client.get(f"/zaken/{case.id}"))
    assert "In behandeling nemen" in html
    assert f'<option value="{demo.arts.id}">Dr. Aisha Bouzid, GGD Voorbeeld</option>' in html
    assert "Ik weet het zeker" in html  # niet-ontvankelijk verklaren asks for confirmation
    assert 'name="neem_in_behandeling-expected_version" type="hidden" value="2"' in html

    response = step(client, case.id, "neem_in_behandeling", case.version, deskundige_id=demo.arts.id)
    assert response.status_code == 302 and response.location == f"/zaken/{case.id}"
    page = text(client.get(response.location))
    assert "Gelukt: In behandeling nemen." in page
    assert state_of(case.id) == ("in_behandeling", 2)
    assert "Beoordeling door de jeugdarts" in page  # the new deadline


def test_guard_failure_shows_field_error_and_changes_nothing(client, demo):
    case = to_state(demo, "advies_uitgebracht")
    before = state_of(case.id)
    letters_before = db.session.scalar(select(func.count()).select_from(Letter).where(Letter.case_id == case.id))
    logged_in(client, ARTS)
    response = step(client, case.id, "geef_verklaring", case.version, geschikt="nee",
                    weging_advies="Meegewogen.", verklaringsdatum=date.today().isoformat(),
                    ingangsdatum=date.today().isoformat(),
                    herbeoordelingsdatum=(date.today() + timedelta(days=90)).isoformat())
    # niet_behandelend_arts not ticked
    assert response.status_code == 422
    html = text(response)
    message = "De verklaring moet komen van een deskundige die niet de behandelend arts van het kind is."
    assert message in alert(html)
    field_html = html[html.index('id="geef_verklaring-niet_behandelend_arts-fout"'):]
    assert field_html.index(message) < 400
    assert 'aria-describedby="geef_verklaring-niet_behandelend_arts-fout"' in html
    assert 'aria-invalid="true"' in html
    assert "Meegewogen." in html  # what was typed is kept
    assert state_of(case.id) == before
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Letter).where(Letter.case_id == case.id)) == letters_before


def test_missing_required_field_is_reported_in_dutch(client, demo):
    case = to_state(demo, "kennisgeving_ontvangen")
    logged_in(client, LPA)
    response = step(client, case.id, "verklaar_niet_ontvankelijk", case.version, bevestiging="y")
    assert response.status_code == 422
    html = text(response)
    assert 'id="verklaar_niet_ontvankelijk-reden-fout"' in html
    assert "Dit veld is verplicht." in html
    assert state_of(case.id)[0] == "kennisgeving_ontvangen"


def test_destructive_step_needs_confirmation(client, demo):
    case = to_state(demo, "in_behandeling")
    logged_in(client, OUDER1)
    response = step(client, case.id, "trek_in", case.version)
    assert response.status_code == 422
    assert "Bevestig eerst" in alert(text(response))
    assert state_of(case.id) == ("in_behandeling", 2)
    response = step(client, case.id, "trek_in", case.version, bevestiging="y")
    assert response.status_code == 302
    assert state_of(case.id) == ("ingetrokken", 3)
    assert "U heeft uw kennisgeving ingetrokken." in text(client.get(f"/zaken/{case.id}"))


def test_wrong_state_post_gives_409_and_changes_nothing(client, demo):
    case = to_state(demo, "in_behandeling")
    before = state_of(case.id)
    logged_in(client, LPA)
    response = step(client, case.id, "neem_in_behandeling", case.version, deskundige_id=demo.arts.id)
    assert response.status_code == 409
    assert "kan niet nu" in alert(text(response))
    assert state_of(case.id) == before


def test_stale_version_gives_409(client, demo):
    case = to_state(demo, "kennisgeving_ontvangen")
    logged_in(client, LPA)
    response = step(client, case.id, "neem_in_behandeling", case.version - 1, deskundige_id=demo.arts.id)
    assert response.status_code == 409
    assert "intussen gewijzigd" in alert(text(response))
    assert state_of(case.id) == ("kennisgeving_ontvangen", 1)


def test_event_of_another_role_gives_403_and_unknown_event_404(client, demo):
    case = to_state(demo, "kennisgeving_ontvangen")
    logged_in(client, OUDER1)
    response = step(client, case.id, "neem_in_behandeling", case.version, deskundige_id=demo.arts.id)
    assert response.status_code == 403
    assert state_of(case.id) == ("kennisgeving_ontvangen", 1)
    assert step(client, case.id, "bestaat_niet", case.version).status_code == 404


def test_jeugdarts_asks_swv_for_advice_without_consent(client, demo):
    case = to_state(demo, "in_behandeling")
    logged_in(client, ARTS)
    html = text(client.get(f"/zaken/{case.id}"))
    assert "SWV Voorbeeldregio" in html and "SWV Naburige Regio (naburig)" in html
    response = step(client, case.id, "vraag_advies", case.version, swv_id=demo.swv_regio.id,
                    toestemming="nee", toestemming_door="ouder", samenvatting="Kind van 9 met angstklachten.")
    assert response.status_code == 302, alert(text(response))
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.state == "advies_gevraagd" and case.toestemming is False
    assert case.data["toestemming_door"] == "ouder"  # a refusal names who refused


def test_swv_gives_general_advice_with_one_option_per_line(client, demo):
    case = to_state(demo, "advies_gevraagd", toestemming=False)
    logged_in(client, SWV)
    html = text(client.get(f"/zaken/{case.id}"))
    assert 'value="persoonlijk"' not in html and 'value="algemeen"' in html
    # A crafted 'persoonlijk' without consent is refused by the service's guard.
    response = step(client, case.id, "breng_advies_uit", case.version, advies="Advies.", soort="persoonlijk",
                    mogelijkheden="A")
    assert response.status_code == 422
    assert "Zonder toestemming" in text(response)
    response = step(client, case.id, "breng_advies_uit", case.version, advies="Onderwijs op afstand.",
                    soort="algemeen", mogelijkheden="OPDC De Brug\n\n  Onderwijs op afstand  \n")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).data["mogelijkheden"] == ["OPDC De Brug", "Onderwijs op afstand"]


def test_medical_note_visible_to_the_jeugdarts_only(client, demo):
    case = to_state(demo, "vrijgesteld")
    secret = "GEHEIM: diagnose en behandelaar."
    logged_in(client, ARTS)
    html = text(client.get(f"/zaken/{case.id}"))
    assert secret in html and "Medische notitie" in html
    assert "medische_notitie" in db.session.scalars(
        select(AccessLog.what).where(AccessLog.case_id == case.id)).all()
    for email in (LPA, OUDER1):
        client.post("/uitloggen")
        logged_in(client, email)
        html = text(client.get(f"/zaken/{case.id}"))
        assert secret not in html and "Medische notitie" not in html
    assert "Uw kind is vrijgesteld van de leerplicht." in html  # the ouder's view


def test_verklaring_form_sets_the_period(client, demo):
    case = to_state(demo, "advies_uitgebracht")
    logged_in(client, ARTS)
    today = date.today()
    response = step(client, case.id, "geef_verklaring", case.version, geschikt="nee",
                    weging_advies="Meegewogen.", verklaringsdatum=today.isoformat(),
                    niet_behandelend_arts="y", ingangsdatum=today.isoformat(),
                    herbeoordelingsdatum=(today + timedelta(days=200)).isoformat(),
                    medische_notitie="Notitie.")
    assert response.status_code == 302, alert(text(response))
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.state == "vrijgesteld" and case.herbeoordelingsdatum == today + timedelta(days=200)


def test_lpa_ends_exemption_with_reason(client, demo):
    case = to_state(demo, "vrijgesteld")
    logged_in(client, LPA)
    page = unescape(text(client.get(f"/zaken/{case.id}")))
    assert "De deskundige heeft beoordeeld dat de vrijstelling niet meer nodig is" in page
    assert "mag ook in deeltijd op een school staan" in page
    response = step(client, case.id, "beeindig", case.version, reden="anders", bevestiging="y")
    assert response.status_code == 422
    assert "Bij reden 'anders' is een toelichting nodig." in unescape(text(response))
    response = step(client, case.id, "beeindig", case.version, reden="ingeschreven_op_school",
                    bevestiging="y")
    assert response.status_code == 422
    assert "De inschrijving alleen beëindigt de vrijstelling dus niet." in unescape(text(response))
    assert state_of(case.id)[0] == "vrijgesteld"
    response = step(client, case.id, "beeindig", case.version, reden="ingeschreven_op_school",
                    deskundige_akkoord="y", bevestiging="y")
    assert response.status_code == 302
    assert state_of(case.id)[0] == "beeindigd"


def test_timeline_and_sensitive_read_logging(client, demo):
    case = to_state(demo, "advies_uitgebracht")
    logged_in(client, LPA)
    html = text(client.get(f"/zaken/{case.id}"))
    for label in ("Kennisgeving indienen", "In behandeling nemen", "Advies vragen aan samenwerkingsverband",
                  "Advies uitbrengen"):
        assert label in html
    assert "In behandeling → Advies gevraagd aan samenwerkingsverband" in html
    assert "Adviseur samenwerkingsverband" in html
    logged = set(db.session.scalars(select(AccessLog.what).where(AccessLog.case_id == case.id)))
    assert {"identiteit", "advies"} <= logged


# ------------------------------------------------------------------ letters


def test_letters_open_for_their_recipient_only(client, demo):
    case = to_state(demo, "in_behandeling")
    letters = {letter.kind: letter.id for letter in db.session.scalars(
        select(Letter).where(Letter.case_id == case.id))}
    ouder_letter = letters["v5a_in_behandeling_ouder"]
    arts_letter = letters["v5a_beoordelingsverzoek"]

    logged_in(client, OUDER1)
    pending = client.get(f"/brieven/{ouder_letter}.pdf")
    assert pending.status_code == 409
    assert "De brief wordt nog gemaakt" in text(pending)
    assert "Wordt gemaakt" in text(client.get(f"/zaken/{case.id}"))

    render_pending()
    page = text(client.get(f"/zaken/{case.id}"))
    assert f'href="/brieven/{ouder_letter}.pdf"' in page and "Klaar" in page
    assert f"/brieven/{arts_letter}.pdf" not in page
    response = client.get(f"/brieven/{ouder_letter}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert client.get(f"/brieven/{arts_letter}.pdf").status_code == 404

    for email, ok in ((OUDER2, False), (SWV, False), (ARTS, False), (LPA, True)):
        client.post("/uitloggen")
        logged_in(client, email)
        assert client.get(f"/brieven/{ouder_letter}.pdf").status_code == (200 if ok else 404), email
    client.post("/uitloggen")
    logged_in(client, ARTS)
    assert client.get(f"/brieven/{arts_letter}.pdf").status_code == 200


def test_failed_letter_shows_retry_status(client, demo):
    case = to_state(demo, "kennisgeving_ontvangen")
    letter = db.session.scalar(select(Letter).where(Letter.case_id == case.id))
    letter.status, letter.attempts = "failed", 1
    db.session.commit()
    logged_in(client, OUDER1)
    assert "Mislukt — probeert opnieuw" in text(client.get(f"/zaken/{case.id}"))
    response = client.get(f"/brieven/{letter.id}.pdf")
    assert response.status_code == 409 and "nog niet gelukt" in text(response)


# ------------------------------------------------------------------ administration


def test_beheerder_verifies_the_audit_chain(client, demo):
    to_state(demo, "in_behandeling")
    logged_in(client, BEHEER)
    page = text(client.get("/beheer/audit"))
    assert "Controleer de audit nu" in page
    response = client.post("/beheer/audit")
    html = text(response)
    assert response.status_code == 200
    assert "De audit is in orde." in html
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert f"{total} regels gecontroleerd" in html
    assert not re.search(r"\bSam\b", html)


def test_audit_page_names_the_first_broken_row(client, demo, monkeypatch):
    from casework.services import audit as audit_service

    monkeypatch.setattr(audit_service, "verify_chains",
                        lambda: audit_service.VerifyResult(False, 7, {"case_id": 12, "seq": 3}))
    logged_in(client, BEHEER)
    html = text(client.post("/beheer/audit"))
    assert "De audit klopt niet" in html and "zaak-id 12, stap 3" in html


def test_audit_page_is_for_beheerder_only(client, demo):
    logged_in(client, LPA)
    assert client.post("/beheer/audit").status_code == 403
