"""Vrijstelling 5 onder a at the law's edges, through the API: who the kennisgeving is for (the
school year in which the child is leerplichtig or kwalificatieplichtig), who decides about
sharing data (the parents before 16, the young person from 16), dates of the verklaring in
order, and the jeugdarts' own medical note. The service's day is fixed (services.cases._today)."""
from __future__ import annotations

from datetime import date

import pytest
from conftest import api_token
from factories import make_child, make_user
from sqlalchemy import select
from test_api_support import api_fixture  # noqa: F401  (the api fixture)

from casework.extensions import db
from casework.models import AccessLog
from casework.services import cases as case_service

DAY = date(2026, 12, 3)


def set_today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(case_service, "_today", lambda: day)


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch):
    set_today(monkeypatch, DAY)


def file(api, child, schooljaar: str):
    body = {"type": "vrijstelling_5a", "child_id": child.id, "schooljaar": schooljaar,
            "toelichting": "Ons kind kan door ziekte niet naar school."}
    return api.post("ouder1", "/cases", body)


def schooljaar_error(response) -> str:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert list(body["fields"]) == ["schooljaar"], body
    return body["fields"]["schooljaar"][0]


# ------------------------------------------------------------------ 4: leerplichtig in the school year

@pytest.mark.parametrize(("born", "start_text", "first_year"), [
    (date(2022, 7, 15), "1 augustus 2027", "2027-2028"),   # leerplicht starts on the school year's first day
    (date(2022, 8, 15), "1 september 2027", "2027-2028"),  # starts a month into the school year
])
def test_kennisgeving_from_the_school_year_leerplicht_starts(api, demo, born, start_text, first_year):
    child = make_child(demo, born, "Kleuter", "900000101")
    message = schooljaar_error(file(api, child, "2026-2027"))
    assert message == f"Kleuter wordt leerplichtig op {start_text}. Kies het schooljaar {first_year} of later."
    assert file(api, child, first_year).status_code == 201


def test_kennisgeving_accepted_when_leerplicht_starts_in_the_last_month(api, demo):
    # Born in June 2022: leerplichtig from 1 July 2027, one month of school year 2026-2027.
    child = make_child(demo, date(2022, 6, 10), "Juni", "900000102")
    assert file(api, child, "2026-2027").status_code == 201


def test_kennisgeving_refused_after_the_18th_birthday(api, demo):
    # Daan turns 18 on 30 November 2033: 2033-2034 still has kwalificatieplicht, 2034-2035 not.
    message = schooljaar_error(file(api, demo.daan, "2034-2035"))
    assert message == ("Daan wordt op 30 november 2033 18 jaar; in het schooljaar 2034-2035 geldt voor "
                       "hem geen leerplicht of kwalificatieplicht meer.")
    assert file(api, demo.daan, "2033-2034").status_code == 201


@pytest.mark.parametrize(("born", "accepted"), [
    (date(2016, 8, 1), False),  # 18 on 1 August 2034, the first day of 2034-2035
    (date(2016, 8, 2), True),   # still 17 on 1 August 2034: one day of kwalificatieplicht
])
def test_18th_birthday_at_the_start_of_the_school_year(api, demo, born, accepted):
    child = make_child(demo, born, "Achttien", "900000103")
    response = file(api, child, "2034-2035")
    if accepted:
        assert response.status_code == 201, response.get_json()
    else:
        assert "18 jaar" in schooljaar_error(response)


def test_kwalificatieplicht_after_leerplicht_counts(api, demo):
    # Born 1 March 2011: 16 in school year 2026-2027, so leerplicht ends 31 July 2027;
    # kwalificatieplichtig until 1 March 2029, so 2027-2028 is accepted.
    child = make_child(demo, date(2011, 3, 1), "Zeventien", "900000104")
    assert file(api, child, "2027-2028").status_code == 201


# ------------------------------------------------------------------ 5: consent by the right person

def case_for_advice(api, demo, born: date, nr: str):
    child = make_child(demo, born, "Jongere", nr)
    response = file(api, child, "2027-2028")
    assert response.status_code == 201, response.get_json()
    return api.accept(response.get_json())


def ask(api, demo, case, toestemming: bool, door: str | None):
    body = {"swv_id": demo.swv_regio.id, "toestemming": toestemming, "samenvatting": "Korte schets."}
    if door is not None:
        body["toestemming_door"] = door
    return api.fire("arts", case["id"], "vraag_advies", **body)


