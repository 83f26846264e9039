"""Renewal while an exemption runs: a new kennisgeving for a later school year, linked to the
running case; a reminder to the parents 8 weeks before a fixed end date (tick)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.formatting import format_datum
from casework.models import Case
from casework.services.cases import commit
from casework.services.scheduler import tick
from casework.workflows.vrijstelling import kennisgeving_deadline, schooljaar_van
from conftest import render_pending
from factories import audit_rows, dien_in_data, letters_of, make_case, today


def _running(demo, *, einde_over: int | None = None) -> Case:
    case = make_case(demo, "vrijgesteld")
    if einde_over is not None:
        db.session.execute(update(Case).where(Case.id == case.id).values(
            einddatum=today() + timedelta(days=einde_over)))
        commit()
        db.session.expire_all()
        case = db.session.get(Case, case.id)
    return case


def _later_year(case: Case) -> str:
    first = int(case.data["schooljaar"][:4]) + 1
    return f"{first}-{first + 1}"


def _file(client, auth_headers, child, schooljaar):
    return client.post("/api/v1/cases", json={"type": "vrijstelling_5a", **dien_in_data(child, schooljaar)},
                       headers=auth_headers("ouder1@voorbeeld.test"))


def test_a_renewal_for_a_later_school_year_is_linked_to_the_running_case(client, demo, auth_headers):
    running = _running(demo)
    response = _file(client, auth_headers, demo.sam, _later_year(running))
    assert response.status_code == 201, response.get_json()
    renewal = response.get_json()
    assert renewal["state"] == "kennisgeving_ontvangen"
    assert renewal["data"]["verlengt_zaak"] == running.reference
    assert db.session.get(Case, renewal["id"]).vorige_case_id == running.id
    db.session.expire_all()
    assert db.session.get(Case, running.id).state == "vrijgesteld"  # the exemption runs on


def test_a_renewal_for_the_same_school_year_is_refused(client, demo, auth_headers):
    running = _running(demo)
    response = _file(client, auth_headers, demo.sam, running.data["schooljaar"])
    assert response.status_code == 409
    body = response.get_json()
    assert running.reference in body["message"] and "later schooljaar" in body["message"]


def test_a_second_renewal_is_refused(client, demo, auth_headers):
    running = _running(demo)
    first = _file(client, auth_headers, demo.sam, _later_year(running)).get_json()
    again = _file(client, auth_headers, demo.sam, _later_year(running))
    assert again.status_code == 409
    assert first["reference"] in again.get_json()["message"]


def test_the_database_allows_one_open_not_running_case_per_child(demo):
    make_case(demo, "in_behandeling")
    twin = Case(type="vrijstelling_5a", state="kennisgeving_ontvangen", child_id=demo.sam.id,
                gemeente_id=demo.sam.gemeente_id, data={}, version=1, is_open=True)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_tick_reminds_the_parents_eight_weeks_before_the_end_date_once(app, demo):
    assert app.config["VERLENGING_HERINNERING_DAGEN"] == 56
    due = _running(demo, einde_over=56)
    lines = tick(today=today())
    db.session.expire_all()
    [row] = [r for r in audit_rows(due.id) if r.event == "herinner_verlenging"]
    assert row.actor_role == "systeem"
    assert any(due.reference in line for line in lines)
    case = db.session.get(Case, due.id)
    deadline = kennisgeving_deadline(case.child.geboortedatum,
                                     schooljaar_van(case.einddatum + timedelta(days=1)))
    expected = deadline if deadline >= today() else case.einddatum
    render_pending()
    [letter] = [x for x in letters_of(due.id) if x.kind == "v5a_herinnering_verlenging"]
    db.session.refresh(letter)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).split())
    assert f"uiterlijk op {format_datum(expected)}" in text

    tick(today=today())
    assert len([r for r in audit_rows(due.id) if r.event == "herinner_verlenging"]) == 1


def test_no_reminder_nine_weeks_before(demo):
    case = _running(demo, einde_over=63)
    tick(today=today())
    assert not [r for r in audit_rows(case.id) if r.event == "herinner_verlenging"]


def test_no_reminder_when_the_renewal_is_filed(client, demo, auth_headers):
    case = _running(demo, einde_over=30)
    assert _file(client, auth_headers, demo.sam, _later_year(case)).status_code == 201
    tick(today=today())
    assert not [r for r in audit_rows(case.id) if r.event == "herinner_verlenging"]
