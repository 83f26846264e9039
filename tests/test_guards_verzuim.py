"""Every guard of the verzuim workflow, from both sides, naming the field that failed.

Ages are computed on date.today() inside fire(), or on the dates of the absence period
(days_ago(20)..days_ago(1) in the factories), so pupils are born relative to those days
(factories_verzuim.born_for_age): "12th birthday on the first day of the period", and so on.
"""
from __future__ import annotations

import pytest

from casework.extensions import db
from casework.models import Organisation
from casework.services.cases import commit, fire, open_case
from casework.services.errors import InvalidTransition, ValidationFailed
from casework.workflows.verzuim import duo_status
from factories_verzuim import (
    CASE_TYPE, audit_count, audit_rows, born_for_age, days_ago, days_ahead, escaleer_data, event_data,
    fire_and_commit, kies_route_data, letter_count, letters_of, make_pupil, make_pupil_aged,
    make_verzuim_case, melding_data, signaal_data, stored_case, stored_data, verwijs_door_data,
)

MOTIVERING = "Besproken in het casusoverleg; zie het verslag."


def _snapshot(case_id: int) -> tuple:
    return (stored_case(case_id), audit_count(case_id), letter_count(case_id), stored_data(case_id))


def _refused(fields: str | set[str], call, *args, **kwargs) -> ValidationFailed:
    """The call is refused with a 422 that names exactly these fields."""
    expected = {fields} if isinstance(fields, str) else fields
    with pytest.raises(ValidationFailed) as excinfo:
        call(*args, **kwargs)
    exc = excinfo.value
    assert exc.status == 422
    assert set(exc.fields) == expected, exc.fields
    assert all(isinstance(m, str) and m for messages in exc.fields.values() for m in messages)
    return exc


def _refused_without_effect(fields, case, event: str, actor, data: dict) -> ValidationFailed:
    before = _snapshot(case.id)
    exc = _refused(fields, fire, case, event, actor=actor, data=data)
    db.session.rollback()
    assert _snapshot(case.id) == before
    return exc


def _accepted(demo, case, event: str, data: dict, actor=None):
    fire_and_commit(demo, case, event, data=data, actor=actor)
    return case


def _open_refused(fields, demo, data, by=None) -> ValidationFailed:
    return _refused(fields, open_case, by or demo.school, CASE_TYPE, data)


def _in_onderzoek(demo, child, **melding):
    case = open_case(demo.school if child.school_id == demo.sam.school_id else demo.school_college,
                     CASE_TYPE, melding_data(child, **melding))
    commit()
    return _accepted(demo, case, "start_onderzoek", event_data(demo, case, "start_onderzoek"))


# ------------------------------------------------------------------ dien_in: signaal

def test_signaal_of_15_hours_is_accepted_and_16_refused_as_a_melding(demo):
    child = make_pupil_aged(demo, 13)
    exc = _open_refused("uren", demo, signaal_data(child, uren=16))
    assert "melding" in exc.fields["uren"][0]
    case = open_case(demo.school, CASE_TYPE, signaal_data(child, uren=15))
    commit()
    assert (case.state, case.data["soort"], case.data["uren"]) == ("ontvangen", "signaal", 15)


@pytest.mark.parametrize("situatie", [None, "", "   "])
def test_signaal_needs_the_verzuimbeleid_situatie(demo, situatie):
    child = make_pupil_aged(demo, 13)
    _open_refused("verzuimbeleid_situatie", demo, signaal_data(child, verzuimbeleid_situatie=situatie))


@pytest.mark.parametrize("verzuimsoort", ["16_uur_4_weken", "overig"])
def test_signaal_with_a_verzuimsoort_is_refused(demo, verzuimsoort):
    child = make_pupil_aged(demo, 13)
    _open_refused("verzuimsoort", demo, signaal_data(child, verzuimsoort=verzuimsoort))


def test_a_signaal_without_hours_is_a_signaal(demo):
    """'Always late' can be a signaal without any hours counted."""
    child = make_pupil_aged(demo, 13)
    case = open_case(demo.school, CASE_TYPE, signaal_data(child, uren=None))
    commit()
    assert case.state == "ontvangen"


# ------------------------------------------------------------------ dien_in: melding

