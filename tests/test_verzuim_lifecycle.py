"""Verzuim without dead ends: back to a route when the absence returns during monitoring; Halt
alongside voluntary help (MAS); a handover is reported to DUO as G, never D."""
from __future__ import annotations

import io

from pypdf import PdfReader

from casework.extensions import db
from conftest import render_pending
from factories_verzuim import (
    event_data, letters_of, make_verzuim_case, verwijs_door_data,
)
from casework.workflows.verzuim import duo_status

LPA = "leerplicht@voorbeeldstad.test"
SCHOOL = "school@devoorbeeld.test"


def _post(client, headers, case, event, data):
    return client.post(f"/api/v1/cases/{case.id}/events/{event}", json=data, headers=headers)


def _text(letter) -> str:
    db.session.refresh(letter)
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).split())


def test_back_to_a_route_when_the_absence_returns(client, demo, auth_headers):
    case = make_verzuim_case(demo, "monitoring")
    lpa = auth_headers(LPA)
    assert "hervat_route" in client.get(f"/api/v1/cases/{case.id}", headers=lpa).get_json()[
        "available_events"]
    no_reason = _post(client, lpa, case, "hervat_route", {"route": "vrijwillige_hulp"})
    assert no_reason.status_code == 422 and "motivering" in no_reason.get_json()["fields"]

    response = _post(client, lpa, case, "hervat_route",
                     event_data(demo, case, "hervat_route:vrijwillige_hulp"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "vrijwillige_hulp"
    assert body["data"]["routes"] == ["vrijwillige_hulp", "vrijwillige_hulp"]
    assert body["history"][-1]["event"] == "hervat_route"
    kinds = {(x.kind, x.recipient_role) for x in letters_of(case.id)[-2:]}
    assert ("vz_route_vrijwillige_hulp", "ouder") in kinds

    # The school sees only that the case is being handled: no route step in its history.
    school = client.get(f"/api/v1/cases/{case.id}", headers=auth_headers(SCHOOL)).get_json()
    assert school["state"] == "in_behandeling"
    assert "hervat_route" not in [h["event"] for h in school["history"]]


def test_the_route_guards_hold_when_going_back(client, demo, auth_headers):
    case = make_verzuim_case(demo, "monitoring")
    response = _post(client, auth_headers(LPA), case, "hervat_route",
                     dict(verwijs_door_data("halt"), toestemming_halt=False,
                          motivering="Weer verzuim."))
    assert response.status_code == 422
    assert "toestemming_halt" in response.get_json()["fields"]


def test_halt_alongside_voluntary_help(client, demo, auth_headers):
    case = make_verzuim_case(demo, "vrijwillige_hulp")
    lpa = auth_headers(LPA)
    wrong = _post(client, lpa, case, "verwijs_door",
                  dict(verwijs_door_data("verplicht_kader"), hulp_loopt_door=True))
    assert wrong.status_code == 422 and "hulp_loopt_door" in wrong.get_json()["fields"]

    response = _post(client, lpa, case, "verwijs_door",
                     dict(verwijs_door_data("halt"), hulp_loopt_door=True))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["hulp_loopt_door"] is True
    parent = client.get(f"/api/v1/cases/{case.id}", headers=auth_headers("ouder1@voorbeeld.test"))
    assert parent.get_json()["data"]["hulp_loopt_door"] is True
    school = client.get(f"/api/v1/cases/{case.id}", headers=auth_headers(SCHOOL)).get_json()
    assert "hulp_loopt_door" not in school["data"] and "route" not in school["data"]
    render_pending()
    [letter] = [x for x in letters_of(case.id)
                if x.kind == "vz_route_halt" and x.recipient_role == "ouder"]
    assert "De hulp en de afspraken die er al zijn, lopen gewoon door naast Halt" in _text(letter)


def test_halt_without_help_says_nothing_of_it(client, demo, auth_headers):
    case = make_verzuim_case(demo, "vrijwillige_hulp")
    response = _post(client, auth_headers(LPA), case, "verwijs_door", verwijs_door_data("halt"))
    assert response.status_code == 200
    assert response.get_json()["data"]["hulp_loopt_door"] is False
    render_pending()
    [letter] = [x for x in letters_of(case.id)
                if x.kind == "vz_route_halt" and x.recipient_role == "ouder"]
    assert "naast Halt" not in _text(letter)


def test_a_handover_is_reported_to_duo_as_g(client, demo, auth_headers):
    case = make_verzuim_case(demo, "in_onderzoek")
    response = _post(client, auth_headers(LPA), case, "draag_over",
                     {"gemeente_id": demo.buurdorp.id})
    assert response.status_code == 200
    assert response.get_json()["data"]["duo_status"] == "G"
    assert duo_status(case) == "G"
