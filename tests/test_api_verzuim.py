"""Verzuim through the JSON API, as the people in the stories: a school with a pupil who is
always late, a 14-year-old through Halt, and the error codes of api.md."""
from __future__ import annotations

import io
from datetime import timedelta

from conftest import render_pending
from pypdf import PdfReader
from test_api_support import TODAY, api_fixture  # noqa: F401  (the api fixture)

from casework.services.audit import verify_chains

# Words that tell a school where a case went or why (domain.md: never to the school).
ROUTE_WORDS = ("vrijwillige_hulp", "vrijwillige hulp", "halt", "verplicht_kader",
               "proces_verbaal", "proces-verbaal", "oorzaak", "route", "in_onderzoek", "afspraken",
               "kinderbescherming")


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def school_view(api, who: str, case_id: int) -> dict:
    """The case as the school reads it, checked for anything about route, cause or help."""
    response = api.get(who, f"/cases/{case_id}")
    assert response.status_code == 200, response.get_json()
    text = response.get_data(as_text=True).lower()
    for word in ROUTE_WORDS:
        assert word not in text, f"{word!r} in the school's view"
    case = response.get_json()
    coarse = {"ontvangen", "in_behandeling", "afgesloten"}
    assert case["state"] in coarse
    assert case["state_label"] in {"Ontvangen", "In behandeling", "Afgesloten"}
    for item in case["history"]:
        assert item["from_state"] in coarse | {None} and item["to_state"] in coarse
        assert item["event"] not in ("kies_route", "verwijs_door")
    assert {lt["recipient_role"] for lt in case["letters"]} <= {"school"}
    return case


def pdf_text(api, who: str, letter_id: int) -> str:
    response = api.get(who, f"/letters/{letter_id}/pdf")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/pdf"
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.data)).pages)


# ------------------------------------------------------------------ story a: always late