@pytest.mark.parametrize("missing", ["verzuimsoort", "uren", "periode_start", "periode_eind"])
def test_melding_needs_verzuimsoort_hours_and_period(demo, missing):
    child = make_pupil_aged(demo, 13)
    _open_refused(missing, demo, melding_data(child) | {missing: None})


def test_melding_16_uur_4_weken_needs_16_hours(demo):
    child = make_pupil_aged(demo, 13)
    _open_refused("uren", demo, melding_data(child, uren=15))
    case = open_case(demo.school, CASE_TYPE, melding_data(child, uren=16))
    commit()
    assert case.data["uren"] == 16


def test_melding_16_uur_4_weken_period_of_at_most_4_weeks(demo):
    child = make_pupil_aged(demo, 13)
    # 29 calendar days (day 0 to day 28): longer than 4 weeks.
    _open_refused("periode_eind", demo, melding_data(
        child, periode_start=days_ago(29).isoformat(), periode_eind=days_ago(1).isoformat()))
    # 28 calendar days (day 0 to day 27): exactly 4 weeks.
    case = open_case(demo.school, CASE_TYPE, melding_data(
        child, periode_start=days_ago(28).isoformat(), periode_eind=days_ago(1).isoformat()))
    commit()
    assert case.state == "ontvangen"
    # A thuiszitter's melding (langdurig_relatief) covers a longer period by nature.
    long = open_case(demo.school, CASE_TYPE, melding_data(
        child, verzuimsoort="langdurig_relatief", uren=120,
        periode_start=days_ago(60).isoformat(), periode_eind=days_ago(1).isoformat()))
    commit()
    assert long.state == "ontvangen"


def test_melding_overig_may_be_below_16_hours(demo):
    child = make_pupil_aged(demo, 13)
    case = open_case(demo.school, CASE_TYPE, melding_data(child, verzuimsoort="overig", uren=6))
    commit()
    assert case.data["verzuimsoort"] == "overig"


def test_period_may_not_end_before_it_starts_or_in_the_future(demo):
    child = make_pupil_aged(demo, 13)
    _open_refused("periode_eind", demo, melding_data(
        child, periode_start=days_ago(3).isoformat(), periode_eind=days_ago(5).isoformat()))
    _open_refused("periode_eind", demo, melding_data(
        child, periode_start=days_ago(3).isoformat(), periode_eind=days_ahead(1).isoformat()))


# ------------------------------------------------------------------ escaleer_naar_melding

def test_escalation_needs_16_hours_within_4_weeks(demo):
    case = make_verzuim_case(demo, "in_onderzoek", soort="signaal")
    _refused_without_effect("uren", case, "escaleer_naar_melding", demo.school, escaleer_data(uren=15))
    _refused_without_effect("periode_eind", case, "escaleer_naar_melding", demo.school, escaleer_data(
        uren=18, periode_start=days_ago(29).isoformat(), periode_eind=days_ago(1).isoformat()))
    _refused_without_effect("periode_eind", case, "escaleer_naar_melding", demo.school, escaleer_data(
        periode_start=days_ago(2).isoformat(), periode_eind=days_ago(4).isoformat()))
    _accepted(demo, case, "escaleer_naar_melding", escaleer_data(uren=16))
    assert case.data["soort"] == "melding"


def test_escalation_to_another_verzuimsoort_has_no_16_hour_rule(demo):
    case = make_verzuim_case(demo, "ontvangen", soort="signaal")
    _accepted(demo, case, "escaleer_naar_melding", escaleer_data(uren=8, verzuimsoort="overig"))
    assert (case.data["soort"], case.data["verzuimsoort"]) == ("melding", "overig")


