"""Vrijstelling: every case has a way forward, and withdrawing never crashes (issue: no dead ends).

Through the API where a user acts; the scheduler through tick().
"""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.formatting import format_datum
from casework.models import AuditEvent, Case, Letter
from casework.services.cases import commit, fire, is_lost_race
from casework.services.duo import vrijstellingen_in_period
from casework.services.scheduler import tick
from conftest import render_pending
from factories import audit_rows, event_data, fire_and_commit, letters_of, make_case, today


def _text(letter: Letter) -> str:
    db.session.refresh(letter)
    reader = PdfReader(io.BytesIO(letter.pdf))
    return " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())


def _post(client, headers, case, event, data):
    return client.post(f"/api/v1/cases/{case.id}/events/{event}", json=data, headers=headers)


def _letters(case_id: int, kind: str) -> list[Letter]:
    render_pending()
    return [x for x in letters_of(case_id) if x.kind == kind]


def _in_herbeoordeling_advice(demo) -> Case:
    """A running exemption whose herbeoordeling has asked the SWV again."""
    case = make_case(demo, "herbeoordeling")
    return fire_and_commit(demo, case, "vraag_advies")


# ------------------------------------------------------------------ the LPA ends a procedure

def test_lpa_ends_a_procedure_before_the_verklaring(client, demo, auth_headers):
    case = make_case(demo, "in_behandeling")
    lpa = auth_headers("leerplicht@voorbeeldstad.test")

    refused = _post(client, lpa, case, "beeindig", {"reden": "verlopen"})
    assert refused.status_code == 422
    assert "nog geen vrijstelling" in refused.get_json()["fields"]["reden"][0]

    done = _post(client, lpa, case, "beeindig", {"reden": "verhuisd"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "beeindigd"
    [letter] = _letters(case.id, "v5a_procedure_beeindigd")
    text = _text(letter)
    assert "geen vrijstelling" in text and "nieuwe gemeente" in text
    assert not _letters(case.id, "v5a_beeindiging")


# ------------------------------------------------------------------ niet_ontvankelijk expires

def test_tick_closes_a_notice_not_completed_in_time_once(demo):
    case = make_case(demo, "niet_ontvankelijk")
    until = today() - timedelta(days=1)
    db.session.execute(update(Case).where(Case.id == case.id).values(
        data={**case.data, "aanvullen_voor": until.isoformat()}, due_on=until))
    commit()
    db.session.expire_all()
    waiting = make_case(demo, "niet_ontvankelijk", child=demo.lotte)  # still in its term

    lines = tick(today=today())
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "beeindigd"
    assert db.session.get(Case, waiting.id).state == "niet_ontvankelijk"
    last = audit_rows(case.id)[-1]
    assert (last.event, last.actor_role) == ("sluit_niet_aangevuld", "systeem")
    [letter] = _letters(case.id, "v5a_niet_aangevuld")
    assert f"tot en met {format_datum(until)}" in _text(letter)
    assert any(case.reference in line for line in lines)

    tick(today=today())  # twice: nothing more
    assert len([r for r in audit_rows(case.id) if r.event == "sluit_niet_aangevuld"]) == 1


def test_lpa_cannot_close_a_notice_that_can_still_be_completed(client, demo, auth_headers):
    case = make_case(demo, "niet_ontvankelijk")
    response = _post(client, auth_headers("leerplicht@voorbeeldstad.test"), case,
                     "sluit_niet_aangevuld", {})
    assert response.status_code == 422
    until = date.fromisoformat(case.data["aanvullen_voor"])
    assert format_datum(until) in response.get_json()["message"]


# ------------------------------------------------------------------ another SWV

def test_advice_moves_to_another_swv_and_the_first_loses_access(client, demo, auth_headers):
    case = make_case(demo, "advies_gevraagd")
    swv = auth_headers("adviseur@swv-voorbeeldregio.test")
    buur = auth_headers("adviseur@swv-naburig.test")
    assert client.get(f"/api/v1/cases/{case.id}", headers=swv).status_code == 200
    assert client.get(f"/api/v1/cases/{case.id}", headers=buur).status_code == 404

    arts = auth_headers("jeugdarts@ggd-voorbeeld.test")
    same = dict(event_data(demo, case, "vraag_ander_swv"), swv_id=demo.swv_regio.id)
    assert _post(client, arts, case, "vraag_ander_swv", same).status_code == 422
    no_reason = dict(event_data(demo, case, "vraag_ander_swv"), reden="")
    assert _post(client, arts, case, "vraag_ander_swv", no_reason).status_code == 422

    moved = _post(client, arts, case, "vraag_ander_swv", event_data(demo, case, "vraag_ander_swv"))
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["state"] == "advies_gevraagd"
    assert client.get(f"/api/v1/cases/{case.id}", headers=swv).status_code == 404
    assert client.get(f"/api/v1/cases/{case.id}", headers=buur).status_code == 200
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                     AuditEvent.event == "vraag_ander_swv"))
    assert row.details["reden"].startswith("Het eerste samenwerkingsverband")
    assert (row.details["vorige_swv_id"], row.details["swv_id"]) == (demo.swv_regio.id,
                                                                     demo.swv_buur.id)
    render_pending()
    to_new = [x for x in letters_of(case.id)
              if x.kind == "v5a_adviesaanvraag" and x.recipient_org_id == demo.swv_buur.id]
    assert len(to_new) == 1
    assert "Sam" not in _text(to_new[0])  # no consent: the new SWV gets no identity either
    [ouder] = _letters(case.id, "v5a_ander_swv_ouder")
    assert "SWV Naburige Regio" in _text(ouder)
    # The new SWV answers as usual.
    fire_and_commit(demo, case, "breng_advies_uit", actor=demo.swv_naburig)
    assert case.state == "advies_uitgebracht"


