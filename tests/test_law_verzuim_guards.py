"""The verzuim guards as the law counts them, through the API (issue 9, points 3, 4 and 6):
the age during the absence (Halt 12-17, a proces-verbaal against the young person from 12),
who leerplicht and kwalificatieplicht are for, no enforcement from 18 (RMC), and a melding made
from a signaal reaches Halt or a proces-verbaal only on its own facts (seed 002, l. 3608).

The factories' period is days_ago(20)..days_ago(1); pupils are born relative to those days.
"""
from __future__ import annotations

import io

import pytest
from conftest import render_pending
from pypdf import PdfReader
from test_api_support import api_fixture  # noqa: F401  (the api fixture)

from casework.formatting import format_datum
from casework.workflows.base import add_months
from casework.workflows.vrijstelling import leerplicht_start
from factories_verzuim import (
    born_for_age, days_ago, escaleer_data, fire_and_commit, kies_route_data, make_pupil,
    make_verzuim_case, melding_data, signaal_data, today,
)

MOTIVERING = "Besproken in het casusoverleg; zie het verslag."
START = days_ago(20)  # the first day of the factories' period


def _onderzoek(demo, born, **melding):
    return make_verzuim_case(demo, "in_onderzoek", child=make_pupil(demo, born), **melding)


def _kies(api, case, route: str, **extra):
    return api.fire("lpa", case.id, "kies_route",
                    **kies_route_data(route, motivering_afwijking=MOTIVERING, **extra))


def _refused(response, field: str) -> str:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert field in body["fields"], body
    return body["fields"][field][0]


def _voorstel(api, case, **facts) -> str:
    return api.ok(api.post("lpa", f"/cases/{case.id}/route-voorstel", facts))["route"]


def _file(api, body: dict):
    body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in body.items()}
    return api.post("school", "/cases", body)


# ------------------------------------------------------------------ 3. age during the absence

def test_halt_refused_when_the_pupil_was_11_when_the_absence_began(api, demo):
    case = _onderzoek(demo, born_for_age(12, on=START, birthday_in=1))  # 12 now, 11 at START
    message = _refused(_kies(api, case, "halt"), "route")
    assert "12 tot en met 17" in message
    assert f"Op {format_datum(START)} (begin van de periode) was deze leerling 11." in message
    assert api.ok(api.get("lpa", f"/cases/{case.id}"))["state"] == "in_onderzoek"


def test_halt_accepted_when_the_pupil_was_12_when_the_absence_began(api, demo):
    case = _onderzoek(demo, born_for_age(12, on=START))
    assert api.ok(_kies(api, case, "halt"))["state"] == "halt"


def test_proces_verbaal_against_the_pupil_looks_at_the_start_of_the_period(api, demo):
    young = _onderzoek(demo, born_for_age(12, on=START, birthday_in=1))
    message = _refused(_kies(api, young, "proces_verbaal", tegen="jongere"), "tegen")
    assert message == (
        "Een proces-verbaal tegen de jongere kan alleen als de jongere 12 jaar of ouder was toen "
        f"het verzuim begon. Op {format_datum(START)} (begin van de periode) was deze leerling 11.")
    # Against the parents it can.
    assert api.ok(_kies(api, young, "proces_verbaal", tegen="ouders"))["state"] == "proces_verbaal"
    twelve = _onderzoek(demo, born_for_age(12, on=START))
    assert api.ok(_kies(api, twelve, "proces_verbaal", tegen="jongere"))["state"] == "proces_verbaal"


def test_the_proposal_follows_the_age_during_the_absence(api, demo):
    young = _onderzoek(demo, born_for_age(12, on=START, birthday_in=1))
    twelve = _onderzoek(demo, born_for_age(12, on=START))
    assert _voorstel(api, young, oorzaak_categorie="eigen_initiatief") == "vrijwillige_hulp"
    assert _voorstel(api, twelve, oorzaak_categorie="eigen_initiatief") == "halt"


