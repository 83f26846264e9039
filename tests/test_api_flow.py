"""Workflow 1 end to end through the API, as each demo user, with and without consent."""
from __future__ import annotations

import itertools
import json

from conftest import render_pending
from sqlalchemy import select
from test_api_support import SAMENVATTING, TODAY, api_fixture  # noqa: F401  (the api fixture)

from casework.extensions import db
from casework.models import AccessLog, MedicalNote

CASE_KEYS = {"id", "type", "reference", "state", "state_label", "created_at", "updated_at", "version",
             "gemeente", "child", "data", "available_events", "deadlines", "history", "letters"}


def access_log(user) -> list[tuple[int, str, str]]:
    rows = db.session.scalars(select(AccessLog).where(AccessLog.user_id == user.id).order_by(AccessLog.id))
    return [(r.case_id, r.what, r.via) for r in rows]


def pdf_of(api, who: str, letter_id: int) -> bytes:
    response = api.get(who, f"/letters/{letter_id}/pdf")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/pdf"
    return response.data


def test_full_path_without_consent(api, demo):
    # The parent files the kennisgeving for Sam.
    case = api.file("ouder1")
    assert set(case) == CASE_KEYS
    assert case["state"] == "kennisgeving_ontvangen"
    assert case["child"] == {"id": demo.sam.id, "voornaam": "Sam", "achternaam": "Jansen",
                             "geboortedatum": "2017-03-14"}
    assert case["gemeente"] == {"id": demo.voorbeeldstad.id, "naam": "Gemeente Voorbeeldstad"}
    assert case["created_at"].endswith("Z") and case["updated_at"].endswith("Z")
    assert case["available_events"] == ["trek_in"]
    assert [d["kind"] for d in case["deadlines"]] == ["behandeling"]
    assert case["deadlines"][0]["overdue"] is False
    assert [(h["seq"], h["event"], h["from_state"], h["to_state"], h["actor_role"]) for h in case["history"]] == [
        (1, "dien_in", None, "kennisgeving_ontvangen", "ouder")]
    case_id = case["id"]

    # The LPA sees it in the work list and takes it in behandeling with the jeugdarts.
    listed = api.ok(api.get("lpa", "/cases"))
    assert [c["id"] for c in listed["items"]] == [case_id]
    lpa_view = api.ok(api.get("lpa", f"/cases/{case_id}"))
    assert set(lpa_view["available_events"]) == {"neem_in_behandeling", "verklaar_niet_ontvankelijk"}
    case = api.accept(lpa_view, expected_version=lpa_view["version"])
    assert case["state"] == "in_behandeling"
    assert case["data"]["deskundige_id"] == demo.arts.id

    # The jeugdarts asks the SWV for advice without consent.
    arts_view = api.ok(api.get("arts", f"/cases/{case_id}"))
    assert arts_view["available_events"] == ["vraag_advies"]
    case = api.ask_advice(arts_view, consent=False)
    assert case["state"] == "advies_gevraagd"

    # The SWV adviser reads the case: no identity anywhere.
    response = api.get("swv", f"/cases/{case_id}")
    swv_view = api.ok(response)
    assert swv_view["child"] is None
    text = response.get_data(as_text=True)
    for secret in ("Sam", "Jansen", "2017-03-14", demo.sam.bsn, "Lindelaan"):
        assert secret not in text
    assert swv_view["data"]["samenvatting"] == SAMENVATTING
    assert swv_view["available_events"] == ["breng_advies_uit"]
    assert {lt["recipient_role"] for lt in swv_view["letters"]} == {"swv"}
    # Nor does a search on the name find it for the adviser, nor the case's kenmerk: without
    # toestemming the adviser sees the advice round's own kenmerk instead.
    assert api.ok(api.get("swv", "/cases?q=Sam"))["total"] == 0
    assert api.ok(api.get("swv", f"/cases?q={case['reference']}"))["total"] == 0
    assert swv_view["reference"] != case["reference"] and swv_view["reference"].startswith("ADV-")
    # The other SWV does not see it at all.
    assert api.get("swv_naburig", f"/cases/{case_id}").status_code == 404

    case = api.give_advice(swv_view, "algemeen")
    assert case["state"] == "advies_uitgebracht"
    assert "verklaringsdatum" not in case["data"]

    # The jeugdarts gives the verklaring: not fit.
    case = api.declare(case, geschikt=False)
    assert case["state"] == "vrijgesteld"
    assert case["data"]["herbeoordelingsdatum"] is not None
    assert {d["kind"] for d in case["deadlines"]} == {"herbeoordeling", "einddatum"}
    assert db.session.scalar(select(MedicalNote.text).where(MedicalNote.case_id == case_id)) == \
        "Vertrouwelijk: diagnose X."

    # The SWV never sees the verklaring, the LPA sees outcome and period but not the weighing nor the note.
    after = api.get("swv", f"/cases/{case_id}").get_data(as_text=True)
    assert "geschikt" not in after and "verklaringsdatum" not in after
    lpa_view = api.ok(api.get("lpa", f"/cases/{case_id}"))
    assert lpa_view["data"]["geschikt"] is False and "weging_advies" not in lpa_view["data"]
    assert "diagnose" not in json.dumps(lpa_view)
    assert set(lpa_view["available_events"]) == {"start_herbeoordeling", "beeindig", "herinner_verlenging"}

    # Letters are rendered; the parent downloads its own, not the SWV's.
    statuses = render_pending()
    assert statuses and set(statuses) == {"rendered"}
    ouder_view = api.ok(api.get("ouder1", f"/cases/{case_id}"))
    ouder_letters = ouder_view["letters"]
    assert {lt["recipient_role"] for lt in ouder_letters} == {"ouder"}
    assert {lt["kind"] for lt in ouder_letters} >= {"v5a_ontvangstbevestiging", "v5a_vrijstelling"}
    assert "samenvatting" not in ouder_view["data"] and "weging_advies" not in ouder_view["data"]
    for letter in ouder_letters:
        assert letter["status"] == "rendered" and len(letter["sha256"]) == 64
        response = api.get("ouder1", f"/letters/{letter['id']}/pdf")
        assert response.data.startswith(b"%PDF")
        assert response.headers["Content-Disposition"] == \
            f'inline; filename="{letter["kind"]}-{letter["id"]}.pdf"'
        meta = api.ok(api.get("ouder1", f"/letters/{letter['id']}"))
        assert meta["case_id"] == case_id and meta["sha256"] == letter["sha256"]
        assert meta["rendered_at"].endswith("Z")
    all_letters = api.ok(api.get("lpa", f"/cases/{case_id}"))["letters"]
    swv_letter = next(lt for lt in all_letters if lt["recipient_role"] == "swv")
    assert api.get("ouder1", f"/letters/{swv_letter['id']}/pdf").status_code == 404
    assert api.get("ouder1", f"/letters/{swv_letter['id']}").status_code == 404
    assert pdf_of(api, "swv", swv_letter["id"]).startswith(b"%PDF")
    arts_letters = api.ok(api.get("arts", f"/cases/{case_id}"))["letters"]
    assert {lt["recipient_role"] for lt in arts_letters} == {"deskundige"}

    # The LPA reads the audit chain; it verifies.
    chain = api.ok(api.get("lpa", f"/cases/{case_id}/audit"))["items"]
    assert [r["event"] for r in chain] == ["dien_in", "neem_in_behandeling", "vraag_advies",
                                          "breng_advies_uit", "geef_verklaring"]
    assert [r["seq"] for r in chain] == [1, 2, 3, 4, 5]
    assert chain[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(chain))
    assert [r["actor_id"] for r in chain] == [demo.ouder1.id, demo.lpa.id, demo.arts.id, demo.swv.id,
                                             demo.arts.id]
    assert [h["event"] for h in lpa_view["history"]] == [r["event"] for r in chain]
    verify = api.ok(api.get("beheerder", "/audit/verify"))
    assert verify["ok"] is True and verify["first_bad"] is None and verify["checked"] >= 5

    # The beheerder verifies but cannot read the case; the audit chain is open to it.
    assert api.get("beheerder", f"/cases/{case_id}").status_code == 404
    assert api.ok(api.get("beheerder", f"/cases/{case_id}/audit"))["items"] == chain
    assert api.get("lpa_buurdorp", f"/cases/{case_id}/audit").status_code == 404

    # Sensitive reads were logged: never the identity for the adviser without consent.
    swv_log = access_log(demo.swv)
    assert (case_id, "identiteit", "api") not in swv_log
    assert (case_id, "advies", "api") in swv_log
    assert (case_id, "brief", "api") in swv_log
    lpa_log = access_log(demo.lpa)
    assert {(case_id, "identiteit", "api"), (case_id, "verklaring", "api"),
            (case_id, "advies", "api")} <= set(lpa_log)


