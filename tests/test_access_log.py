"""The access log (NEN 7513, BIO2 8.15): every read of personal data names the child, who
(user, role, organisation), what, via which channel and for which processing activity; security
events; append-only in the database; the parent's page and the beheerder's query and export."""
from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from casework.extensions import db
from casework.formatting import format_datum_tijd
from casework.models import AccessLog, Letter
from conftest import api_token, render_pending, web_signed_in
from factories import make_case
from test_browser import browser_app, page, server  # noqa: F401 - fixtures

LPA = "leerplicht@voorbeeldstad.test"
OUDER1 = "ouder1@voorbeeld.test"
OUDER2 = "ouder2@voorbeeld.test"
BEHEER = "beheer@voorbeeldstad.test"


def rows(**where) -> list[AccessLog]:
    q = select(AccessLog).order_by(AccessLog.id)
    for name, value in where.items():
        q = q.where(getattr(AccessLog, name) == value)
    return list(db.session.scalars(q))


login = web_signed_in


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------- reads name the child

def test_api_case_list_logs_each_case_shown_with_child_role_organisation(client, demo):
    case = make_case(demo)
    headers = api_token(client, LPA)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    logged = [r for r in rows(what="zaken_lijst") if r.case_id == case.id]
    assert len(logged) == 1
    row = logged[0]
    assert (row.user_id, row.role, row.organisation_id, row.child_id, row.via, row.activity,
            row.kind) == (demo.lpa.id, "leerplichtambtenaar", demo.voorbeeldstad.id, demo.sam.id,
                          "api", "vrijstelling_5a", "lezen")


def test_api_children_list_and_bsn_search_are_logged(client, demo):
    headers = api_token(client, LPA)
    listed = client.get("/api/v1/children", headers=headers).get_json()["items"]
    logged = {r.child_id for r in rows(what="kinderen_lijst", user_id=demo.lpa.id)}
    assert logged == {item["id"] for item in listed} and demo.sam.id in logged
    assert client.get(f"/api/v1/children?q={demo.sam.bsn}", headers=headers).status_code == 200
    assert [r.child_id for r in rows(what="bsn_zoeken", via="api")] == [demo.sam.id]


def test_web_work_list_search_and_children_page_are_logged(client, demo):
    case = make_case(demo)
    login(client, LPA)
    assert client.get("/zaken").status_code == 200
    assert (case.id, demo.sam.id) in {(r.case_id, r.child_id) for r in rows(what="zaken_lijst", via="web")}
    assert client.get(f"/mijn-kinderen?q={demo.sam.bsn}").status_code == 200
    assert demo.sam.id in {r.child_id for r in rows(what="bsn_zoeken", via="web")}
    assert client.get("/mijn-kinderen?q=Lotte").status_code == 200
    assert demo.lotte.id in {r.child_id for r in rows(what="kinderen_zoeken", via="web")}


def test_case_detail_and_letter_pdf_name_the_child(client, demo):
    case = make_case(demo)
    render_pending()
    letter = db.session.scalar(select(Letter).where(Letter.case_id == case.id,
                                                    Letter.status == "rendered"))
    headers = api_token(client, LPA)
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/letters/{letter.id}/pdf", headers=headers).status_code == 200
    identiteit = rows(what="identiteit", case_id=case.id)
    brief = rows(what="brief", case_id=case.id)
    assert identiteit and brief
    assert {r.child_id for r in identiteit + brief} == {demo.sam.id}
    assert {r.activity for r in identiteit + brief} == {"vrijstelling_5a"}