def test_school_signals_a_pupil_who_is_always_late_and_escalates_at_18_hours(api, demo):
    daan = demo.daan  # Basisschool De Voorbeeld, Voorbeeldstad, child of ouder1
    body = {"type": "verzuim", "child_id": daan.id, "soort": "signaal", "verzuimsoort": None,
            "uren": 6, "keer_te_laat": 15, "periode_start": day(-20), "periode_eind": day(-1),
            "omschrijving": "Daan komt bijna elke dag te laat voor het eerste uur.",
            "verzuimbeleid_situatie": "Structureel te laat komen (verzuimbeleid, situatie 2)."}
    created = api.ok(api.post("school", "/cases", body), 201)
    case_id = created["id"]
    assert created["type"] == "verzuim" and created["reference"].startswith("VZ-")
    assert created["state"] == "ontvangen"
    assert created["data"]["soort"] == "signaal" and created["data"]["duo_status"] == "R"
    assert set(created["available_events"]) == {"trek_in", "escaleer_naar_melding"}
    assert [(lt["kind"], lt["recipient_role"]) for lt in created["letters"]] == [
        ("vz_ontvangstbevestiging", "school")]

    # The LPA of Voorbeeldstad finds it and starts the onderzoek.
    listed = api.ok(api.get("lpa", "/cases?type=verzuim"))
    assert case_id in [c["id"] for c in listed["items"]]
    lpa_view = api.ok(api.get("lpa", f"/cases/{case_id}"))
    assert set(lpa_view["available_events"]) == {
        "start_onderzoek", "neem_ter_kennisgeving_aan", "draag_over", "escaleer_naar_melding"}
    case = api.ok(api.fire("lpa", case_id, "start_onderzoek", gesprek_gepland_op=day(3),
                           gesprek_tijd="09:00", gesprek_plaats="Stadskantoor",
                           expected_version=lpa_view["version"]))
    assert case["state"] == "in_onderzoek" and case["data"]["duo_status"] == "B"

    # The LPA records the cause and asks for the proposal: a signaal means vrijwillige hulp.
    proposal = api.ok(api.post("lpa", f"/cases/{case_id}/route-voorstel",
                               {"oorzaak_categorie": "eigen_initiatief"}))
    assert proposal["route"] == "vrijwillige_hulp"
    assert proposal["label"] == "Route 1: vrijwillige hulp"
    assert "signaal" in proposal["reden"].lower()
    case = api.ok(api.fire("lpa", case_id, "kies_route", route=proposal["route"],
                           oorzaak="Daan brengt 's ochtends zijn zusje naar de opvang.",
                           oorzaak_categorie="eigen_initiatief", gesprek_gevoerd_op=day(0),
                           afspraken="Oma brengt het zusje; Daan is om 8.20 uur op school."))
    assert case["state"] == "vrijwillige_hulp"
    audit = api.ok(api.get("lpa", f"/cases/{case_id}/audit"))["items"]
    assert [r["event"] for r in audit] == ["dien_in", "start_onderzoek", "kies_route"]

    # The school sees "in behandeling", nothing about the help, and only its own letter.
    seen = school_view(api, "school", case_id)
    assert seen["state"] == "in_behandeling"
    assert seen["available_events"] == ["escaleer_naar_melding"]

    # The absence reaches 18 hours in three weeks: the school turns the signaal into a melding.
    case = school_view(api, "school", case_id)
    escalated = api.ok(api.fire("school", case_id, "escaleer_naar_melding",
                                verzuimsoort="16_uur_4_weken", uren=18, keer_te_laat=15,
                                periode_start=day(-20), periode_eind=day(-1),
                                expected_version=case["version"]))
    seen = school_view(api, "school", case_id)
    assert escalated["state"] == seen["state"] == "in_behandeling"
    assert seen["data"]["soort"] == "melding" and seen["data"]["oorspronkelijke_soort"] == "signaal"
    assert seen["data"]["verzuimsoort"] == "16_uur_4_weken" and seen["data"]["uren"] == 18
    assert seen["data"]["duo_status"] == "B"
    assert seen["available_events"] == []
    assert [(h["event"], h["from_state"], h["to_state"]) for h in seen["history"]] == [
        ("dien_in", None, "ontvangen"), ("start_onderzoek", "ontvangen", "in_behandeling"),
        ("escaleer_naar_melding", "in_behandeling", "in_behandeling")]
    assert {lt["kind"] for lt in seen["letters"]} == {"vz_ontvangstbevestiging", "vz_omzetting_school"}

    # The LPA sees the whole history; the case is back in onderzoek as a melding.
    lpa_view = api.ok(api.get("lpa", f"/cases/{case_id}"))
    assert lpa_view["state"] == "in_onderzoek" and lpa_view["data"]["soort"] == "melding"
    assert [(h["event"], h["from_state"], h["to_state"]) for h in lpa_view["history"]] == [
        ("dien_in", None, "ontvangen"), ("start_onderzoek", "ontvangen", "in_onderzoek"),
        ("kies_route", "in_onderzoek", "vrijwillige_hulp"),
        ("escaleer_naar_melding", "vrijwillige_hulp", "in_onderzoek")]
    # The parents are told about the melding.
    parent = api.ok(api.get("ouder1", f"/cases/{case_id}"))
    assert ("vz_omzetting", "ouder") in {(lt["kind"], lt["recipient_role"]) for lt in parent["letters"]}
    assert verify_chains().ok


# ------------------------------------------------------------------ story b: Noor through Halt

