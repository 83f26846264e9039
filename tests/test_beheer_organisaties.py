"""The beheerder's organisations and the gemeente's own settings: only the organisations the
gemeente works with are there (anything else is 404), codes are checked (CBS gemeentecode, BRIN),
the own gemeente stays served, wrong input gives a Dutch error and changes nothing, every change
is recorded old -> new, and the settings take effect: the advice due date, the tick's lead times,
and the signatory and logo on the gemeente's letters (read back from the real PDF)."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from html import unescape

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from casework.extensions import db
from casework.letters.tasks import render_letter_now
from casework.models import AdminChange, Case, GemeenteInstellingen, Organisation
from casework.services.scheduler import tick
from conftest import web_signed_in
from factories import letters_of, make_case, make_user, today
from test_scheduler import _exempt, _state

BEHEER = "beheer@voorbeeldstad.test"


def page_text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def changes(**where) -> list[AdminChange]:
    return list(db.session.scalars(select(AdminChange).filter_by(**where).order_by(AdminChange.seq)))


def org_by(code: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(func.upper(Organisation.code) == code))


def png(width=300, height=80, fmt="PNG", noise=False) -> bytes:
    image = Image.new("RGB", (width, height), (31, 78, 121))
    if noise:  # incompressible pixels, for a file that is too large
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def pdf_images(pdf: bytes) -> int:
    """Images on the first page (the letterhead is there)."""
    return len(PdfReader(io.BytesIO(pdf)).pages[0].images)


def settings_form(demo, **over) -> dict:
    g = demo.voorbeeldstad
    return {"advies_termijn_dagen": "", "max_herbeoordeling_maanden": "", "herbeoordeling_lead_dagen": "",
            "verlenging_herinnering_dagen": "", "ondertekenaar_naam": "", "ondertekenaar_functie": "",
            "adres": g.adres, "postcode_plaats": g.postcode_plaats, "telefoon": g.telefoon, "email": g.email,
            **over}


# ------------------------------------------------------------------ organisations

def test_the_list_holds_the_gemeentes_own_organisations_only(client, demo):
    web_signed_in(client, BEHEER)
    text = page_text(client.get("/beheer/organisaties"))
    for naam in ("Gemeente Voorbeeldstad", "Basisschool De Voorbeeld", "SWV Voorbeeldregio", "GGD Voorbeeld"):
        assert naam in text
    # Voorbeeld College stands in Buurdorp; SWV Naburig Regio does not serve Voorbeeldstad.
    assert "Voorbeeld College" not in text and "SWV Naburige Regio" not in text.split("Buren")[0]
    college = org_by("99BB")
    assert client.get(f"/beheer/organisaties/{college.id}/wijzigen").status_code == 404
    assert client.get(f"/beheer/organisaties/{demo.buurdorp.id}/wijzigen").status_code == 404
    assert client.get("/beheer/organisaties/nieuw/gemeente").status_code == 404

    lpa = web_signed_in(client.application.test_client(), "leerplicht@voorbeeldstad.test")
    assert lpa.get("/beheer/organisaties").status_code == 403
    assert lpa.get("/beheer/instellingen").status_code == 403


@pytest.mark.parametrize("code, error", [
    ("12345", "Een BRIN-nummer is 2 cijfers en 2 letters"),
    ("99aa", "Er is al een organisatie met code 99AA"),
    ("", "Vul de code in."),
])
def test_a_school_with_a_wrong_brin_is_refused_and_nothing_is_made(client, demo, code, error):
    web_signed_in(client, BEHEER)
    before = db.session.scalar(select(func.count()).select_from(Organisation))
    response = client.post("/beheer/organisaties/nieuw/school",
                           data={"naam": "Obs De Linde", "code": code, "vakantieregio": "noord"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error in page_text(response) and 'aria-invalid="true"' in html and 'role="alert"' in html
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == before
    assert changes(onderwerp="organisatie") == []


def test_a_new_school_stands_in_the_own_gemeente_and_is_recorded(client, demo):
    web_signed_in(client, BEHEER)
    response = client.post("/beheer/organisaties/nieuw/school", data={
        "naam": "Obs De Linde", "code": " 12ab 01", "vakantieregio": "noord", "adres": "Lindelaan 4",
        "postcode_plaats": "1234 ZZ Voorbeeldstad", "telefoon": "030 444 55 66", "email": "info@delinde.test"})
    assert response.status_code == 302
    school = org_by("12AB01")
    assert (school.kind, school.gemeente_id, school.vakantieregio) == ("school", demo.voorbeeldstad.id, "noord")
    [record] = changes(onderwerp="organisatie", onderwerp_id=school.id)
    assert (record.actie, record.actor_id, record.gemeente_id) == ("toegevoegd", demo.beheerder.id,
                                                                   demo.voorbeeldstad.id)
    assert record.wijzigingen["code"] == [None, "12AB01"]
    assert record.wijzigingen["vakantieregio"] == [None, "noord"]
    assert "Obs De Linde" in page_text(client.get("/beheer/organisaties"))
    # The new school can be chosen when inviting a user.
    assert "Obs De Linde (School)" in page_text(client.get("/beheer/gebruikers/nieuw"))


def test_an_swv_keeps_serving_the_own_gemeente_and_its_changes_are_recorded(client, demo):
    web_signed_in(client, BEHEER)
    swv = demo.swv_regio
    url = f"/beheer/organisaties/{swv.id}/wijzigen"
    form = page_text(client.get(url))
    assert "Gemeenten die deze organisatie bedient" in form and "Naburige samenwerkingsverbanden" in form
    base = {"naam": swv.naam, "code": swv.code, "adres": swv.adres, "postcode_plaats": swv.postcode_plaats,
            "telefoon": swv.telefoon, "email": swv.email, "buren": [str(demo.swv_buur.id)]}

    refused = client.post(url, data={**base, "gemeenten": [str(demo.buurdorp.id)]})
    assert refused.status_code == 422 and "Vink uw eigen gemeente aan" in page_text(refused)
    db.session.expire_all()
    assert {g.id for g in swv.gemeenten} == {demo.voorbeeldstad.id, demo.buurdorp.id}

    done = client.post(url, data={**base, "telefoon": "030 999 00 00", "buren": [],
                                  "gemeenten": [str(demo.voorbeeldstad.id)]})
    assert done.status_code == 302
    db.session.expire_all()
    assert [g.id for g in swv.gemeenten] == [demo.voorbeeldstad.id] and swv.buren == []
    [record] = changes(onderwerp="organisatie", onderwerp_id=swv.id)
    assert record.wijzigingen["telefoon"] == ["030 123 45 67", "030 999 00 00"]
    assert record.wijzigingen["gemeenten"] == [["Gemeente Buurdorp", "Gemeente Voorbeeldstad"],
                                               ["Gemeente Voorbeeldstad"]]
    assert record.wijzigingen["buren"] == [["SWV Naburige Regio"], []]
    shown = page_text(client.get("/beheer/wijzigingen"))
    assert "030 123 45 67" in shown and "030 999 00 00" in shown and "naburige samenwerkingsverbanden" in shown


def test_a_new_jgz_serves_the_own_gemeente_and_another_beheerder_does_not_keep_it(app, client, demo):
    web_signed_in(client, BEHEER)
    response = client.post("/beheer/organisaties/nieuw/jgz", data={
        "naam": "GGD Kustregio", "code": "ggd-kust", "gemeenten": [str(demo.voorbeeldstad.id)]})
    assert response.status_code == 302
    jgz = org_by("GGD-KUST")
    assert [g.id for g in jgz.jgz_gemeenten] == [demo.voorbeeldstad.id]
    make_user("beheer@buurdorp.test", "beheerder", demo.buurdorp)
    db.session.commit()
    other = app.test_client()
    from conftest import web_login

    assert web_login(other, "beheer@buurdorp.test", "test-wachtwoord").status_code == 302
    assert other.get(f"/beheer/organisaties/{jgz.id}/wijzigen").status_code == 404
    assert "GGD Kustregio" not in page_text(other.get("/beheer/organisaties"))


# ------------------------------------------------------------------ settings

def test_wrong_settings_give_dutch_errors_and_change_nothing(client, demo):
    web_signed_in(client, BEHEER)
    cases = [
        ({"advies_termijn_dagen": "3"}, "Vul een aantal van 7 tot en met 90 in."),
        ({"herbeoordeling_lead_dagen": "veel"}, "Vul een heel getal in, zoals 28."),
        ({"max_herbeoordeling_maanden": "0"}, "Vul een aantal van 1 tot en met 60 in."),
        ({"ondertekenaar_functie": "Teamleider"}, "Vul ook de naam in van wie ondertekent."),
        ({"email": "geen-adres"}, "Vul een geldig e-mailadres in"),
    ]
    for over, error in cases:
        response = client.post("/beheer/instellingen", data=settings_form(demo, **over))
        assert response.status_code == 422, over
        text = page_text(response)
        assert "Niet alle gegevens zijn goed ingevuld" in text and error in text, over
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    for content, error in [
        (png(fmt="GIF"), "moet een PNG- of JPEG-bestand zijn, dit is GIF"),
        (b"dit is geen plaatje", "geen afbeelding die wij kunnen lezen"),
        (png(300, 300, noise=True), "Het logo is te groot"),
    ]:
        response = client.post("/beheer/instellingen", data={**settings_form(demo), "logo": (io.BytesIO(content), "logo.png")},
                               content_type="multipart/form-data")
        assert response.status_code == 422 and error in page_text(response)
    assert db.session.get(GemeenteInstellingen, demo.voorbeeldstad.id) is None
    assert changes(onderwerp="instellingen") == []


def test_settings_are_recorded_and_the_logo_is_kept(client, demo):
    web_signed_in(client, BEHEER)
    logo = png()
    response = client.post("/beheer/instellingen", data={
        **settings_form(demo, advies_termijn_dagen="14", ondertekenaar_naam="A. de Wit",
                        ondertekenaar_functie="Teamleider Leerplicht", telefoon="14 0999"),
        "logo": (io.BytesIO(logo), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    row = db.session.get(GemeenteInstellingen, demo.voorbeeldstad.id)
    assert (row.advies_termijn_dagen, row.logo_type, bytes(row.logo)) == (14, "image/png", logo)
    [record] = changes(onderwerp="instellingen")
    assert record.wijzigingen["advies_termijn_dagen"] == [None, 14]
    assert record.wijzigingen["telefoon"] == ["14 0123", "14 0999"]
    assert record.wijzigingen["logo"][0] is None and record.wijzigingen["logo"][1].startswith("PNG, ")
    page = client.get("/beheer/instellingen")
    assert 'value="14"' in page.get_data(as_text=True) and "Logo weghalen" in page_text(page)
    served = client.get("/beheer/instellingen/logo")
    assert served.data == logo and served.headers["Content-Type"] == "image/png"

    sample = client.get("/beheer/instellingen/voorbeeldbrief.pdf")
    assert sample.headers["Content-Type"] == "application/pdf"
    text = pdf_text(sample.data)
    assert "namens het college van burgemeester en wethouders" in text and "A. de Wit" in text
    assert "14 0999" in text and pdf_images(sample.data) == 1

    # Saving the same again changes nothing and records nothing; taking the logo away is recorded.
    client.post("/beheer/instellingen", data=settings_form(
        demo, advies_termijn_dagen="14", ondertekenaar_naam="A. de Wit",
        ondertekenaar_functie="Teamleider Leerplicht", telefoon="14 0999"))
    assert len(changes(onderwerp="instellingen")) == 1
    client.post("/beheer/instellingen", data=settings_form(
        demo, advies_termijn_dagen="14", ondertekenaar_naam="A. de Wit",
        ondertekenaar_functie="Teamleider Leerplicht", telefoon="14 0999", logo_weg="y"))
    last = changes(onderwerp="instellingen")[-1]
    assert list(last.wijzigingen) == ["logo"] and last.wijzigingen["logo"][1] is None
    assert client.get("/beheer/instellingen/logo").status_code == 404


def _set(gemeente_id: int, **values) -> None:
    row = db.session.get(GemeenteInstellingen, gemeente_id) or GemeenteInstellingen(gemeente_id=gemeente_id)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.commit()


def test_the_advice_term_of_the_gemeente_sets_the_due_date(demo):
    _set(demo.voorbeeldstad.id, advies_termijn_dagen=14)
    case = make_case(demo, "advies_gevraagd")
    assert case.data["advies_voor"] == (today() + timedelta(days=14)).isoformat()
    assert case.due_on == today() + timedelta(days=14)


def test_the_tick_follows_each_gemeentes_lead_time(app, demo):
    t = today()
    default = app.config["HERBEOORDELING_LEAD_DAYS"]
    case = _exempt(demo, herbeoordeling=t + timedelta(days=default + 10))
    tick(today=t)
    assert _state(case.id) == "vrijgesteld"  # the product's 42 days: not yet
    _set(demo.voorbeeldstad.id, herbeoordeling_lead_dagen=default + 10)
    tick(today=t)
    assert _state(case.id) == "herbeoordeling"


def test_the_renewal_reminder_follows_the_gemeentes_lead_time(app, demo):
    t = today()
    default = app.config["VERLENGING_HERINNERING_DAGEN"]
    case = _exempt(demo, eind=t + timedelta(days=default + 20), herbeoordeling=t + timedelta(days=default + 10))
    _set(demo.voorbeeldstad.id, herbeoordeling_lead_dagen=7)
    tick(today=t)
    assert "v5a_herinnering_verlenging" not in [x.kind for x in letters_of(case.id)]
    _set(demo.voorbeeldstad.id, verlenging_herinnering_dagen=default + 20)
    tick(today=t)
    assert "v5a_herinnering_verlenging" in [x.kind for x in letters_of(case.id)]


def test_the_gemeentes_letters_carry_its_signatory_and_logo_and_the_doctors_do_not(demo):
    _set(demo.voorbeeldstad.id, ondertekenaar_naam="A. de Wit", ondertekenaar_functie="Teamleider Leerplicht",
         logo=png(), logo_type="image/png")
    case = make_case(demo, "advies_gevraagd")
    by_kind = {x.kind: x for x in letters_of(case.id)}
    ontvangst, aanvraag = by_kind["v5a_ontvangstbevestiging"], by_kind["v5a_adviesaanvraag"]
    for letter in (ontvangst, aanvraag):
        assert render_letter_now(letter.id) == "rendered"
    db.session.expire_all()
    text = pdf_text(db.session.get(type(ontvangst), ontvangst.id).pdf)
    assert "namens het college van burgemeester en wethouders" in text
    assert "A. de Wit" in text and "Teamleider Leerplicht" in text
    assert pdf_images(db.session.get(type(ontvangst), ontvangst.id).pdf) == 1
    # The jeugdarts asks the SWV for advice and signs that letter; the logo is the gemeente's.
    doctor = db.session.get(type(aanvraag), aanvraag.id).pdf
    assert "namens het college" not in pdf_text(doctor) and "A. de Wit" not in pdf_text(doctor)
    assert pdf_images(doctor) == 1


def test_a_gemeente_without_settings_gets_the_letters_as_before(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = [x for x in letters_of(case.id) if x.kind == "v5a_ontvangstbevestiging"]
    render_letter_now(letter.id)
    db.session.expire_all()
    pdf = db.session.get(type(letter), letter.id).pdf
    assert "namens het college" not in pdf_text(pdf) and pdf_images(pdf) == 0
    assert db.session.get(Case, case.id).due_on is not None