# ------------------------------------------------------------------ 4. from 18: no enforcement

@pytest.mark.parametrize("route", ["halt", "proces_verbaal", "verplicht_kader"])
def test_no_enforcement_for_a_pupil_of_18_on_the_day_of_the_choice(api, demo, route):
    case = _onderzoek(demo, born_for_age(18))  # 17 during the period, 18 today
    extra = {"tegen": "ouders"} if route == "proces_verbaal" else {}
    message = _refused(_kies(api, case, route, **extra), "route")
    assert "Vanaf 18 jaar" in message and "RMC" in message
    assert f"Op {format_datum(today())} (vandaag) is deze leerling 18." in message


def test_a_pupil_of_18_gets_voluntary_help_or_is_handed_to_the_rmc(api, demo):
    help_case = _onderzoek(demo, born_for_age(18))
    assert _voorstel(api, help_case, oorzaak_categorie="onbekend",
                     eerdere_routes_mislukt=True) == "vrijwillige_hulp"
    assert _voorstel(api, help_case, oorzaak_categorie="eigen_initiatief") == "vrijwillige_hulp"
    assert api.ok(api.fire("lpa", help_case.id, "kies_route",
                           **kies_route_data("vrijwillige_hulp")))["state"] == "vrijwillige_hulp"

    rmc = _onderzoek(demo, born_for_age(18))
    closed = api.ok(api.fire("lpa", rmc.id, "sluit_af", resultaat="rmc"))
    assert closed["state"] == "afgesloten" and closed["data"]["resultaat"] == "rmc"
    render_pending()
    letters = api.ok(api.get("lpa", f"/cases/{rmc.id}"))["letters"]
    (ouder,) = [lt for lt in letters if lt["kind"] == "vz_afsluiting"]
    response = api.get("lpa", f"/letters/{ouder['id']}/pdf")
    assert response.status_code == 200
    text = " ".join("\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(response.data)).pages).split())
    assert "overgedragen aan het RMC" in text
    assert "Dat is de leerplicht" not in text


# ------------------------------------------------------------------ 4. who leerplicht is for

def test_no_melding_for_a_child_of_4(api, demo):
    child = make_pupil(demo, born_for_age(4))
    message = _refused(_file(api, melding_data(child)), "periode_start")
    assert "De leerplicht begint op de eerste dag van de maand na de 5e verjaardag" in message
    assert format_datum(leerplicht_start(child.geboortedatum)) in message
    assert f"Op {format_datum(START)} (begin van de periode)" in message


def test_no_signaal_without_a_period_for_a_child_of_4(api, demo):
    child = make_pupil(demo, born_for_age(4))
    message = _refused(_file(api, signaal_data(child, periode_start=None, periode_eind=None)),
                       "child_id")
    assert f"Op {format_datum(today())} (de dag van indienen)" in message


def test_no_melding_for_a_pupil_who_turned_18_during_the_period(api, demo):
    child = make_pupil(demo, born_for_age(18, on=days_ago(10)))
    response = _file(api, melding_data(child))
    message = _refused(response, "periode_eind")
    assert "periode_start" not in response.get_json()["fields"]  # 17 when it began
    assert "dag voor de 18e verjaardag" in message
    assert format_datum(days_ago(11)) in message  # the last day of the kwalificatieplicht
    assert f"Op {format_datum(days_ago(1))} (einde van de periode) was de leerling 18." in message


def test_a_pupil_of_17_is_kwalificatieplichtig(api, demo):
    child = make_pupil(demo, born_for_age(18, birthday_in=1))  # 18 tomorrow
    assert api.ok(_file(api, melding_data(child)), 201)["state"] == "ontvangen"


def test_a_child_who_becomes_leerplichtig_during_the_period(api, demo):
    """Leerplicht begins on the first day of the month after the 5th birthday: a period that
    starts before that day is refused (the days before were no verzuim); from that day it counts."""
    begin = add_months(today().replace(day=1), -1)  # leerplicht began on the 1st of last month
    child = make_pupil(demo, add_months(begin, -61))  # 5th birthday a month before `begin`
    assert leerplicht_start(child.geboortedatum) == begin
    eind = min(begin + (today() - begin) // 2, today())
    body = melding_data(child, verzuimsoort="overig", uren=10)
    too_early = _file(api, body | {"periode_start": add_months(begin, -1).isoformat(),
                                   "periode_eind": eind.isoformat()})
    message = _refused(too_early, "periode_start")
    assert "periode_eind" not in too_early.get_json()["fields"]
    assert format_datum(begin) in message
    accepted = _file(api, body | {"periode_start": begin.isoformat(), "periode_eind": eind.isoformat()})
    assert api.ok(accepted, 201)["state"] == "ontvangen"


# ------------------------------------------------------------------ 6. a melding from a signaal

def _converted(demo, **escaleer):
    case = make_verzuim_case(demo, "ontvangen", soort="signaal",
                             child=make_pupil(demo, born_for_age(14)))
    fire_and_commit(demo, case, "escaleer_naar_melding", data=escaleer_data(**escaleer))
    assert (case.state, case.data["oorspronkelijke_soort"], case.data["soort"]) == (
        "in_onderzoek", "signaal", "melding")
    return case


def test_a_converted_signaal_without_melding_facts_gets_no_halt_or_proces_verbaal(api, demo):
    case = _converted(demo, verzuimsoort="overig", uren=10)  # 'overig' has no threshold
    for route, extra in (("halt", {}), ("proces_verbaal", {"tegen": "ouders"})):
        message = _refused(_kies(api, case, route, **extra), "route")
        assert message.startswith("Deze melding is ontstaan uit een signaal.")
        assert "16 uur" in message
    assert _voorstel(api, case, oorzaak_categorie="eigen_initiatief") == "vrijwillige_hulp"
    assert _voorstel(api, case, oorzaak_categorie="onbekend",
                     eerdere_routes_mislukt=True) == "vrijwillige_hulp"
    # Voluntary help, and a referral to a heavier route stays closed for Halt and pv.
    api.ok(api.fire("lpa", case.id, "kies_route", **kies_route_data("vrijwillige_hulp")))
    response = api.fire("lpa", case.id, "verwijs_door", route="halt", toestemming_halt=True,
                        motivering="De afspraken werden niet nagekomen.")
    assert _refused(response, "route").startswith("Deze melding is ontstaan uit een signaal.")


@pytest.mark.parametrize("verzuimsoort", ["overig", "16_uur_4_weken"])
def test_a_converted_signaal_with_melding_facts_may_reach_halt_and_pv(api, demo, verzuimsoort):
    halt = _converted(demo, verzuimsoort=verzuimsoort, uren=18)
    assert _voorstel(api, halt, oorzaak_categorie="eigen_initiatief") == "halt"
    assert api.ok(_kies(api, halt, "halt"))["state"] == "halt"
    pv = _converted(demo, verzuimsoort=verzuimsoort, uren=18)
    assert _voorstel(api, pv, oorzaak_categorie="onbekend", eerdere_routes_mislukt=True) == "proces_verbaal"
    assert api.ok(_kies(api, pv, "proces_verbaal", tegen="ouders"))["state"] == "proces_verbaal"


# ------------------------------------------------------------------ 4. the DUO intake too

def test_the_duo_intake_refuses_a_melding_for_a_child_who_is_not_yet_leerplichtig(demo):
    from casework.services import duo

    child = make_pupil(demo, born_for_age(4))
    content = ("bsn;brin;verzuimsoort;uren;periode_start;periode_eind;omschrijving\n"
               f"{child.bsn};99AA;V3;18;{START.isoformat()};{days_ago(1).isoformat()};Vaak afwezig\n"
               ).encode("utf-8")
    report = duo.import_meldingen(content, dry_run=True, gemeente_ids=[demo.voorbeeldstad.id])
    (regel,) = report.rows
    assert "De leerplicht begint" in regel.reason, regel
