"""Letters say only what is true: through the real services and API, rendered to PDF and read back.

- ending an exemption because the child is at school needs the deskundige's judgement (a child
  with an exemption may be enrolled part-time), and the letter says so;
- the end-of-leerplicht letter does not say the kwalificatieplicht now applies (a 5 onder a
  exemption covers it too);
- the consent letter names who chose: the parents, or the young person from 16.
"""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

from pypdf import PdfReader

from casework.extensions import db
from casework.models import Letter
from casework.services.cases import commit, fire, open_case
from conftest import render_pending
from factories import (dien_in_data, event_actor, event_data, letters_of, make_case, make_child,
                       on_time_schooljaar, stored_case)
from test_api_support import api_fixture  # noqa: F401  (the api fixture)


def _text(letter: Letter) -> str:
    letter = db.session.get(Letter, letter.id)
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(letter.pdf)).pages)
    return re.sub(r"\s+", " ", text)


def _letter(case_id: int, kind: str) -> Letter:
    render_pending()
    [letter] = [x for x in letters_of(case_id) if x.kind == kind]
    return letter


# ------------------------------------------------------------------ ingeschreven op school

def test_enrolment_alone_does_not_end_a_running_exemption(api, demo):
    case = make_case(demo, "vrijgesteld")
    response = api.fire("lpa", case.id, "beeindig", reden="ingeschreven_op_school")
    assert response.status_code == 422, response.get_json()
    [message] = response.get_json()["fields"]["deskundige_akkoord"]
    assert "deeltijd" in message and "deskundige" in message
    assert stored_case(case.id)[0] == "vrijgesteld"
    assert not [x for x in letters_of(case.id) if x.kind == "v5a_beeindiging"]

    ended = api.ok(api.fire("lpa", case.id, "beeindig", reden="ingeschreven_op_school",
                            deskundige_akkoord=True))
    assert ended["state"] == "beeindigd"
    text = _text(_letter(case.id, "v5a_beeindiging"))
    assert "De deskundige heeft beoordeeld dat de vrijstelling niet meer nodig is" in text
    assert "moet nu volledig naar school gaan" in text
    assert "Een vrijstelling is daarom niet meer nodig" not in text


def test_a_case_without_exemption_ends_on_enrolment_without_the_deskundige(api, demo):
    case = make_case(demo, "geen_vrijstelling")
    ended = api.ok(api.fire("lpa", case.id, "beeindig", reden="ingeschreven_op_school"))
    assert ended["state"] == "beeindigd"
    text = _text(_letter(case.id, "v5a_beeindiging"))
    assert "Er loopt geen vrijstelling" in text
    assert "De deskundige heeft beoordeeld" not in text


# ------------------------------------------------------------------ einde leerplicht

def _turns_18_in_the_school_year(demo):
    """A child who is 17 on 1 August of the school year the notice is for, and 18 on 1 October."""
    first_year = int(on_time_schooljaar()[:4])
    return make_child(demo, date(first_year - 18, 10, 1), "Bram", "800000777")


def test_end_of_leerplicht_needs_the_18th_birthday(api, demo, monkeypatch):
    from casework.services import cases as case_service

    child = _turns_18_in_the_school_year(demo)
    case = make_case(demo, "vrijgesteld", child=child)
    birthday = date(child.geboortedatum.year + 18, 10, 1)
    monkeypatch.setattr(case_service, "_today", lambda: birthday - timedelta(days=1))
    refused = api.fire("lpa", case.id, "beeindig", reden="einde_leerplicht")
    assert refused.status_code == 422
    assert refused.get_json()["fields"]["reden"][0].startswith(
        f"Bram wordt op 1 oktober {birthday.year} 18 jaar. Tot die dag geldt de kwalificatieplicht")
    assert stored_case(case.id)[0] == "vrijgesteld"
    monkeypatch.setattr(case_service, "_today", lambda: birthday)
    api.ok(api.fire("lpa", case.id, "beeindig", reden="einde_leerplicht"))