# ------------------------------------------------------------------ zie_af

def test_parent_gives_up_a_running_exemption_and_the_period_stays(client, demo, auth_headers):
    case = make_case(demo, "vrijgesteld")
    ingang = case.ingangsdatum
    ouder = auth_headers("ouder1@voorbeeld.test")
    response = _post(client, ouder, case, "zie_af", {"toelichting": "Het gaat weer."})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "beeindigd"
    [row] = [r for r in vrijstellingen_in_period([demo.voorbeeldstad.id], ingang, ingang + timedelta(days=400))
             if r.id == case.id]
    assert (row.ingangsdatum, row.end) == (ingang, today())
    [letter] = _letters(case.id, "v5a_afzien")
    assert f"gestopt op {format_datum(today())}" in _text(letter)


def test_zie_af_needs_a_running_exemption(client, demo, auth_headers):
    case = make_case(demo, "advies_gevraagd")  # a first procedure: nothing runs yet
    response = _post(client, auth_headers("ouder1@voorbeeld.test"), case, "zie_af", {})
    assert response.status_code == 409
    assert "intrekken" in response.get_json()["message"]


# ------------------------------------------------------------------ during a herbeoordeling

def test_withdrawing_during_a_herbeoordeling_is_a_clear_409(client, demo, auth_headers):
    case = _in_herbeoordeling_advice(demo)
    ouder = auth_headers("ouder1@voorbeeld.test")
    detail = client.get(f"/api/v1/cases/{case.id}", headers=ouder).get_json()
    assert "trek_in" not in detail["available_events"] and "zie_af" in detail["available_events"]
    response = _post(client, ouder, case, "trek_in", {})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "invalid_transition" and "Afzien van de vrijstelling" in body["message"]
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "advies_gevraagd"


def test_lpa_ends_the_exemption_during_the_advice_steps(client, demo, auth_headers):
    case = _in_herbeoordeling_advice(demo)
    lpa = auth_headers("leerplicht@voorbeeldstad.test")
    detail = client.get(f"/api/v1/cases/{case.id}", headers=lpa).get_json()
    assert "beeindig" in detail["available_events"]
    response = _post(client, lpa, case, "beeindig", {"reden": "verhuisd"})
    assert response.status_code == 200, response.get_json()
    [letter] = _letters(case.id, "v5a_beeindiging")  # an exemption ran: the ending letter
    assert "woont niet meer in onze gemeente" in _text(letter)


def test_tick_ends_an_expired_exemption_during_the_advice_steps(demo):
    case = _in_herbeoordeling_advice(demo)
    end = today() - timedelta(days=1)
    db.session.execute(update(Case).where(Case.id == case.id).values(
        ingangsdatum=end - timedelta(days=300), einddatum=end))
    commit()
    db.session.expire_all()
    tick(today=today())
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert (stored.state, stored.data["reden_beeindiging"]) == ("beeindigd", "verlopen")
    assert audit_rows(case.id)[-1].actor_role == "systeem"


# ------------------------------------------------------------------ database errors

def test_a_check_violation_is_not_a_lost_race(demo):
    case = make_case(demo, "vrijgesteld")
    case.state = "ingetrokken"  # with an ingangsdatum: the CHECK periode_in_staat refuses it
    with pytest.raises(IntegrityError) as excinfo:
        db.session.flush()
    db.session.rollback()
    assert not is_lost_race(excinfo.value)


def test_a_unique_violation_is_a_lost_race(demo):
    case = make_case(demo, "in_behandeling")
    first = audit_rows(case.id)[0]
    db.session.add(AuditEvent(case_id=case.id, seq=first.seq, event="x", from_state=None,
                              to_state="in_behandeling", actor_role="systeem",
                              payload_digest="0" * 64, prev_hash="0" * 64, hash="1" * 64))
    with pytest.raises(IntegrityError) as excinfo:
        db.session.flush()
    db.session.rollback()
    assert is_lost_race(excinfo.value)


def test_fire_does_not_dress_a_bug_up_as_a_conflict(demo, monkeypatch):
    """A transition that breaks a CHECK is an error, not 'someone else changed this case'."""
    from dataclasses import replace

    from casework.workflows import vrijstelling

    def breaks_the_check(ctx):
        ctx.case.state = "ingetrokken"  # with an ingangsdatum: CHECK periode_in_staat

    case = make_case(demo, "vrijgesteld")
    spec = vrijstelling.WORKFLOW.events["zie_af"]
    monkeypatch.setitem(vrijstelling.WORKFLOW.events, "zie_af", replace(spec, apply=breaks_the_check))
    with pytest.raises(IntegrityError):
        fire(case, "zie_af", actor=demo.ouder1, data={})