@pytest.mark.parametrize("toestemming", [True, False])
@pytest.mark.parametrize(("born", "right", "wrong", "age"), [
    (date(2010, 12, 4), "ouder", "jongere", 15),   # turns 16 the day after vraag_advies
    (date(2010, 12, 3), "jongere", "ouder", 16),   # turns 16 on the day itself
    (date(2010, 12, 2), "jongere", "ouder", 16),   # turned 16 the day before
])
def test_toestemming_door_follows_the_age_on_the_day(api, demo, toestemming, born, right, wrong, age):
    case = case_for_advice(api, demo, born, "900000111")
    for door in (wrong, None):
        response = ask(api, demo, case, toestemming, door)
        assert response.status_code == 422, response.get_json()
        message = response.get_json()["fields"]["toestemming_door"][0]
        assert f"Op 3 december 2026 is Jongere {age} jaar" in message
        assert f"Kies 'de {right}'." in message
    assert api.get("lpa", f"/cases/{case['id']}").get_json()["state"] == "in_behandeling"
    done = api.ok(ask(api, demo, case, toestemming, right))
    assert done["state"] == "advies_gevraagd"
    assert done["data"]["toestemming_door"] == right  # kept whether consent was given or refused


def test_demo_child_under_16_refusal_names_the_parents(api, demo):
    file_resp = file(api, demo.daan, "2027-2028")
    case = api.accept(file_resp.get_json())
    message = ask(api, demo, case, False, "jongere").get_json()["fields"]["toestemming_door"][0]
    assert message == ("Op 3 december 2026 is Daan 11 jaar: zijn ouders beslissen over het delen van "
                       "gegevens. Kies 'de ouder'.")


# ------------------------------------------------------------------ 6: dates of the verklaring

@pytest.fixture
def ready(api, demo, monkeypatch):
    """Kennisgeving received 1 September 2026, advice asked 1 October 2026, verklaring on DAY."""
    set_today(monkeypatch, date(2026, 9, 1))
    case = api.accept(file(api, demo.sam, "2027-2028").get_json())
    set_today(monkeypatch, date(2026, 10, 1))
    case = api.ask_advice(case)
    case = api.give_advice(case)
    set_today(monkeypatch, DAY)
    return case


def declare(api, case, verklaringsdatum: date, ingangsdatum: date):
    body = {"geschikt": False, "weging_advies": "Meegewogen.", "niet_behandelend_arts": True,
            "verklaringsdatum": verklaringsdatum.isoformat(), "ingangsdatum": ingangsdatum.isoformat(),
            "einddatum": "2027-07-31", "herbeoordelingsdatum": "2027-06-30"}
    return api.fire("arts", case["id"], "geef_verklaring", **body)


def only_error(response, field: str) -> str:
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["fields"]
    assert list(fields) == [field], fields
    return fields[field][0]


def test_verklaring_not_before_the_advice_was_asked(api, ready):
    message = only_error(declare(api, ready, date(2026, 9, 30), date(2026, 10, 1)), "verklaringsdatum")
    assert "1 oktober 2026" in message and "30 september 2026" in message
    assert api.ok(declare(api, ready, date(2026, 10, 1), date(2026, 10, 1)))["state"] == "vrijgesteld"


def test_verklaring_not_in_the_future(api, ready):
    only_error(declare(api, ready, date(2026, 12, 4), date(2026, 12, 4)), "verklaringsdatum")


def test_no_retroactive_exemption(api, ready):
    message = only_error(declare(api, ready, DAY, date(2026, 8, 31)), "ingangsdatum")
    assert "terugwerkende kracht" in message and "1 september 2026" in message
    assert api.ok(declare(api, ready, DAY, date(2026, 9, 1)))["state"] == "vrijgesteld"


def test_exemption_starts_within_3_months_of_the_verklaring(api, ready):
    message = only_error(declare(api, ready, DAY, date(2027, 3, 4)), "ingangsdatum")
    assert "3 december 2026" in message and "3 maart 2027" in message
    assert api.ok(declare(api, ready, DAY, date(2027, 3, 3)))["state"] == "vrijgesteld"


# ------------------------------------------------------------------ 14a: the medical note

def test_only_the_assigned_jeugdarts_reads_the_medical_note(api, demo, client, monkeypatch):
    set_today(monkeypatch, date.today())  # the helper's verklaring is dated today
    case = api.case_in("vrijgesteld")  # its verklaring carries "Vertrouwelijk: diagnose X."
    path = f"/cases/{case['id']}"
    seen = api.ok(api.get("arts", path))
    assert seen["data"]["medische_notitie"] == "Vertrouwelijk: diagnose X."
    logged = db.session.scalars(select(AccessLog.what).where(
        AccessLog.case_id == case["id"], AccessLog.user_id == demo.arts.id, AccessLog.via == "api")).all()
    assert "medische_notitie" in logged
    for who in ("lpa", "ouder1", "swv", "school"):
        response = api.get(who, path)
        # the LPA and the parent see the case; the SWV and the school may not see it at all (404)
        assert response.status_code == 200 if who in ("lpa", "ouder1") else response.status_code in (200, 404)
        if response.status_code == 200:
            assert "medische_notitie" not in response.get_json()["data"], who
    make_user("arts2@ggd-voorbeeld.test", "jeugdarts", demo.ggd, naam="Andere Jeugdarts")
    response = client.get(f"/api/v1{path}", headers=api_token(client, "arts2@ggd-voorbeeld.test",
                                                              "test-wachtwoord"))
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert "medische_notitie" not in response.get_json()["data"]