def test_end_of_leerplicht_letter_does_not_say_the_kwalificatieplicht_now_applies(api, demo, monkeypatch):
    from casework.services import cases as case_service

    child = _turns_18_in_the_school_year(demo)
    case = make_case(demo, "vrijgesteld", child=child)
    monkeypatch.setattr(case_service, "_today", lambda: date(child.geboortedatum.year + 18, 10, 1))
    api.ok(api.fire("lpa", case.id, "beeindig", reden="einde_leerplicht"))
    text = _text(_letter(case.id, "v5a_beeindiging"))
    assert "Dan kan de kwalificatieplicht gelden" not in text
    assert "geldt ook voor de kwalificatieplicht (artikel 15 van de Leerplichtwet)" in text
    assert "niet dat er nu een andere plicht begint" in text


def test_expired_letter_says_the_duty_to_enrol_returns_and_a_new_kennisgeving_is_needed(demo):
    case = make_case(demo, "vrijgesteld")
    fire(case, "beeindig", actor=None, data={"reden": "verlopen"})  # the scheduler
    commit()
    text = _text(_letter(case.id, "v5a_beeindiging"))
    assert "U moet Sam dus weer inschrijven op een school" in text
    assert "De oude vrijstelling loopt niet vanzelf door" in text
    assert "nieuwe kennisgeving" in text


def test_exemption_letter_says_part_time_enrolment_is_allowed(demo):
    case = make_case(demo, "vrijgesteld")
    text = _text(_letter(case.id, "v5a_vrijstelling"))
    assert "mag wel ingeschreven zijn op een school en daar lessen volgen, bijvoorbeeld in deeltijd" in text
    assert "De vrijstelling geldt ook voor de kwalificatieplicht" in text


# ------------------------------------------------------------------ who chose

def _sixteen_today(demo, bsn: str):
    """A child who turns 16 today (in the current school year): from today they decide themselves."""
    t = date.today()
    child = make_child(demo, date(t.year - 16, t.month, t.day), "Lieke", bsn)
    start = t.year if t.month >= 8 else t.year - 1
    case = open_case(demo.ouder1, "vrijstelling_5a", dien_in_data(child, f"{start}-{start + 1}"))
    commit()
    fire(case, "neem_in_behandeling", actor=event_actor(demo, case, "neem_in_behandeling"),
         data=event_data(demo, case, "neem_in_behandeling"))
    commit()
    return case


def _ask(api, demo, case, toestemming: bool, door: str):
    return api.ok(api.fire("arts", case.id, "vraag_advies", swv_id=demo.swv_regio.id, toestemming=toestemming,
                           toestemming_door=door, samenvatting="Jongere met langdurige klachten."))


def test_consent_letter_names_the_young_person_who_chose(api, demo):
    for toestemming, expected, bsn in ((True, "Lieke heeft zelf toestemming gegeven", "900000716"),
                                       (False, "Lieke heeft zelf gekozen om geen gegevens te delen", "900000717")):
        case = _sixteen_today(demo, bsn)
        _ask(api, demo, case, toestemming, "jongere")
        text = _text(_letter(case.id, "v5a_adviesaanvraag_ouder"))
        assert "U heeft" not in text
        db.session.refresh(case)
        if not toestemming and case.data.get("toestemming_door") is None:
            # Where a refusal does not store who refused, the letter may not guess: neutral.
            assert "Er is gekozen om geen gegevens van Lieke te delen" in text
            continue
        assert expected in text
        assert "Vanaf 16 jaar beslist de jongere dat zelf" in text
        # The SWV letter names no one who chose (without consent it identifies no one at all).
        swv_text = _text(_letter(case.id, "v5a_adviesaanvraag"))
        assert "Lieke" not in swv_text or toestemming


def test_consent_letter_names_the_parent_who_chose(api, demo):
    case = make_case(demo, "in_behandeling")  # Sam is under 16: the parents decide
    _ask(api, demo, case, True, "ouder")
    text = _text(_letter(case.id, "v5a_adviesaanvraag_ouder"))
    assert "U heeft toestemming gegeven om gegevens van Sam te delen" in text
    assert "zelf toestemming" not in text