def test_a_melding_for_noor_goes_through_halt_to_closure(api, demo):
    noor = demo.noor  # born 2012-09-02: 14; Voorbeeld College, Buurdorp, child of ouder2
    assert noor.geboortedatum.isoformat() == "2012-09-02"
    body = {"type": "verzuim", "child_id": noor.id, "soort": "melding",
            "verzuimsoort": "16_uur_4_weken", "uren": 20, "periode_start": day(-25),
            "periode_eind": day(-1), "omschrijving": "Noor mist vooral de middaguren."}
    case = api.ok(api.post("school_college", "/cases", body), 201)
    case_id = case["id"]
    assert case["gemeente"]["naam"] == "Gemeente Buurdorp"
    duo = [api.ok(api.get("lpa_buurdorp", f"/cases/{case_id}"))["data"]["duo_status"]]
    coarse = [school_view(api, "school_college", case_id)["state"]]

    def step(event: str, **payload) -> dict:
        result = api.ok(api.fire("lpa_buurdorp", case_id, event, **payload))
        duo.append(result["data"]["duo_status"])
        coarse.append(school_view(api, "school_college", case_id)["state"])
        return result

    step("start_onderzoek", gesprek_gepland_op=day(2), gesprek_tijd="15:30",
         gesprek_plaats="Gemeentehuis Buurdorp")
    proposal = api.ok(api.post("lpa_buurdorp", f"/cases/{case_id}/route-voorstel",
                               {"oorzaak_categorie": "eigen_initiatief"}))
    assert proposal["route"] == "halt" and proposal["reden"]
    halt = step("kies_route", route="halt", oorzaak="Spijbelt met vrienden in de middag.",
                oorzaak_categorie="eigen_initiatief", gesprek_gevoerd_op=day(0),
                toestemming_halt=True)
    assert halt["state"] == "halt"
    step("start_monitoring", uitkomst="halt_positief", monitoren_tot=day(56))
    closed = step("sluit_af", resultaat="verzuim_gestopt")
    assert closed["state"] == "afgesloten"
    assert duo == ["R", "B", "B", "B", "G"]
    assert coarse == ["ontvangen", "in_behandeling", "in_behandeling", "in_behandeling", "afgesloten"]

    audit = api.ok(api.get("lpa_buurdorp", f"/cases/{case_id}/audit"))["items"]
    assert [(r["event"], r["to_state"], r["actor_role"]) for r in audit] == [
        ("dien_in", "ontvangen", "school"), ("start_onderzoek", "in_onderzoek", "leerplichtambtenaar"),
        ("kies_route", "halt", "leerplichtambtenaar"),
        ("start_monitoring", "monitoring", "leerplichtambtenaar"),
        ("sluit_af", "afgesloten", "leerplichtambtenaar")]

    # The parent sees the case and the letters addressed to them, nothing else.
    statuses = render_pending()
    assert statuses and set(statuses) == {"rendered"}
    parent = api.ok(api.get("ouder2", f"/cases/{case_id}"))
    assert parent["state"] == "afgesloten" and parent["child"]["voornaam"] == "Noor"
    assert parent["data"]["duo_status"] == "G" and parent["data"]["route"] == "halt"
    assert "oorzaak" not in parent["data"]
    assert sorted(lt["kind"] for lt in parent["letters"]) == [
        "vz_afsluiting", "vz_monitoring", "vz_route_halt", "vz_uitnodiging"]
    assert {lt["recipient_role"] for lt in parent["letters"]} == {"ouder"}
    assert all(lt["status"] == "rendered" and len(lt["sha256"]) == 64 for lt in parent["letters"])
    halt_letter = next(lt for lt in parent["letters"] if lt["kind"] == "vz_route_halt")
    assert "Halt" in pdf_text(api, "ouder2", halt_letter["id"])
    assert case["reference"] in pdf_text(api, "ouder2", halt_letter["id"])

    # Noor's own letters (she is 14) and the school's letters are not the parent's.
    lpa_letters = api.ok(api.get("lpa_buurdorp", f"/cases/{case_id}"))["letters"]
    assert {lt["kind"] for lt in lpa_letters if lt["recipient_role"] == "leerling"} == {
        "vz_uitnodiging", "vz_route_halt"}
    for letter in lpa_letters:
        if letter["recipient_role"] != "ouder":
            assert api.get("ouder2", f"/letters/{letter['id']}/pdf").status_code == 404
    # The school reads its closing letter, which does not say how the case went.
    school_letters = school_view(api, "school_college", case_id)["letters"]
    assert sorted(lt["kind"] for lt in school_letters) == [
        "vz_afsluiting_school", "vz_monitoring_school", "vz_ontvangstbevestiging"]
    for letter in school_letters:
        text = pdf_text(api, "school_college", letter["id"]).lower()
        assert "halt" not in text and "verzuim_gestopt" not in text
    # Other parents and schools do not see the case.
    assert api.get("ouder1", f"/cases/{case_id}").status_code == 404
    assert api.get("school", f"/cases/{case_id}").status_code == 404
    assert verify_chains().ok


# ------------------------------------------------------------------ story c: error codes