def test_duo_dry_run_and_export_log_the_children(client, demo):
    from test_duo import NOOR, SAM, csv_file, row

    login(client, LPA)
    response = client.post("/duo/import", data={
        "bestand": (io.BytesIO(csv_file(row(SAM), row(NOOR, brin="99BB"))), "duo.csv"),
        "proefimport": "y"}, content_type="multipart/form-data")
    assert response.status_code in (200, 422)
    dry = rows(what="duo_proefimport")
    # Sam lives in the LPA's gemeente; Noor does not: her row is refused and she is not logged.
    assert [(r.child_id, r.activity, r.via) for r in dry] == [(demo.sam.id, "duo_uitwisseling", "web")]

    response = client.post("/duo/import", data={
        "bestand": (io.BytesIO(csv_file(row(SAM))), "duo.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    from datetime import date
    today = date.today().isoformat()
    assert client.post("/duo/export", data={"van": today, "tot": today}).status_code == 200
    assert [r.child_id for r in rows(what="duo_export")] == [demo.sam.id]


# ---------------------------------------------------------------- security events

def test_sign_in_sign_out_and_failed_sign_in_are_logged(client, demo):
    login(client, LPA)
    assert [r.kind for r in rows(what="inloggen", user_id=demo.lpa.id)] == ["beveiliging"]
    client.post("/uitloggen")
    assert rows(what="uitloggen", user_id=demo.lpa.id)
    client.post("/inloggen", data={"email": LPA, "wachtwoord": "fout"})
    assert rows(what="inloggen_mislukt", user_id=demo.lpa.id)
    # The right password and a wrong code: a failed sign-in too, and no sign-in logged.
    client.post("/inloggen", data={"email": LPA, "wachtwoord": "demo"})
    client.post("/inloggen/code", data={"code": "000000x"})
    assert len(rows(what="inloggen_mislukt", user_id=demo.lpa.id)) == 2
    assert len(rows(what="inloggen", user_id=demo.lpa.id)) == 1

    client.post("/inloggen", data={"email": "Niemand@Example.test", "wachtwoord": "fout"})
    unknown = [r for r in rows(what="inloggen_mislukt") if r.user_id is None]
    assert len(unknown) == 1
    assert unknown[0].subject and "niemand" not in unknown[0].subject.lower()
    # Hashed, not in clear: the address appears nowhere in the log.
    dump = " ".join(str(v) for r in rows() for v in vars(r).values())
    assert "example.test" not in dump.lower()


def test_lockout_is_logged(client, app, demo, monkeypatch):
    from fake_clock import install_clock

    install_clock(monkeypatch)  # time stands (almost) still: the next attempt must wait
    # After the free failures the next attempt must wait: refused with 429.
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        client.post("/inloggen", data={"email": "iemand@example.test", "wachtwoord": "fout"})
    response = client.post("/inloggen", data={"email": "iemand@example.test", "wachtwoord": "fout"})
    assert response.status_code == 429
    locked = rows(what="inloggen_geblokkeerd")
    assert len(locked) == 1 and locked[0].user_id is None and locked[0].subject


def test_token_creation_and_revocation_are_logged(client, demo):
    headers = api_token(client, LPA)
    assert rows(what="token_aangemaakt", user_id=demo.lpa.id)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 200
    assert rows(what="token_ingetrokken", user_id=demo.lpa.id)


def test_refused_authorizations_are_logged(client, demo):
    case = make_case(demo)
    school = api_token(client, "school@devoorbeeld.test")
    assert client.get("/api/v1/duo/export?van=2026-01-01&tot=2026-01-31",
                      headers=school).status_code == 403
    refused = rows(what="toegang_geweigerd:403 /api/v1/duo/export", user_id=demo.school.id)
    assert refused and refused[0].kind == "beveiliging"
    ouder2 = api_token(client, OUDER2)
    assert client.get(f"/api/v1/cases/{case.id}", headers=ouder2).status_code == 404
    assert rows(what=f"toegang_geweigerd:404 /api/v1/cases/{case.id}", user_id=demo.ouder2.id)
    login(client, "school@devoorbeeld.test")
    assert client.get("/duo/export").status_code == 403
    assert rows(what="toegang_geweigerd:403 /duo/export", via="web")


# ---------------------------------------------------------------- append-only

@pytest.mark.parametrize("statement", [
    "UPDATE access_log SET what = 'niets'",
    "DELETE FROM access_log",
])
def test_the_log_refuses_update_and_delete(client, demo, statement):
    api_token(client, LPA)  # at least one row
    assert rows()
    # The trigger refuses it; connected as the app role (two-role set-up) the grant already does.
    with pytest.raises(DBAPIError, match="append-only|permission denied"):
        with db.session.begin_nested():
            db.session.execute(text(statement))


def test_the_log_refuses_replace_on_sqlite(client, demo):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    api_token(client, LPA)
    first = rows()[0]
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(
                "INSERT OR REPLACE INTO access_log (id, user_id, what, via, kind, at) "
                "VALUES (:id, NULL, 'weg', 'web', 'lezen', CURRENT_TIMESTAMP)"), {"id": first.id})


# ---------------------------------------------------------------- the parent sees it

def test_parent_page_shows_organisation_and_role_not_the_staff_name(client, demo):
    case = make_case(demo)
    headers = api_token(client, LPA)
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    read = rows(what="identiteit", case_id=case.id)[-1]
    lpa_name, sam_id = demo.lpa.naam, demo.sam.id
    gemeente = demo.voorbeeldstad.naam

    login(client, OUDER1)
    home = html_of(client.get("/mijn-kinderen"))
    assert f'href="/mijn-kinderen/{sam_id}/wie-bekeek"' in home
    html = html_of(client.get(f"/mijn-kinderen/{sam_id}/wie-bekeek"))
    assert "Wie heeft de gegevens van Sam Jansen bekeken?" in html
    assert "<caption>" in html and 'scope="col"' in html
    assert gemeente in html and "Leerplichtambtenaar" in html
    assert format_datum_tijd(read.at) in html
    assert re.search(r"\d{1,2} [a-z]+ \d{4}, \d\d:\d\d", html)
    assert lpa_name not in html

    data = client.get(f"/api/v1/children/{sam_id}/access-log",
                      headers=api_token(client, OUDER1)).get_json()
    assert data["total"] >= 1
    item = next(i for i in data["items"] if i["wat"] == "identiteit")
    assert (item["organisatie"], item["rol"], item["gebruiker"]) == (gemeente, "leerplichtambtenaar", None)
    assert lpa_name not in str(data)


def test_parent_page_empty_state(client, demo):
    login(client, OUDER1)
    html = html_of(client.get(f"/mijn-kinderen/{demo.daan.id}/wie-bekeek"))
    assert "Nog niemand anders heeft de gegevens van Daan bekeken." in html


def test_a_parent_cannot_see_another_childs_log(client, demo):
    noor = demo.noor.id
    login(client, OUDER1)
    assert client.get(f"/mijn-kinderen/{noor}/wie-bekeek").status_code == 404
    headers = api_token(client, OUDER1)
    assert client.get(f"/api/v1/children/{noor}/access-log", headers=headers).status_code == 404
    assert client.get(f"/api/v1/children/{noor}/access-log",
                      headers=api_token(client, OUDER2)).status_code == 200
    lpa = api_token(client, LPA)
    assert client.get(f"/api/v1/children/{demo.sam.id}/access-log", headers=lpa).status_code == 403


# ---------------------------------------------------------------- the beheerder queries it

def test_the_beheerders_log_pages_keep_the_search(client, demo, monkeypatch):
    from casework.views import toegang

    monkeypatch.setattr(toegang, "PER_PAGE", 2)
    lpa = api_token(client, LPA)
    for _ in range(3):
        assert client.get("/api/v1/children", headers=lpa).status_code == 200
    login(client, BEHEER)
    first = html_of(client.get(f"/beheer/toegangslog?gebruiker={LPA}"))
    assert "Pagina 1 van " in first and "Vorige pagina" not in first
    link = re.search(r'<a href="([^"]+)" rel="next">Volgende pagina</a>', first).group(1)
    assert "pagina=2" in link and "gebruiker=" in link  # the search goes along to the next page
    second = html_of(client.get(unescape(link)))
    assert "Pagina 2 van " in second and 'rel="prev">Vorige pagina</a>' in second



def test_beheerder_queries_and_exports_by_child_and_user_within_its_gemeente(client, demo):
    case = make_case(demo)
    assert client.get(f"/api/v1/cases/{case.id}", headers=api_token(client, LPA)).status_code == 200
    buurdorp = api_token(client, "leerplicht@buurdorp.test")
    assert client.get("/api/v1/children", headers=buurdorp).status_code == 200
    lpa_name, sam_bsn, noor_bsn = demo.lpa.naam, demo.sam.bsn, demo.noor.bsn
    noor_id = demo.noor.id

    login(client, BEHEER)
    assert 'href="/beheer/toegangslog"' in html_of(client.get("/beheer/audit"))
    html = html_of(client.get(f"/beheer/toegangslog?bsn={sam_bsn}"))
    assert lpa_name in html and "Naam en gegevens van het kind" in html and "<caption>" in html
    html = html_of(client.get(f"/beheer/toegangslog?gebruiker={LPA}"))
    assert lpa_name in html and "Token aangemaakt" in html

    response = client.get(f"/beheer/toegangslog.csv?bsn={sam_bsn}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                                delimiter=";"))
    assert any(r["gebruiker"] == lpa_name and r["wat"] == "identiteit" for r in table)

    # Another gemeente's child and user: nothing.
    response = client.get(f"/beheer/toegangslog?bsn={noor_bsn}")
    assert response.status_code == 422
    assert "Er staat geen kind met dit BSN in uw gemeente." in html_of(response)
    html = html_of(client.get("/beheer/toegangslog?gebruiker=leerplicht@buurdorp.test"))
    assert "Er is niets gevonden in het toegangslog." in html
    assert client.get(f"/beheer/toegangslog.csv?bsn={noor_bsn}").status_code == 422
    beheer = api_token(client, BEHEER)
    assert client.get(f"/api/v1/children/{noor_id}/access-log", headers=beheer).status_code == 404
    data = client.get(f"/api/v1/children/{demo.sam.id}/access-log", headers=beheer).get_json()
    assert any(i["gebruiker"] == lpa_name for i in data["items"])


# ---------------------------------------------------------------- in a real browser

@pytest.mark.browser
@pytest.mark.no_transaction
def test_parent_reaches_the_page_by_keyboard_and_the_table_has_a_caption(page, browser_app):
    from playwright.sync_api import expect

    from test_browser import log_in

    with browser_app.app_context():
        from factories import demo_namespace

        demo = demo_namespace()
        make_case(demo)  # the parent files; the LPA reads it below
    log_in(page, LPA)
    page.goto("/zaken")  # the work list shows Sam's case: logged
    page.get_by_role("button", name="Uitloggen").click()
    log_in(page, OUDER1)
    link = page.get_by_role("link", name="Wie heeft de gegevens van Sam bekeken?")
    for _ in range(60):  # Tab until the link has the focus: it is reachable by keyboard
        page.keyboard.press("Tab")
        if link.evaluate("a => a === document.activeElement"):
            break
    else:
        pytest.fail("the link is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Wie heeft de gegevens van Sam Jansen bekeken?")
    table = page.get_by_role("table", name="Wie de gegevens van Sam Jansen heeft bekeken")
    expect(table).to_be_visible()
    expect(table.locator("caption")).to_have_text("Wie de gegevens van Sam Jansen heeft bekeken")
    expect(table.get_by_role("columnheader", name="Organisatie")).to_be_visible()
    expect(table).to_contain_text("Leerplichtambtenaar")