def test_escalation_keeps_the_history_and_makes_a_melding(demo):
    case = make_verzuim_case(demo, "vrijwillige_hulp", soort="signaal")
    reference, rows_before = case.reference, audit_rows(case.id)
    letters_before = [(x.id, x.kind) for x in letters_of(case.id)]
    assert duo_status(case) == "B"
    _accepted(demo, case, "escaleer_naar_melding", escaleer_data(uren=18))
    assert case.reference == reference
    rows = audit_rows(case.id)
    assert [(r.seq, r.hash) for r in rows[:-1]] == [(r.seq, r.hash) for r in rows_before]
    assert (rows[-1].event, rows[-1].from_state, rows[-1].to_state, rows[-1].prev_hash) == (
        "escaleer_naar_melding", "vrijwillige_hulp", "in_onderzoek", rows_before[-1].hash)
    assert [(x.id, x.kind) for x in letters_of(case.id)][:len(letters_before)] == letters_before
    data = stored_data(case.id)
    assert (data["soort"], data["oorspronkelijke_soort"], data["verzuimsoort"], data["uren"]) == (
        "melding", "signaal", "16_uur_4_weken", 18)
    assert data["omgezet_op"] is not None
    assert data["verzuimbeleid_situatie"]  # what the school wrote for the signaal stays
    assert duo_status(case) == "B"
    # Once a melding, it cannot be escalated again and the heavier routes open up.
    with pytest.raises(InvalidTransition):
        fire(case, "escaleer_naar_melding", actor=demo.school, data=escaleer_data())
    db.session.rollback()
    _accepted(demo, case, "kies_route", kies_route_data("halt"))
    assert case.state == "halt"


def test_escalation_from_ontvangen_moves_duo_status_from_r_to_b(demo):
    case = make_verzuim_case(demo, "ontvangen", soort="signaal")
    assert duo_status(case) == "R"
    _accepted(demo, case, "escaleer_naar_melding", escaleer_data())
    assert (case.state, duo_status(case)) == ("in_onderzoek", "B")


def test_a_melding_cannot_be_escalated(demo):
    case = make_verzuim_case(demo, "ontvangen", soort="melding")
    before = _snapshot(case.id)
    with pytest.raises(InvalidTransition) as excinfo:
        fire(case, "escaleer_naar_melding", actor=demo.school, data=escaleer_data())
    assert excinfo.value.status == 409
    db.session.rollback()
    assert _snapshot(case.id) == before


# ------------------------------------------------------------------ kies_route: a signaal

@pytest.mark.parametrize("route", ["halt", "verplicht_kader", "proces_verbaal"])
def test_a_signaal_takes_only_vrijwillige_hulp(demo, route):
    case = make_verzuim_case(demo, "in_onderzoek", soort="signaal")
    _refused_without_effect("route", case, "kies_route", demo.lpa,
                            kies_route_data(route, motivering_afwijking=MOTIVERING))
    _accepted(demo, case, "kies_route", kies_route_data("vrijwillige_hulp"))
    assert case.state == "vrijwillige_hulp"


@pytest.mark.parametrize("route", ["halt", "verplicht_kader", "proces_verbaal"])
def test_a_signaal_in_vrijwillige_hulp_is_not_referred_to_a_heavier_route(demo, route):
    case = make_verzuim_case(demo, "vrijwillige_hulp", soort="signaal")
    _refused_without_effect("route", case, "verwijs_door", demo.lpa, verwijs_door_data(route))


# ------------------------------------------------------------------ Halt: age on the day

@pytest.mark.parametrize(("born", "allowed"), [
    (lambda: born_for_age(12, on=days_ago(20)), True),                # 12 on the first day of the period
    (lambda: born_for_age(12, on=days_ago(20), birthday_in=1), False),  # 11 then, 12 now
    (lambda: born_for_age(17), True),
    (lambda: born_for_age(18, birthday_in=1), True),                  # turns 18 tomorrow: still 17
    (lambda: born_for_age(18), False),  # 17 during the period, 18 today: no enforcement from 18
], ids=["12-at-start", "11-at-start", "17", "day-before-18", "18-today"])
def test_halt_only_for_a_pupil_of_12_to_17_during_the_period(demo, born, allowed):
    child = make_pupil(demo, born())
    case = _in_onderzoek(demo, child)
    # Motivering given either way, so only the age decides.
    data = kies_route_data("halt", motivering_afwijking=MOTIVERING)
    if allowed:
        _accepted(demo, case, "kies_route", data)
        assert case.state == "halt"
    else:
        exc = _refused_without_effect("route", case, "kies_route", demo.lpa, data)
        assert "12 tot en met 17" in exc.fields["route"][0] or "18 jaar" in exc.fields["route"][0]


# ------------------------------------------------------------------ Halt: hours or times late

