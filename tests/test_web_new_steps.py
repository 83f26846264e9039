"""The new steps of the law's edge cases work on the web pages too, not only through the API."""
from __future__ import annotations

from casework.extensions import db
from casework.models import Case
from factories import make_case
from factories_verzuim import make_verzuim_case
from test_web import logged_in, step, text


def _state(case_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).state


def test_parent_gives_up_the_exemption_on_the_web(client, demo):
    case = make_case(demo, "vrijgesteld")
    web = logged_in(client, "ouder1@voorbeeld.test")
    page = text(web.get(f"/zaken/{case.id}"))
    assert "Afzien van de vrijstelling" in page
    # A destructive step asks for a confirmation first; without it nothing happens.
    refused = step(web, case.id, "zie_af", case.version)
    assert refused.status_code in (200, 422) and _state(case.id) == "vrijgesteld"
    done = step(web, case.id, "zie_af", case.version, bevestiging="y")
    assert done.status_code == 302 and _state(case.id) == "beeindigd"


def test_lpa_ends_a_procedure_and_moves_the_advice_on_the_web(client, demo):
    case = make_case(demo, "advies_gevraagd")
    web = logged_in(client, "leerplicht@voorbeeldstad.test")
    page = text(web.get(f"/zaken/{case.id}"))
    assert "Advies vragen aan een ander samenwerkingsverband" in page and "Beëindigen" in page
    moved = step(web, case.id, "vraag_ander_swv", case.version, swv_id=str(demo.swv_buur.id),
                 toestemming="nee", toestemming_door="ouder", samenvatting="Anonieme schets.",
                 reden="Geen antwoord binnen de termijn.")
    assert moved.status_code == 302, text(moved)
    db.session.expire_all()
    assert db.session.get(Case, case.id).swv_id == demo.swv_buur.id


def test_lpa_goes_back_to_a_route_from_monitoring_on_the_web(client, demo):
    case = make_verzuim_case(demo, "monitoring")
    web = logged_in(client, "leerplicht@voorbeeldstad.test")
    assert "Terug naar een route" in text(web.get(f"/zaken/{case.id}"))
    missing = step(web, case.id, "hervat_route", case.version, route="vrijwillige_hulp")
    assert missing.status_code == 422 and "motivering" in text(missing)
    done = step(web, case.id, "hervat_route", case.version, route="vrijwillige_hulp",
                motivering="Sinds de monitoring mist de leerling weer lessen.")
    assert done.status_code == 302 and _state(case.id) == "vrijwillige_hulp"
