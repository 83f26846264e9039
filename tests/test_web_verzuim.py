"""The verzuim part of the web UI (workflow 2), through Flask's test client (CSRF is off in TestConfig).

School: its signaal or melding, and only a coarse status. LPA: the MAS investigation with the route
proposal. Parent: plain words per state. Cases are set up through the real services.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from conftest import render_pending
from sqlalchemy import func, select
from test_web import alert, count_queries, kennisgeving, logged_in, step, text

from casework import policy
from casework.extensions import db
from casework.formatting import format_datum
from casework.models import AuditEvent, Case, Child, Letter
from casework.services import cases as case_service
from casework.views import texts
from casework.workflows.verzuim import STATES

SCHOOL = "school@devoorbeeld.test"          # Basisschool De Voorbeeld: Sam, Lotte, Daan (Voorbeeldstad)
COLLEGE = "school@voorbeeldcollege.test"    # Voorbeeld College: Noor, 14 (Buurdorp)
LPA = "leerplicht@voorbeeldstad.test"
LPA_BUURDORP = "leerplicht@buurdorp.test"
OUDER1 = "ouder1@voorbeeld.test"
OUDER2 = "ouder2@voorbeeld.test"             # Noor's parent

OMSCHRIJVING = "Komt bijna elke dag te laat in het eerste uur."
SITUATIE = "Structureel te laat in het eerste lesuur (verzuimbeleid, situatie 2)."
OORZAAK = "Gamet tot diep in de nacht en verslaapt zich; ouders werken vroeg."
AFSPRAKEN = "Elke ochtend om 8.15 uur op school; wekker en telefoon 's nachts beneden."


def day(offset: int = 0) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


# ------------------------------------------------------------------ setting up through the services


def open_verzuim(actor, child, soort: str = "melding", **extra) -> Case:
    data = {"child_id": child.id, "soort": soort, "periode_start": day(-20), "periode_eind": day(-1),
            "omschrijving": OMSCHRIJVING}
    if soort == "melding":
        data.update(verzuimsoort="16_uur_4_weken", uren=20)
    else:
        data.update(uren=6, keer_te_laat=14, verzuimbeleid_situatie=SITUATIE)
    case = case_service.open_case(actor, "verzuim", {**data, **extra})
    case_service.commit()
    return case


def start_onderzoek(case: Case, lpa, **extra) -> Case:
    case_service.fire(case, "start_onderzoek", actor=lpa, data={
        "gesprek_gepland_op": day(7), "gesprek_tijd": "10:00", "gesprek_plaats": "Gemeentehuis", **extra})
    case_service.commit()
    return case


def kies_route(case: Case, lpa, route: str, categorie: str, **extra) -> Case:
    case_service.fire(case, "kies_route", actor=lpa, data={
        "route": route, "oorzaak": OORZAAK, "oorzaak_categorie": categorie, "gesprek_gevoerd_op": day(),
        "afspraken": AFSPRAKEN, "toestemming_halt": route == "halt", **extra})
    case_service.commit()
    return case


def noor_in_halt(demo) -> Case:
    """Noor (14): a melding of 20 hours, investigated, sent to Halt for absence on her own initiative."""
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    return kies_route(case, demo.lpa_buurdorp, "halt", "eigen_initiatief")


def refreshed(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def audit_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))


def verzuim_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.type == "verzuim"))


def voorstel(client, case: Case, **fields):
    """Step 1 of the route choice: record the cause, ask for the proposal."""
    data = {"oorzaak": OORZAAK, "oorzaak_categorie": "eigen_initiatief", "gesprek_gevoerd_op": day(),
            "eerdere_hulp_niet_op_gang": "nee", "ontwikkeling_in_gevaar": "nee",
            "eerdere_routes_mislukt": "nee", "ouders_werken_niet_mee": "nee",
            "expected_version": str(case.version), **fields}
    return client.post(f"/zaken/{case.id}/routevoorstel",
                       data={f"route_voorstel-{k}": v for k, v in data.items() if v is not None})


def route_choice(client, case: Case, route: str, **fields):
    """Step 2: the route, with the cause carried in the hidden inputs."""
    cause = {"oorzaak": OORZAAK, "oorzaak_categorie": "eigen_initiatief", "gesprek_gevoerd_op": day(),
             "eerdere_hulp_niet_op_gang": "nee", "ontwikkeling_in_gevaar": "nee",
             "eerdere_routes_mislukt": "nee", "ouders_werken_niet_mee": "nee"}
    return step(client, case.id, "kies_route", case.version, route=route, **{**cause, **fields})


def melding_form(child, **extra) -> dict:
    return {"child_id": child.id, "soort": "melding", "verzuimsoort": "16_uur_4_weken", "uren": "18",
            "periode_start": day(-20), "periode_eind": day(-1), "omschrijving": OMSCHRIJVING, **extra}


def signaal_form(child, **extra) -> dict:
    return {"child_id": child.id, "soort": "signaal", "uren": "6", "keer_te_laat": "14",
            "periode_start": day(-20), "periode_eind": day(-1), "omschrijving": OMSCHRIJVING,
            "verzuimbeleid_situatie": SITUATIE, **extra}


def field_error(html: str, field_id: str) -> str:
    """The text of the error shown next to one input."""
    match = re.search(rf'<div class="field-error" id="{re.escape(field_id)}-fout">(.*?)</div>', html,
                      re.DOTALL)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))).strip() if match else ""


def visible_text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# ------------------------------------------------------------------ school: signaal or melding


def test_school_home_nav_and_pupils(client, demo):
    logged_in(client, SCHOOL)
    assert client.get("/").location == "/zaken"
    html = text(client.get("/zaken"))
    assert "<h1>Verzuim</h1>" in html
    for link in ('href="/zaken"', 'href="/mijn-kinderen"', 'href="/verzuim/nieuw"'):
        assert link in html
    assert "U heeft nog geen signaal of verzuimmelding gedaan." in html

    pupils = text(client.get("/mijn-kinderen"))
    assert "<h1>Leerlingen</h1>" in pupils
    for name in ("Sam Jansen", "Lotte Jansen", "Daan Jansen"):
        assert name in pupils
    assert "Noor" not in pupils  # a pupil of another school
    assert f'href="/verzuim/nieuw?leerling={demo.sam.id}"' in pupils
    assert "Beroep doen op vrijstelling" not in pupils and "Kennisgeving registreren" not in pupils


def test_verzuim_form_explains_the_choice_and_lists_own_pupils_only(client, demo):
    sam_id = demo.sam.id
    logged_in(client, SCHOOL)
    html = text(client.get(f"/verzuim/nieuw?leerling={sam_id}"))
    assert "<h1>Verzuim melden</h1>" in html
    assert f'<option selected value="{sam_id}">' in html
    assert "Noor" not in html
    # soort: a radio group with a legend, each choice explained in one sentence tied to its radio
    assert "<legend>Wat wilt u doen?</legend>" in html
    assert 'aria-describedby="soort-0-uitleg"' in html
    assert texts.SOORT_UITLEG["signaal"] in html and "minder dan 16 uur in 4 schoolweken" in html
    assert "verplicht bij 16 uur of meer" in html
    for label in texts.VERZUIMSOORT_LABELS.values():
        assert label in html
    assert '<label for="verzuimbeleid_situatie">Welke situatie uit het verzuimbeleid van de school?</label>' in html
    assert 'id="periode_start"' in html and html.count('type="date"') == 2
    assert 'type="number"' in html


def test_school_submits_a_signaal(client, demo):
    sam_id = demo.sam.id
    logged_in(client, SCHOOL)
    # a verzuimsoort left behind from an earlier "melding" choice does not count for a signaal
    response = client.post("/verzuim/nieuw", data=signaal_form(demo.sam, verzuimsoort="luxe"))
    assert response.status_code == 302, alert(text(response))
    case = db.session.get(Case, int(response.location.rsplit("/", 1)[1]))
    assert (case.type, case.state, case.child_id) == ("verzuim", "ontvangen", sam_id)
    assert case.data["soort"] == "signaal" and case.data["verzuimsoort"] is None
    assert case.data["uren"] == 6 and case.data["keer_te_laat"] == 14
    assert case.data["verzuimbeleid_situatie"] == SITUATIE
    assert case.data["ingediend_door"] == "school"
    letters = db.session.scalars(select(Letter).where(Letter.case_id == case.id)).all()
    assert [(lt.kind, lt.recipient_role) for lt in letters] == [("vz_ontvangstbevestiging", "school")]

    page = text(client.get(response.location))
    assert f"Gelukt: het signaal is verstuurd naar de leerplichtambtenaar. Het kenmerk is {case.reference}." in page
    assert "Signaal zorgelijk verzuim" in page and SITUATIE in page
    listing = text(client.get("/zaken"))
    row = listing[listing.index(case.reference):]
    row = row[:row.index("</tr>")]
    assert "Sam Jansen" in row and "<td>Signaal</td>" in row and "<td>Ontvangen</td>" in row


def test_signaal_of_16_hours_is_refused_with_the_field_message(client, demo):
    before = verzuim_count()
    logged_in(client, SCHOOL)
    response = client.post("/verzuim/nieuw", data=signaal_form(demo.sam, uren="16"))
    assert response.status_code == 422
    html = text(response)
    message = field_error(html, "uren")
    assert "16 uur of meer" in message and "Doe een melding." in message
    assert 'aria-describedby="uren-hint uren-fout"' in html and 'aria-invalid="true"' in html
    assert '<a href="#uren">' in html  # the summary links to the input
    assert OMSCHRIJVING in html  # what was typed is kept
    assert verzuim_count() == before


@pytest.mark.parametrize("form, field, message", [
    ({"soort": None}, "soort", "Kies: een signaal of een verzuimmelding."),
    ({"verzuimbeleid_situatie": ""}, "verzuimbeleid_situatie", "Noem de situatie uit het verzuimbeleid"),
    ({"uren": "twaalf"}, "uren", "Vul een heel getal in, bijvoorbeeld 12."),
    ({"uren": "-3"}, "uren", "Vul 0 of een hoger getal in."),
    ({"soort": "melding", "verzuimsoort": None}, "verzuimsoort", "Kies de soort verzuim van de melding."),
    ({"periode_eind": day(3)}, "periode_eind", "De periode kan niet in de toekomst liggen."),
    ({"child_id": ""}, "child_id", "Kies een leerling."),
])
def test_verzuim_form_errors_are_dutch_and_next_to_the_field(client, demo, form, field, message):
    before = verzuim_count()
    logged_in(client, SCHOOL)
    data = {k: v for k, v in {**signaal_form(demo.sam), **form}.items() if v is not None}
    response = client.post("/verzuim/nieuw", data=data)
    assert response.status_code == 422
    assert message in field_error(text(response), field)
    assert verzuim_count() == before


def test_school_cannot_submit_for_another_schools_pupil(client, demo):
    noor_id = demo.noor.id
    logged_in(client, SCHOOL)
    assert "Noor" not in text(client.get(f"/verzuim/nieuw?leerling={noor_id}"))
    response = client.post("/verzuim/nieuw", data=melding_form(demo.noor))
    assert response.status_code == 422
    assert "Deze leerling is niet gevonden" in field_error(text(response), "child_id")
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.child_id == noor_id)) == 0


def test_lpa_registers_a_melding_and_others_may_not(client, demo):
    logged_in(client, LPA)
    response = client.post("/verzuim/nieuw", data=melding_form(demo.daan))
    assert response.status_code == 302, alert(text(response))
    case = db.session.get(Case, int(response.location.rsplit("/", 1)[1]))
    assert case.data["ingediend_door"] == "leerplichtambtenaar" and case.data["soort"] == "melding"
    assert "Gelukt: de verzuimmelding is verstuurd" in text(client.get(response.location))
    for email in (OUDER1, "jeugdarts@ggd-voorbeeld.test"):
        client.post("/uitloggen")
        logged_in(client, email)
        assert client.get("/verzuim/nieuw").status_code == 403
        assert client.post(f"/zaken/{case.id}/routevoorstel").status_code == 403


# ------------------------------------------------------------------ school: coarse status only


def test_school_sees_coarse_status_and_never_route_or_cause(client, demo):
    case = noor_in_halt(demo)
    reference = case.reference
    assert case.state == "halt"
    logged_in(client, COLLEGE)
    pages = {url: text(client.get(url)) for url in ("/zaken", f"/zaken/{case.id}", "/mijn-kinderen")}
    for url, html in pages.items():
        assert reference in html, url
        shown = visible_text(html)
        for word in ("Halt", "Route", "route", "In onderzoek", "oorzaak", "Oorzaak", "Voorstel", "voorstel",
                     OORZAAK, AFSPRAKEN, "Gemeentehuis", "Opvolgen"):
            assert word not in shown, (url, word)
    listing, detail = pages["/zaken"], pages[f"/zaken/{case.id}"]
    assert "<td>In behandeling</td>" in listing and "<td>Melding</td>" in listing
    assert "Eerstvolgende termijn" not in listing  # the LPA's planning would hint at the route
    assert '<span class="badge badge-state">In behandeling</span>' in detail
    assert "B – in behandeling bij de leerplichtambtenaar" in detail
    # the history in coarse terms: the route choice itself is not there at all
    assert "In behandeling genomen" in detail and "Ontvangen → In behandeling" in detail
    assert detail.count("<tr>") == 1 + 2  # header, dien_in, start_onderzoek
    assert "Termijnen" not in detail
    assert "BSN" not in detail and "Kerkstraat" not in detail
    # the coarse status filter works; a fine state is no filter for a school (and no oracle)
    assert reference in text(client.get("/zaken", query_string={"status": "in_behandeling"}))
    assert reference not in text(client.get("/zaken", query_string={"status": "ontvangen"}))
    assert '<option value="halt"' not in listing

    # Letters: the school opens its own, never the family's
    render_pending()
    letters = {lt.kind: lt.id for lt in db.session.scalars(select(Letter).where(Letter.case_id == case.id))}
    detail = text(client.get(f"/zaken/{case.id}"))
    assert f'href="/brieven/{letters["vz_ontvangstbevestiging"]}.pdf"' in detail
    response = client.get(f"/brieven/{letters['vz_ontvangstbevestiging']}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    for kind in ("vz_uitnodiging", "vz_route_halt"):
        assert f"/brieven/{letters[kind]}.pdf" not in detail
        assert client.get(f"/brieven/{letters[kind]}.pdf").status_code == 404

    # another school does not see the case at all
    client.post("/uitloggen")
    logged_in(client, SCHOOL)
    assert client.get(f"/zaken/{case.id}").status_code == 404
    assert reference not in text(client.get("/zaken"))


def test_school_error_messages_do_not_reveal_the_route(client, demo):
    case = noor_in_halt(demo)
    logged_in(client, COLLEGE)
    # The version a school sees counts only the steps it sees (policy.version_for).
    response = step(client, case.id, "trek_in", policy.version_for(demo.school_college, case),
                    reden="Vergissing.", bevestiging="y")
    assert response.status_code == 409
    html = text(response)
    assert "‘In behandeling’" in alert(html)
    assert "Halt" not in visible_text(html) and "Route" not in visible_text(html)
    assert refreshed(case.id).state == "halt"


def test_school_escalates_its_signaal_to_a_melding(client, demo):
    case = open_verzuim(demo.school, demo.sam, "signaal")
    logged_in(client, SCHOOL)
    html = text(client.get(f"/zaken/{case.id}"))
    assert "Omzetten naar verzuimmelding" in html and "Intrekken (per vergissing verstuurd)" in html
    assert "Ik weet het zeker" in html

    fields = {"verzuimsoort": "16_uur_4_weken", "periode_start": day(-20), "periode_eind": day(-1)}
    response = step(client, case.id, "escaleer_naar_melding", policy.version_for(demo.school, case), uren="12", **fields)
    assert response.status_code == 422
    assert "onder de 16 uur" in field_error(text(response), "escaleer_naar_melding-uren")
    assert refreshed(case.id).data["soort"] == "signaal"

    response = step(client, case.id, "escaleer_naar_melding", policy.version_for(demo.school, case), uren="18", **fields)
    assert response.status_code == 302
    page = text(client.get(response.location))
    assert "Gelukt: Omzetten naar verzuimmelding. De zaak staat nu op ‘In behandeling’." in page
    assert "In onderzoek" not in page
    assert "Ingediend als" in page and "Signaal zorgelijk verzuim" in page
    case = refreshed(case.id)
    assert (case.state, case.data["soort"], case.data["uren"]) == ("in_onderzoek", "melding", 18)
    assert 'id="stap-escaleer_naar_melding"' not in page  # a melding cannot be "escalated" again


def test_school_withdraws_a_mistaken_submission_with_confirmation(client, demo):
    case = open_verzuim(demo.school, demo.lotte, "melding")
    logged_in(client, SCHOOL)
    assert "Omzetten naar verzuimmelding" not in text(client.get(f"/zaken/{case.id}"))
    response = step(client, case.id, "trek_in", policy.version_for(demo.school, case), reden="Verkeerde leerling gekozen.")
    assert response.status_code == 422
    assert "Bevestig eerst" in alert(text(response))
    assert refreshed(case.id).state == "ontvangen"
    response = step(client, case.id, "trek_in", policy.version_for(demo.school, case), reden="Verkeerde leerling gekozen.",
                    bevestiging="y")
    assert response.status_code == 302
    page = text(client.get(response.location))
    assert "De zaak staat nu op ‘Afgesloten’." in page
    assert "I – ingetrokken door de school" in page
    assert refreshed(case.id).data["afsluiting"] == "ingetrokken"


# ------------------------------------------------------------------ LPA: the MAS investigation


def test_lpa_case_page_names_the_phase_and_next_step(client, demo):
    case = open_verzuim(demo.school_college, demo.noor)
    logged_in(client, LPA_BUURDORP)
    html = text(client.get(f"/zaken/{case.id}"))
    assert "Waar staat deze zaak?" in html
    assert re.search(r'class="phase-current" aria-current="step">\s*Waarnemen', html)
    assert "Volgende stap:</strong> Start het onderzoek" in html
    assert "R – geregistreerd: ontvangen, nog niet in behandeling" in html
    assert "Onderzoek starten" in html  # the deadline (5 school days) and the step
    assert 'id="start_onderzoek-gesprek_gepland_op"' in html and 'type="time"' in html
    # draag_over offers the other gemeenten only
    select_html = html[html.index('id="draag_over-gemeente_id"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert "Gemeente Voorbeeldstad" in select_html and "Gemeente Buurdorp" not in select_html

    response = step(client, case.id, "start_onderzoek", case.version, gesprek_gepland_op=day(2),
                    gesprek_tijd="14:30", gesprek_plaats="Gemeentehuis Buurdorp")
    assert response.status_code == 302, alert(text(response))
    html = text(client.get(response.location))
    assert re.search(r'class="phase-current" aria-current="step">\s*Analyseren', html)
    assert "Stap 1: de oorzaak" in html and "Routevoorstel bekijken" in html
    assert "B – in behandeling bij de leerplichtambtenaar" in html
    assert "Gesprek met ouders en leerling" in html  # the new deadline
    assert "Stap 2: kies de route" not in html  # no proposal yet


def test_route_proposal_shows_route_reason_and_prefills_the_choice(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    rows_before, version = audit_count(case.id), case.version
    logged_in(client, LPA_BUURDORP)
    response = voorstel(client, case)
    assert response.status_code == 200
    html = text(response)
    assert "Casework stelt voor: <strong>Route 2: Halt-interventie</strong>" in html
    assert "binnen de Halt-grenzen en nog niet eerder naar Halt" in html
    assert f'action="/zaken/{case.id}/routevoorstel#routevoorstel"' in html
    assert 'id="routevoorstel"' in html
    assert re.search(r'class="phase-current" aria-current="step">\s*Plannen', html)
    # step 2, prefilled: the proposal checked, the cause carried in hidden inputs
    assert re.search(r'<input checked class="voorgesteld" id="kies_route-route-\d" name="kies_route-route" '
                     r'type="radio" value="halt">', html)
    assert "Route 2: Halt-interventie <strong>(voorstel)</strong>" in html
    assert f'name="kies_route-oorzaak" type="hidden" value="{OORZAAK}"'.replace("'", "&#39;") in html
    assert 'name="kies_route-oorzaak_categorie" type="hidden" value="eigen_initiatief"' in html
    assert "Waarom kiest u een andere route?" in html
    # the proposal changes nothing
    assert audit_count(case.id) == rows_before and refreshed(case.id).version == version

    html = text(voorstel(client, case, oorzaak_categorie="thuissituatie"))
    assert "Casework stelt voor: <strong>Route 1: vrijwillige hulp</strong>" in html
    assert "Er zijn zorgen of problemen achter het verzuim: eerst hulp." in html


@pytest.mark.parametrize("fields, field, message", [
    ({"oorzaak": ""}, "oorzaak", "Beschrijf de oorzaak van het verzuim."),
    ({"gesprek_gevoerd_op": day(1)}, "gesprek_gevoerd_op", "Het gesprek kan niet in de toekomst gevoerd zijn."),
    ({"oorzaak_categorie": "weet_niet"}, "oorzaak_categorie", "Kies een soort oorzaak uit de lijst."),
])
def test_route_proposal_step_checks_the_cause(client, demo, fields, field, message):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    logged_in(client, LPA_BUURDORP)
    response = voorstel(client, case, **fields)
    assert response.status_code == 422
    html = text(response)
    assert message in field_error(html, f"route_voorstel-{field}")
    assert "Casework stelt voor" not in html


def test_choosing_another_route_needs_a_reason_and_is_audited(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    rows_before = audit_count(case.id)
    logged_in(client, LPA_BUURDORP)
    response = route_choice(client, case, "vrijwillige_hulp", afspraken=AFSPRAKEN)
    assert response.status_code == 422
    html = text(response)
    assert "U kiest een andere route dan het voorstel (Route 2: Halt-interventie)" in field_error(
        html, "kies_route-motivering_afwijking")
    assert 'aria-describedby="kies_route-motivering_afwijking-hint kies_route-motivering_afwijking-fout"' in html
    assert "Casework stelt voor: <strong>Route 2: Halt-interventie</strong>" in html  # shown again
    assert OORZAAK.replace("'", "&#39;") in html  # step 1 keeps the cause
    assert AFSPRAKEN.replace("'", "&#39;") in html  # and step 2 what was typed
    assert refreshed(case.id).state == "in_onderzoek" and audit_count(case.id) == rows_before

    motivering = "Noor wil zelf hulp bij haar slaapritme; Halt zou dat nu in de weg zitten."
    response = route_choice(client, case, "vrijwillige_hulp", afspraken=AFSPRAKEN,
                            motivering_afwijking=motivering)
    assert response.status_code == 302, alert(text(response))
    case = refreshed(case.id)
    assert case.state == "vrijwillige_hulp" and case.data["motivering_afwijking"] == motivering
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                      AuditEvent.event == "kies_route")).one()
    assert {k: row.details[k] for k in ("voorgestelde_route", "gekozen_route", "afwijking")} == {
        "voorgestelde_route": "halt", "gekozen_route": "vrijwillige_hulp", "afwijking": True}
    html = text(client.get(f"/zaken/{case.id}"))
    assert ("Voorstel: Route 2: Halt-interventie. Gekozen: Route 1: vrijwillige hulp. "
            "Afgeweken van het voorstel.") in html
    assert "Waarom een andere route dan het voorstel" in html and motivering in html


def test_route_specific_guards_come_back_at_their_fields(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    logged_in(client, LPA_BUURDORP)
    response = route_choice(client, case, "halt")  # the proposal, but without consent
    assert response.status_code == 422
    assert "Halt kan alleen met toestemming" in field_error(text(response), "kies_route-toestemming_halt")
    response = route_choice(client, case, "proces_verbaal", motivering_afwijking="Ouders weigeren alles.")
    assert response.status_code == 422
    assert "Kies tegen wie" in field_error(text(response), "kies_route-tegen")
    # a gesprek date in the future smuggled into step 2 lands at step 1's visible input
    response = route_choice(client, case, "halt", toestemming_halt="y", gesprek_gevoerd_op=day(2))
    assert response.status_code == 422
    assert "toekomst" in field_error(text(response), "route_voorstel-gesprek_gevoerd_op")
    assert refreshed(case.id).state == "in_onderzoek"


def test_a_signaal_offers_only_voluntary_help(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor, "signaal"), demo.lpa_buurdorp)
    logged_in(client, LPA_BUURDORP)
    html = text(voorstel(client, case))
    assert "Casework stelt voor: <strong>Route 1: vrijwillige hulp</strong>" in html
    assert 'value="vrijwillige_hulp"' in html and 'name="kies_route-route" type="radio" value="halt"' not in html
    response = route_choice(client, case, "halt", toestemming_halt="y")  # crafted: the guard refuses
    assert response.status_code == 422
    assert "Bij een signaal is alleen vrijwillige hulp mogelijk" in field_error(text(response), "kies_route-route")


def test_full_lpa_flow_from_onderzoek_to_afgesloten(client, demo):
    case = open_verzuim(demo.school, demo.daan)
    logged_in(client, LPA)
    url = f"/zaken/{case.id}"

    assert step(client, case.id, "start_onderzoek", case.version, gesprek_gepland_op=day(),
                gesprek_tijd="09:00", gesprek_plaats="Stadskantoor").status_code == 302
    case = refreshed(case.id)
    page = text(client.get(url))
    assert f'id="route_voorstel-gesprek_gevoerd_op" name="route_voorstel-gesprek_gevoerd_op" required ' \
           f'type="date" value="{day()}"' in page  # the planned conversation, today, prefilled

    html = text(voorstel(client, case, oorzaak_categorie="thuissituatie"))
    assert "Casework stelt voor: <strong>Route 1: vrijwillige hulp</strong>" in html
    response = route_choice(client, case, "vrijwillige_hulp", oorzaak_categorie="thuissituatie",
                            afspraken=AFSPRAKEN)
    assert response.status_code == 302, alert(text(response))
    case = refreshed(case.id)
    assert case.state == "vrijwillige_hulp"
    page = text(client.get(url))
    assert "Gekozen volgens het voorstel: Route 1: vrijwillige hulp." in page
    assert re.search(r'class="phase-current" aria-current="step">\s*Handelen', page)
    assert "De hulp is gestart" in page  # start_monitoring's outcomes for this route
    assert "Route opvolgen" in page

    response = step(client, case.id, "start_monitoring", case.version, uitkomst="hulp_gestart",
                    monitoren_tot=day(60))
    assert response.status_code == 302, alert(text(response))
    case = refreshed(case.id)
    page = text(client.get(url))
    assert case.state == "monitoring"
    assert re.search(r'class="phase-current" aria-current="step">\s*Evalueren', page)
    assert f"Volg het schoolbezoek tot {format_datum(day(60))}" in page

    response = step(client, case.id, "sluit_af", case.version, resultaat="verzuim_gestopt")
    assert response.status_code == 422 and "Bevestig eerst" in alert(text(response))
    response = step(client, case.id, "sluit_af", case.version, resultaat="verzuim_gestopt", bevestiging="y")
    assert response.status_code == 302
    case = refreshed(case.id)
    page = text(client.get(url))
    assert (case.state, case.is_open) == ("afgesloten", False)
    assert "G – afgesloten (na behandeling" in page and "Het verzuim is gestopt" in page
    assert "Wat kunt u nu doen?" not in page
    history = [row.event for row in db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq))]
    assert history == ["dien_in", "start_onderzoek", "kies_route", "start_monitoring", "sluit_af"]

    # Daan's parent reads the end in plain words
    client.post("/uitloggen")
    logged_in(client, OUDER1)
    page = visible_text(text(client.get(url)))
    assert "De zaak over het verzuim is afgesloten. Het verzuim is gestopt." in page


def test_verwijs_door_offers_only_heavier_routes(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    kies_route(case, demo.lpa_buurdorp, "vrijwillige_hulp", "thuissituatie")
    logged_in(client, LPA_BUURDORP)
    html = text(client.get(f"/zaken/{case.id}"))
    select_html = html[html.index('id="verwijs_door-route"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert re.findall(r'value="(\w+)"', select_html) == ["halt", "verplicht_kader", "proces_verbaal"]
    response = step(client, case.id, "verwijs_door", case.version, route="proces_verbaal",
                    motivering="Afspraken niet nagekomen.", tegen="ouders")
    assert response.status_code == 302, alert(text(response))
    assert refreshed(case.id).state == "proces_verbaal"
    assert "Gekozen: Route 4: proces-verbaal." in text(client.get(f"/zaken/{case.id}"))


def test_lpa_of_another_gemeente_gets_404(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    logged_in(client, LPA)
    assert client.get(f"/zaken/{case.id}").status_code == 404
    assert voorstel(client, case).status_code == 404


def test_route_proposal_only_while_in_onderzoek(client, demo):
    case = open_verzuim(demo.school_college, demo.noor)
    logged_in(client, LPA_BUURDORP)
    response = voorstel(client, case)
    assert response.status_code == 409
    assert "Een routevoorstel kan nu niet" in alert(text(response))


# ------------------------------------------------------------------ parent: plain language


def test_parent_texts_exist_for_every_verzuim_state():
    assert set(texts.VERZUIM_OUDER_STATUS) == set(STATES)
    for state in STATES:
        uitleg, _ = texts.ouder_uitleg_verzuim(state, {})
        assert len(uitleg) > 60, state
    uitleg, actie = texts.ouder_uitleg_verzuim("in_onderzoek", {
        "gesprek_gepland_op": day(3), "gesprek_tijd": "10:00", "gesprek_plaats": "Gemeentehuis"})
    assert actie and uitleg.startswith(
        f"De leerplichtambtenaar heeft u uitgenodigd voor een gesprek op {format_datum(day(3))} om 10:00 uur "
        "(Gemeentehuis).")


def test_parent_sees_plain_language_and_never_the_analysis(client, demo):
    case = start_onderzoek(open_verzuim(demo.school_college, demo.noor), demo.lpa_buurdorp)
    logged_in(client, OUDER2)
    page = visible_text(text(client.get(f"/zaken/{case.id}")))
    assert "Uitnodiging voor een gesprek" in page
    assert (f"Actie nodig: De leerplichtambtenaar heeft u uitgenodigd voor een gesprek op "
            f"{format_datum(day(7))} om 10:00 uur (Gemeentehuis).") in page
    kids = visible_text(text(client.get("/mijn-kinderen")))
    assert "Melding" in kids and "uitgenodigd voor een gesprek" in kids

    kies_route(case, demo.lpa_buurdorp, "halt", "eigen_initiatief")
    html = text(client.get(f"/zaken/{case.id}"))
    page = visible_text(html)
    assert "Aangemeld bij Halt" in page and "Halt geeft jongeren van 12 tot 18 jaar" in page
    assert "Status bij DUO" not in page
    for secret in (OORZAAK, "Voorgestelde route", "Waarom dit voorstel", "eigen keuze", "Eigen keuze",
                   "spijbelen", "Waar staat deze zaak?"):
        assert secret not in page, secret
    # letters: the parent's own, never the school's
    letters = {lt.kind: lt for lt in db.session.scalars(select(Letter).where(Letter.case_id == case.id))}
    assert "Ontvangstbevestiging signaal of verzuimmelding" not in page
    assert letters["vz_ontvangstbevestiging"].recipient_role == "school"

    client.post("/uitloggen")
    logged_in(client, OUDER1)
    assert client.get(f"/zaken/{case.id}").status_code == 404


# ------------------------------------------------------------------ the mixed work list


@pytest.fixture
def mixed(demo, monkeypatch):
    """In Voorbeeldstad: a kennisgeving for Sam, a fresh signaal for Lotte, and a melding for Daan
    received 10 days ago and not yet investigated (its 5 school days are over)."""
    sam = kennisgeving(demo.lpa, demo.sam)
    case_service.commit()
    lotte = open_verzuim(demo.school, demo.lotte, "signaal")
    received = date.today() - timedelta(days=10)
    monkeypatch.setattr(case_service, "_today", lambda: received)
    daan = open_verzuim(demo.school, demo.daan, periode_start=(received - timedelta(days=20)).isoformat(),
                        periode_eind=(received - timedelta(days=1)).isoformat())
    monkeypatch.undo()
    return {"sam": sam, "lotte": lotte, "daan": daan}


def _references(html: str) -> list[str]:
    return re.findall(r">((?:V5A|VZ)-\d{4}-\d{5})</a>", html)


def test_mixed_worklist_has_a_soort_column_and_filter(client, mixed):
    sam, lotte, daan = mixed["sam"], mixed["lotte"], mixed["daan"]
    logged_in(client, LPA)
    html = text(client.get("/zaken"))
    assert '<th scope="col">Soort</th>' in html
    assert _references(html)[0] == daan.reference  # overdue first
    for case, soort in ((sam, "Vrijstelling"), (lotte, "Signaal"), (daan, "Melding")):
        row = html[html.index(f">{case.reference}<"):]
        row = row[:row.index("</tr>")]
        assert f"<td>{soort}</td>" in row, soort
    daan_row = html[html.index(f">{daan.reference}<"):]
    assert "te laat" in daan_row[:daan_row.index("</tr>")]
    assert '<optgroup label="Vrijstelling 5 onder a">' in html and '<optgroup label="Verzuim">' in html
    assert '<label for="soort">Soort</label>' in html

    assert _references(text(client.get("/zaken", query_string={"soort": "signaal"}))) == [lotte.reference]
    assert _references(text(client.get("/zaken", query_string={"soort": "melding"}))) == [daan.reference]
    assert _references(text(client.get("/zaken", query_string={"soort": "vrijstelling"}))) == [sam.reference]
    filtered = text(client.get("/zaken", query_string={"soort": "signaal", "status": "ontvangen"}))
    assert _references(filtered) == [lotte.reference]
    assert '<option value="signaal" selected>' in filtered

    detail = text(client.get(f"/zaken/{daan.id}"))
    assert re.search(r"Onderzoek starten: <strong>[^<]+</strong> <span class=\"badge badge-late\">te laat", detail)


def test_mixed_worklist_queries_do_not_grow_with_rows(client, demo):
    school_id = demo.sam.school_id

    def make(n: int, start: int) -> None:
        for i in range(n):
            child = Child(bsn=f"8{start + i:08d}", voornaam=f"Leerling{start + i}", achternaam="Test",
                          geboortedatum=date(2013, 5, 1), geslacht="X", gemeente_id=demo.voorbeeldstad.id,
                          school_id=school_id)
            db.session.add(child)
            db.session.flush()
            kennisgeving(demo.lpa, child)
            case_service.open_case(demo.school, "verzuim", {
                "child_id": child.id, "soort": "signaal" if i % 2 else "melding",
                "verzuimsoort": None if i % 2 else "luxe", "uren": 8, "verzuimbeleid_situatie": SITUATIE,
                "periode_start": day(-10), "periode_eind": day(-1)})
        case_service.commit()

    logged_in(client, LPA)
    make(2, 0)
    with count_queries() as few:
        html = text(client.get("/zaken"))
    assert len(_references(html)) == 4
    make(12, 100)
    with count_queries() as many:
        html = text(client.get("/zaken"))
    assert len(_references(html)) == 28
    assert {"<td>Signaal</td>", "<td>Melding</td>", "<td>Vrijstelling</td>"} <= set(
        re.findall(r"<td>(?:Signaal|Melding|Vrijstelling)</td>", html))
    assert len(many) == len(few), many

    client.post("/uitloggen")
    logged_in(client, SCHOOL)
    with count_queries() as school_few:
        html = text(client.get("/zaken"))
    assert len(_references(html)) == 14 and not any(r.startswith("V5A") for r in _references(html))
    make(4, 200)
    with count_queries() as school_many:
        html = text(client.get("/zaken"))
    assert len(_references(html)) == 18
    assert len(school_many) == len(school_few), school_many


def test_every_verzuim_event_but_the_opening_one_has_a_form():
    from casework.forms.verzuim import VERZUIM_EVENT_FORMS
    from casework.workflows.verzuim import EVENTS

    assert set(VERZUIM_EVENT_FORMS) == set(EVENTS) - {"dien_in"}