def test_full_path_with_consent(api, demo):
    case = api.case_in("advies_gevraagd", consent=True)
    swv_view = api.ok(api.get("swv", f"/cases/{case['id']}"))
    assert swv_view["child"] == {"id": demo.sam.id, "voornaam": "Sam", "achternaam": "Jansen",
                                 "geboortedatum": "2017-03-14"}
    assert swv_view["data"]["toestemming"] is True
    assert swv_view["data"]["toestemming_door"] == "ouder"
    assert demo.sam.bsn not in json.dumps(swv_view)
    assert api.ok(api.get("swv", "/cases?q=sam jansen"))["total"] == 1
    case = api.give_advice(swv_view, "persoonlijk")
    assert case["data"]["advies_soort"] == "persoonlijk"
    case = api.declare(case, geschikt=True)
    assert case["state"] == "geen_vrijstelling"
    assert case["data"]["ingangsdatum"] is None
    assert (case["id"], "identiteit", "api") in access_log(demo.swv)
    render_pending()
    kinds = {lt["kind"] for lt in api.ok(api.get("ouder1", f"/cases/{case['id']}"))["letters"]}
    assert "v5a_geen_vrijstelling" in kinds and "v5a_vrijstelling" not in kinds
    ended = api.ok(api.fire("lpa", case["id"], "beeindig", reden="ingeschreven_op_school"))
    assert ended["state"] == "beeindigd" and ended["available_events"] == []
    # With the case closed, a new kennisgeving for Sam is possible again.
    assert api.file("ouder1")["id"] != case["id"]