@pytest.mark.parametrize(("verzuimsoort", "uren", "keer_te_laat", "allowed"), [
    ("overig", 8, None, False),
    ("overig", 9, None, True),
    ("16_uur_4_weken", 60, None, True),
    ("16_uur_4_weken", 61, None, False),
    ("overig", 2, 11, False),
    ("overig", 2, 12, True),
    ("overig", 2, 60, True),
    ("overig", 2, 61, False),
], ids=["8h", "9h", "60h", "61h", "11x-late", "12x-late", "60x-late", "61x-late"])
def test_halt_needs_9_to_60_hours_or_12_to_60_times_late(demo, verzuimsoort, uren, keer_te_laat,
                                                         allowed):
    child = make_pupil_aged(demo, 14)
    case = _in_onderzoek(demo, child, verzuimsoort=verzuimsoort, uren=uren, keer_te_laat=keer_te_laat)
    data = kies_route_data("halt", motivering_afwijking=MOTIVERING)
    if allowed:
        _accepted(demo, case, "kies_route", data)
        assert case.state == "halt"
    else:
        _refused_without_effect("route", case, "kies_route", demo.lpa, data)


def test_halt_needs_toestemming(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    exc = _refused_without_effect("toestemming_halt", case, "kies_route", demo.lpa,
                                  kies_route_data("halt", toestemming_halt=False))
    assert "ouders" in exc.fields["toestemming_halt"][0]  # a 14-year-old: the parents agree too
    _accepted(demo, case, "kies_route", kies_route_data("halt", toestemming_halt=True))
    assert case.data["toestemming_halt"] is True


def test_no_second_halt_for_schoolverzuim(demo):
    child = make_pupil_aged(demo, 15)
    first = make_verzuim_case(demo, "halt", child=child)
    fire_and_commit(demo, first, "start_monitoring",
                    data={"uitkomst": "halt_positief", "monitoren_tot": days_ahead(30).isoformat()})
    fire_and_commit(demo, first, "sluit_af")
    assert (first.state, first.is_open) == ("afgesloten", False)

    second = _in_onderzoek(demo, child)
    exc = _refused_without_effect("route", second, "kies_route", demo.lpa,
                                  kies_route_data("halt", motivering_afwijking=MOTIVERING))
    assert "eerder" in exc.fields["route"][0]
    # Not by referral either.
    _accepted(demo, second, "kies_route", kies_route_data("vrijwillige_hulp"))
    _refused_without_effect("route", second, "verwijs_door", demo.lpa, verwijs_door_data("halt"))
    # Another pupil is not affected.
    other = make_verzuim_case(demo, "in_onderzoek")
    _accepted(demo, other, "kies_route", kies_route_data("halt"))


# ------------------------------------------------------------------ proces-verbaal

def test_proces_verbaal_needs_tegen(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    _refused_without_effect("tegen", case, "kies_route", demo.lpa,
                            kies_route_data("proces_verbaal", tegen=None))
    _accepted(demo, case, "kies_route", kies_route_data("proces_verbaal", tegen="jongere"))
    assert case.data["tegen"] == "jongere"


@pytest.mark.parametrize(("birthday_in", "tegen", "allowed"), [
    (1, "jongere", False),  # turned 12 the day after the period began
    (0, "jongere", True),   # 12th birthday on the first day of the period
    (1, "ouders", True),
], ids=["jongere-11", "jongere-12-at-start", "ouders-11"])
def test_proces_verbaal_against_the_pupil_only_from_12(demo, birthday_in, tegen, allowed):
    child = make_pupil(demo, born_for_age(12, on=days_ago(20), birthday_in=birthday_in))
    case = _in_onderzoek(demo, child)
    data = kies_route_data("proces_verbaal", tegen=tegen)
    if allowed:
        _accepted(demo, case, "kies_route", data)
        assert (case.state, case.data["tegen"]) == ("proces_verbaal", tegen)
    else:
        _refused_without_effect("tegen", case, "kies_route", demo.lpa, data)


def test_proces_verbaal_against_parents_at_any_age(demo):
    child = make_pupil_aged(demo, 6)
    case = _in_onderzoek(demo, child)
    _accepted(demo, case, "kies_route", kies_route_data("proces_verbaal", tegen="ouders"))
    assert case.state == "proces_verbaal"


def test_verplicht_kader_and_proces_verbaal_only_for_a_melding(demo):
    case = make_verzuim_case(demo, "in_onderzoek", soort="signaal")
    _refused_without_effect("route", case, "kies_route", demo.lpa, kies_route_data(
        "proces_verbaal", tegen="ouders", motivering_afwijking=MOTIVERING))


# ------------------------------------------------------------------ pas toe of leg uit

def test_another_route_than_proposed_needs_motivering_afwijking(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    # thuissituatie -> the product proposes vrijwillige_hulp; the LPA wants verplicht_kader.
    data = kies_route_data("verplicht_kader", oorzaak_categorie="thuissituatie")
    exc = _refused_without_effect("motivering_afwijking", case, "kies_route", demo.lpa, data)
    assert "Route 1: vrijwillige hulp" in exc.fields["motivering_afwijking"][0]
    _refused_without_effect("motivering_afwijking", case, "kies_route", demo.lpa,
                            data | {"motivering_afwijking": "   "})
    _accepted(demo, case, "kies_route", data | {"motivering_afwijking": MOTIVERING})
    assert case.data["motivering_afwijking"] == MOTIVERING
    assert (case.data["voorgestelde_route"], case.data["route"]) == ("vrijwillige_hulp", "verplicht_kader")


def test_the_proposed_route_needs_no_motivering(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    _accepted(demo, case, "kies_route", kies_route_data("vrijwillige_hulp"))
    assert case.data["motivering_afwijking"] is None


def test_kies_route_conversation_not_in_the_future(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    _refused_without_effect("gesprek_gevoerd_op", case, "kies_route", demo.lpa, kies_route_data(
        "vrijwillige_hulp", gesprek_gevoerd_op=days_ahead(1).isoformat()))


@pytest.mark.parametrize("missing", ["oorzaak", "gesprek_gevoerd_op", "route"])
def test_kies_route_needs_its_payload(demo, missing):
    case = make_verzuim_case(demo, "in_onderzoek")
    data = kies_route_data("vrijwillige_hulp")
    data.pop(missing)
    _refused_without_effect(missing, case, "kies_route", demo.lpa, data)


# ------------------------------------------------------------------ verwijs_door

def test_verwijs_door_only_to_a_heavier_route(demo):
    case = make_verzuim_case(demo, "halt")
    _refused_without_effect("route", case, "verwijs_door", demo.lpa, verwijs_door_data("vrijwillige_hulp"))
    _refused_without_effect("route", case, "verwijs_door", demo.lpa, verwijs_door_data("halt"))
    # Halt ending negatively leads to a proces-verbaal; its own guards apply.
    _refused_without_effect("tegen", case, "verwijs_door", demo.lpa,
                            verwijs_door_data("proces_verbaal", tegen=None))
    _accepted(demo, case, "verwijs_door", verwijs_door_data("proces_verbaal", tegen="jongere"))
    assert (case.state, case.data["routes"]) == ("proces_verbaal", ["halt", "proces_verbaal"])


def test_verwijs_door_needs_a_motivering(demo):
    case = make_verzuim_case(demo, "vrijwillige_hulp")
    _refused_without_effect("motivering", case, "verwijs_door", demo.lpa,
                            verwijs_door_data("verplicht_kader", motivering=""))


def test_verwijs_door_to_halt_applies_the_halt_guards(demo):
    case = make_verzuim_case(demo, "vrijwillige_hulp", child=make_pupil_aged(demo, 18))
    _refused_without_effect("route", case, "verwijs_door", demo.lpa, verwijs_door_data("halt"))
    _refused_without_effect("toestemming_halt", make_verzuim_case(demo, "vrijwillige_hulp"),
                            "verwijs_door", demo.lpa,
                            verwijs_door_data("halt", toestemming_halt=False))


# ------------------------------------------------------------------ the other events

def test_start_onderzoek_conversation_not_in_the_past(demo):
    case = make_verzuim_case(demo, "ontvangen")
    _refused_without_effect("gesprek_gepland_op", case, "start_onderzoek", demo.lpa,
                            {"gesprek_gepland_op": days_ago(1).isoformat()})
    _accepted(demo, case, "start_onderzoek", {"gesprek_gepland_op": days_ago(0).isoformat()})


def test_start_monitoring_until_a_date_in_the_future(demo):
    case = make_verzuim_case(demo, "halt")
    data = {"uitkomst": "halt_positief"}
    _refused_without_effect("monitoren_tot", case, "start_monitoring", demo.lpa,
                            data | {"monitoren_tot": days_ago(0).isoformat()})
    _refused_without_effect("monitoren_tot", case, "start_monitoring", demo.lpa,
                            data | {"monitoren_tot": days_ago(10).isoformat()})
    _refused_without_effect("uitkomst", case, "start_monitoring", demo.lpa,
                            {"uitkomst": "", "monitoren_tot": days_ahead(1).isoformat()})
    _accepted(demo, case, "start_monitoring", data | {"monitoren_tot": days_ahead(1).isoformat()})
    assert case.data["monitoren_tot"] == days_ahead(1).isoformat()


def test_sluit_af_anders_needs_toelichting(demo):
    case = make_verzuim_case(demo, "monitoring")
    _refused_without_effect("toelichting", case, "sluit_af", demo.lpa, {"resultaat": "anders"})
    _refused_without_effect("toelichting", case, "sluit_af", demo.lpa,
                            {"resultaat": "anders", "toelichting": "  "})
    _refused_without_effect("resultaat", case, "sluit_af", demo.lpa, {"resultaat": "weggelopen"})
    _accepted(demo, case, "sluit_af", {"resultaat": "anders", "toelichting": "Naar het buitenland."})
    assert (case.data["resultaat"], case.data["toelichting_resultaat"]) == ("anders", "Naar het buitenland.")


def test_draag_over_needs_another_gemeente(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    _refused_without_effect("gemeente_id", case, "draag_over", demo.lpa,
                            {"gemeente_id": demo.voorbeeldstad.id})
    _refused_without_effect("gemeente_id", case, "draag_over", demo.lpa,
                            {"gemeente_id": demo.sam.school_id})  # a school is no gemeente
    _refused_without_effect("gemeente_id", case, "draag_over", demo.lpa, {"gemeente_id": 987654})
    _accepted(demo, case, "draag_over", {"gemeente_id": demo.buurdorp.id})
    assert (case.state, case.data["overgedragen_aan"], duo_status(case)) == (
        "afgesloten", demo.buurdorp.id, "G")


def test_trek_in_only_by_the_school_and_only_from_ontvangen(demo):
    from casework.services.errors import Forbidden, NotFound

    case = make_verzuim_case(demo, "ontvangen")
    data = event_data(demo, case, "trek_in")
    with pytest.raises(Forbidden):
        fire(case, "trek_in", actor=demo.lpa, data=data)
    with pytest.raises(NotFound):
        fire(case, "trek_in", actor=demo.school_college, data=data)  # not the submitting school
    db.session.rollback()
    _refused_without_effect("reden", case, "trek_in", demo.school, {"reden": ""})

    later = make_verzuim_case(demo, "in_onderzoek")
    with pytest.raises(InvalidTransition):
        fire(later, "trek_in", actor=demo.school, data=data)
    db.session.rollback()
    assert stored_case(later.id)[0] == "in_onderzoek"

    _accepted(demo, case, "trek_in", data, actor=demo.school)
    assert (case.state, duo_status(case)) == ("afgesloten", "I")


def test_neem_ter_kennisgeving_aan_needs_a_reason(demo):
    case = make_verzuim_case(demo, "ontvangen")
    _refused_without_effect("reden", case, "neem_ter_kennisgeving_aan", demo.lpa, {"reden": " "})
    _accepted(demo, case, "neem_ter_kennisgeving_aan", {"reden": "Verzuim al gestopt."})
    assert duo_status(case) == "K"


def test_a_pupil_of_another_school_cannot_be_reported(demo):
    college = db.session.get(Organisation, demo.noor.school_id)
    college_pupil = make_pupil_aged(demo, 14, school=college, parent=demo.ouder2)
    _open_refused("child_id", demo, melding_data(college_pupil), by=demo.school)
    case = open_case(demo.school_college, CASE_TYPE, melding_data(college_pupil))
    commit()
    assert case.gemeente_id == demo.buurdorp.id