def _signaal(child_id: int, **extra) -> dict:
    return {"type": "verzuim", "child_id": child_id, "soort": "signaal", "uren": 10,
            "periode_start": day(-20), "periode_eind": day(-1), "omschrijving": "Vaak te laat.",
            "verzuimbeleid_situatie": "Structureel te laat.", **extra}


def _melding(child_id: int, **extra) -> dict:
    return {"type": "verzuim", "child_id": child_id, "soort": "melding",
            "verzuimsoort": "16_uur_4_weken", "uren": 18, "periode_start": day(-20),
            "periode_eind": day(-1), "omschrijving": "Mist veel lessen.", **extra}


def test_a_signaal_of_16_hours_is_422_on_uren(api, demo):
    response = api.post("school", "/cases", _signaal(demo.daan.id, uren=16))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert list(body["fields"]) == ["uren"] and "melding" in body["fields"]["uren"][0]
    assert api.ok(api.get("school", "/cases?type=verzuim"))["total"] == 0
    # 15 hours is a signaal.
    assert api.post("school", "/cases", _signaal(demo.daan.id, uren=15)).status_code == 201


def test_a_melding_without_its_facts_is_422_per_field(api, demo):
    body = _melding(demo.daan.id)
    del body["verzuimsoort"], body["uren"]
    response = api.post("school", "/cases", body)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"verzuimsoort", "uren"}


def test_a_school_firing_kies_route_is_403(api, demo):
    case = api.ok(api.post("school", "/cases", _melding(demo.daan.id)), 201)
    api.ok(api.fire("lpa", case["id"], "start_onderzoek", gesprek_gepland_op=day(1)))
    response = api.fire("school", case["id"], "kies_route", route="vrijwillige_hulp",
                        oorzaak="x", gesprek_gevoerd_op=day(0))
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    # Nor may it ask for a route proposal.
    assert api.post("school", f"/cases/{case['id']}/route-voorstel", {}).status_code == 403
    assert api.ok(api.get("lpa", f"/cases/{case['id']}"))["state"] == "in_onderzoek"


def test_another_schools_case_is_404(api, demo):
    case = api.ok(api.post("school_college", "/cases", _melding(demo.noor.id)), 201)
    for response in (api.get("school", f"/cases/{case['id']}"),
                     api.fire("school", case["id"], "trek_in", reden="Niet van ons."),
                     api.get("school", f"/letters/{case['letters'][0]['id']}")):
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert case["id"] not in [c["id"] for c in api.ok(api.get("school", "/cases"))["items"]]
    # Nor may a school report a pupil of another school.
    response = api.post("school", "/cases", _melding(demo.noor.id))
    assert response.status_code == 422 and list(response.get_json()["fields"]) == ["child_id"]
    # The LPA of another gemeente gets 404 for the case and for a route proposal.
    assert api.get("lpa", f"/cases/{case['id']}").status_code == 404
    assert api.post("lpa", f"/cases/{case['id']}/route-voorstel", {}).status_code == 404


def test_escalating_a_melding_is_409(api, demo):
    case = api.ok(api.post("school", "/cases", _melding(demo.daan.id)), 201)
    response = api.fire("school", case["id"], "escaleer_naar_melding", verzuimsoort="16_uur_4_weken",
                        uren=20, periode_start=day(-20), periode_eind=day(-1))
    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_transition"
    after = api.ok(api.get("school", f"/cases/{case['id']}"))
    assert (after["version"], len(after["history"])) == (case["version"], 1)


def test_a_route_proposal_outside_onderzoek_is_409(api, demo):
    case = api.ok(api.post("school", "/cases", _melding(demo.daan.id)), 201)
    response = api.post("lpa", f"/cases/{case['id']}/route-voorstel", {})
    assert response.status_code == 409 and response.get_json()["error"] == "invalid_transition"


def test_a_route_proposal_with_a_wrong_cause_is_422(api, demo):
    case = api.ok(api.post("school", "/cases", _melding(demo.daan.id)), 201)
    api.ok(api.fire("lpa", case["id"], "start_onderzoek", gesprek_gepland_op=day(1)))
    response = api.post("lpa", f"/cases/{case['id']}/route-voorstel",
                        {"oorzaak_categorie": "luiheid"})
    assert response.status_code == 422 and list(response.get_json()["fields"]) == ["oorzaak_categorie"]