def test_parent_withdraws_and_paper_notice_by_lpa(api, demo):
    case = api.file("ouder1", child=demo.lotte)
    withdrawn = api.ok(api.fire("ouder1", case["id"], "trek_in", reden="Toch naar school."))
    assert withdrawn["state"] == "ingetrokken" and withdrawn["deadlines"] == []
    paper = api.file("lpa", child=demo.lotte, ontvangen_op=TODAY.isoformat())
    assert paper["data"]["papier"] is True
    assert [h["actor_role"] for h in paper["history"]] == ["leerplichtambtenaar"]
    # A parent cannot backdate a notice.
    response = api.post("ouder1", "/cases", {"type": "vrijstelling_5a", "child_id": demo.daan.id,
                                             "schooljaar": "2027-2028", "ontvangen_op": "2026-01-01"})
    assert response.status_code == 422 and "ontvangen_op" in response.get_json()["fields"]


def test_niet_ontvankelijk_and_aanvulling(api):
    case = api.file()
    case = api.ok(api.fire("lpa", case["id"], "verklaar_niet_ontvankelijk", reden="Schooljaar ontbreekt."))
    assert case["state"] == "niet_ontvankelijk"
    ouder = api.ok(api.get("ouder1", f"/cases/{case['id']}"))
    assert ouder["data"]["reden_niet_ontvankelijk"] == "Schooljaar ontbreekt."
    assert set(ouder["available_events"]) == {"vul_aan", "trek_in"}
    case = api.ok(api.fire("ouder1", case["id"], "vul_aan", aanvulling="Schooljaar 2027-2028."))
    assert case["state"] == "kennisgeving_ontvangen"


def test_event_response_is_the_same_full_case_as_get(api):
    case = api.file()
    fired = api.accept(case)
    assert fired == api.ok(api.get("lpa", f"/cases/{case['id']}"))


def test_school_sees_only_a_coarse_state(demo):
    """domain.md: a school sees ontvangen / in_behandeling / afgesloten, also in the history."""
    from types import SimpleNamespace

    from casework.api.serialize import _coarse, state_for

    school = SimpleNamespace(role="school")
    expected = {"kennisgeving_ontvangen": "ontvangen", "in_behandeling": "in_behandeling",
                "advies_gevraagd": "in_behandeling", "vrijgesteld": "in_behandeling",
                "ingetrokken": "afgesloten", "beeindigd": "afgesloten", None: None}
    for state, coarse in expected.items():
        assert _coarse("vrijstelling_5a", state) == coarse
    case = SimpleNamespace(type="vrijstelling_5a", state="advies_uitgebracht")
    assert state_for(school, case) == ("in_behandeling", "In behandeling")
    assert state_for(SimpleNamespace(role="leerplichtambtenaar"), case) == \
        ("advies_uitgebracht", "Advies ontvangen")
