"""Who sees what of a verzuim case: the school (coarse state, never route, cause or help), the
parents, the pupil's own letters, and the gemeente a case is handed over to. A table of user ×
case state, checked against policy.py."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casework import policy
from casework.extensions import db
from casework.models import Case, Letter
from casework.services.cases import commit, fire
from casework.services.errors import Forbidden, NotFound
from factories import make_case, make_org, make_user
from factories_verzuim import (
    event_data, fire_and_commit, letters_of, make_pupil_aged, make_verzuim_case,
)

STATES = ("ontvangen", "in_onderzoek", "vrijwillige_hulp", "halt", "verplicht_kader",
          "proces_verbaal", "monitoring", "afgesloten")
USERS = ("school", "school_college", "ouder1", "ouder2", "lpa", "lpa_buurdorp", "arts", "swv",
         "beheerder")

# domain.md: a school sees ontvangen / in_behandeling / afgesloten, also in the history.
COARSE = {"ontvangen": "ontvangen", "in_onderzoek": "in_behandeling",
          "vrijwillige_hulp": "in_behandeling", "halt": "in_behandeling",
          "verplicht_kader": "in_behandeling", "proces_verbaal": "in_behandeling",
          "monitoring": "in_behandeling", "afgesloten": "afgesloten"}
COARSE_LABELS = {"ontvangen": "Ontvangen", "in_behandeling": "In behandeling",
                 "afgesloten": "Afgesloten"}

# user -> the state as that user sees it, or None: the case does not exist for them (404).
# The case is about a pupil of Basisschool De Voorbeeld (Voorbeeldstad), child of ouder1,
# submitted by that school.
EXPECTED: dict[str, dict[str, str | None]] = {
    "school": COARSE,
    "school_college": dict.fromkeys(STATES),       # another school
    "ouder1": {s: s for s in STATES},              # the parent
    "ouder2": dict.fromkeys(STATES),               # another parent
    "lpa": {s: s for s in STATES},                 # the LPA of the pupil's gemeente
    "lpa_buurdorp": dict.fromkeys(STATES),         # another gemeente
    "arts": dict.fromkeys(STATES),                 # no part in a verzuim case
    "swv": dict.fromkeys(STATES),
    "beheerder": dict.fromkeys(STATES),            # no case content by default
}

# What the school may never read of a case (domain.md: not the route, the cause or the help).
NOT_FOR_SCHOOL = {"oorzaak", "oorzaak_categorie", "route", "routes", "afspraken", "tegen",
                  "voorgestelde_route", "reden_voorstel", "motivering_afwijking",
                  "motivering_doorverwijzing", "toestemming_halt", "uitkomst", "gesprek_gepland_op",
                  "gesprek_gevoerd_op", "resultaat", "toelichting_resultaat", "monitoren_tot"}
NOT_FOR_PARENT = {"oorzaak", "oorzaak_categorie", "voorgestelde_route", "reden_voorstel",
                  "motivering_afwijking", "motivering_doorverwijzing", "verzuimbeleid_situatie"}

TABLE = [(u, s) for u in USERS for s in STATES]


@pytest.mark.parametrize(("user_name", "state"), TABLE, ids=[f"{u}-{s}" for u, s in TABLE])
def test_who_sees_a_verzuim_case_and_as_which_state(demo, user_name, state):
    user = getattr(demo, user_name)
    case = make_verzuim_case(demo, state)
    expected = EXPECTED[user_name][state]
    visible_ids = set(db.session.scalars(select(policy.visible_cases(user).subquery().c.id)))
    if expected is None:
        with pytest.raises(NotFound) as excinfo:
            policy.get_case_for(user, case.id)
        assert excinfo.value.status == 404
        assert case.id not in visible_ids
        assert not policy.can_see_case(user, case)
        return
    assert policy.get_case_for(user, case.id).id == case.id
    assert case.id in visible_ids
    shown, label = policy.state_for(user, case)
    assert shown == expected
    if user_name == "school":
        assert label == COARSE_LABELS[expected]


@pytest.mark.parametrize("state", STATES)
def test_the_school_reads_no_route_cause_or_help(demo, state):
    case = make_verzuim_case(demo, state)
    data = policy.visible_data(demo.school, case)
    assert data["soort"] == "melding" and data["uren"] == 18 and data["duo_status"]
    leaked = NOT_FOR_SCHOOL & set(data)
    assert not leaked, leaked
    if state in ("vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal", "monitoring"):
        # The case really holds them: the filter, not their absence, keeps them out.
        assert {"oorzaak", "route", "afspraken"} <= set(case.data)
        text = json.dumps(data)
        assert case.data["oorzaak"] not in text and case.data["route"] not in text
    if state == "proces_verbaal":
        assert case.data["tegen"] == "ouders" and "tegen" not in data


def test_the_schools_history_skips_the_route_steps(demo):
    case = make_verzuim_case(demo, "vrijwillige_hulp")
    for event in ("verwijs_door:halt", "verwijs_door:proces_verbaal", "start_monitoring", "sluit_af"):
        fire_and_commit(demo, case, event)
    rows = list(db.session.scalars(policy.history_query(demo.school, case)))
    assert [r.event for r in rows] == ["dien_in", "start_onderzoek", "start_monitoring", "sluit_af"]
    coarse = [(policy.state_for(demo.school, case, r.from_state)[0] if r.from_state else None,
               policy.state_for(demo.school, case, r.to_state)[0]) for r in rows]
    assert coarse == [(None, "ontvangen"), ("ontvangen", "in_behandeling"),
                      ("in_behandeling", "in_behandeling"), ("in_behandeling", "afgesloten")]
    # The LPA and the parent see every step.
    everything = ["dien_in", "start_onderzoek", "kies_route", "verwijs_door", "verwijs_door",
                  "start_monitoring", "sluit_af"]
    for user in (demo.lpa, demo.ouder1):
        assert [r.event for r in db.session.scalars(policy.history_query(user, case))] == everything


def test_the_school_filters_on_coarse_states_only(demo):
    cases = {state: make_verzuim_case(demo, state).id for state in STATES}

    def found(user, state):
        q = select(Case.id).where(policy.case_scope(user), policy.state_condition(user, state))
        return set(db.session.scalars(q)) & set(cases.values())

    assert found(demo.school, "ontvangen") == {cases["ontvangen"]}
    assert found(demo.school, "afgesloten") == {cases["afgesloten"]}
    assert found(demo.school, "in_behandeling") == {cases[s] for s in STATES
                                                    if COARSE[s] == "in_behandeling"}
    # A route name is no filter for a school: it would tell which case is in which route.
    for route in ("halt", "proces_verbaal", "vrijwillige_hulp", "in_onderzoek"):
        assert found(demo.school, route) == set()
    assert found(demo.lpa, "halt") == {cases["halt"]}


def test_a_school_sees_no_vrijstelling_case(demo):
    case = make_case(demo, "vrijgesteld")  # Sam, a pupil of the school
    assert case.child.school_id == demo.school.organisation_id
    with pytest.raises(NotFound):
        policy.get_case_for(demo.school, case.id)
    assert not policy.can_see_case(demo.school, case)


def test_a_school_sees_only_its_own_pupils_cases(demo):
    college = make_verzuim_case(demo, "in_onderzoek",
                                child=make_pupil_aged(demo, 14, school=demo.noor.school,
                                                      parent=demo.ouder2))
    assert policy.state_for(demo.school_college, college)[0] == "in_behandeling"
    with pytest.raises(NotFound):
        policy.get_case_for(demo.school, college.id)
    with pytest.raises(NotFound):
        fire(college, "escaleer_naar_melding", actor=demo.school, data={})


# ------------------------------------------------------------------ letters per role

def _seen(user, case) -> set[tuple[str, str]]:
    return {(x.kind, x.recipient_role) for x in policy.letters_for(user, case)}


def _closed_case_with_every_kind_of_letter(demo):
    case = make_verzuim_case(demo, "halt")
    fire_and_commit(demo, case, "start_monitoring")
    fire_and_commit(demo, case, "sluit_af")
    return case


def test_the_school_reads_only_the_letters_addressed_to_it(demo):
    case = _closed_case_with_every_kind_of_letter(demo)
    assert _seen(demo.school, case) == {
        ("vz_ontvangstbevestiging", "school"), ("vz_monitoring_school", "school"),
        ("vz_afsluiting_school", "school")}
    assert all(x.recipient_org_id == demo.school.organisation_id
               for x in policy.letters_for(demo.school, case))
    for letter in letters_of(case.id):
        if letter.recipient_role == "school":
            assert policy.get_letter_for(demo.school, letter.id).id == letter.id
            with pytest.raises(NotFound):
                policy.get_letter_for(demo.school_college, letter.id)
        else:
            with pytest.raises(NotFound):
                policy.get_letter_for(demo.school, letter.id)


def test_the_parent_reads_only_the_letters_addressed_to_them(demo):
    case = _closed_case_with_every_kind_of_letter(demo)
    assert _seen(demo.ouder1, case) == {
        ("vz_uitnodiging", "ouder"), ("vz_route_halt", "ouder"), ("vz_monitoring", "ouder"),
        ("vz_afsluiting", "ouder")}
    assert all(x.recipient_user_id == demo.ouder1.id for x in policy.letters_for(demo.ouder1, case))
    # The pupil's own letters exist, but are not the parent's to read.
    pupil_letters = [x for x in letters_of(case.id) if x.recipient_role == "leerling"]
    assert {x.kind for x in pupil_letters} == {"vz_uitnodiging", "vz_route_halt"}
    for letter in pupil_letters:
        with pytest.raises(NotFound):
            policy.get_letter_for(demo.ouder1, letter.id)
    with pytest.raises(NotFound):
        policy.get_letter_for(demo.ouder2, pupil_letters[0].id)
    # Everything for the LPA.
    assert _seen(demo.lpa, case) == {(x.kind, x.recipient_role) for x in letters_of(case.id)}


def test_the_parent_reads_what_was_reported_and_the_route_not_the_analysis(demo):
    case = make_verzuim_case(demo, "verplicht_kader")
    data = policy.visible_data(demo.ouder1, case)
    assert data["route"] == "verplicht_kader" and data["duo_status"] == "B"
    assert not NOT_FOR_PARENT & set(data), NOT_FOR_PARENT & set(data)
    assert policy.available_events(demo.ouder1, case) == []


@pytest.mark.parametrize(("years", "birthday_in", "gets_letter"), [
    (12, 1, False),  # 11 years and 364 days
    (12, 0, True),   # 12th birthday today
    (18, 1, True),   # still 17, 18 tomorrow
    (18, 0, False),  # 18th birthday today
], ids=["11y364d", "12-today", "day-before-18", "18-today"])
def test_the_pupil_gets_own_letters_only_from_12_to_17(demo, years, birthday_in, gets_letter):
    child = make_pupil_aged(demo, years, birthday_in=birthday_in)
    case = make_verzuim_case(demo, "vrijwillige_hulp", child=child)
    pupil = {x.kind for x in letters_of(case.id) if x.recipient_role == "leerling"}
    assert pupil == ({"vz_uitnodiging", "vz_route_vrijwillige_hulp"} if gets_letter else set())
    # The parents get theirs regardless.
    assert {x.kind for x in letters_of(case.id) if x.recipient_role == "ouder"} == {
        "vz_uitnodiging", "vz_route_vrijwillige_hulp"}


def test_the_pupil_letter_says_it_is_for_the_pupil(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    [letter] = [x for x in letters_of(case.id) if x.recipient_role == "leerling"]
    assert letter.context["aan_leerling"] is True
    assert letter.context["ontvanger"]["naam"] == case.child.naam


# ------------------------------------------------------------------ handed over to another gemeente

def test_the_receiving_gemeente_opens_the_handover_letter_not_the_case(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    fire_and_commit(demo, case, "draag_over", {"gemeente_id": demo.buurdorp.id})
    [handover] = [x for x in letters_of(case.id) if x.kind == "vz_overdracht_gemeente"]
    assert (handover.recipient_role, handover.recipient_org_id) == ("gemeente", demo.buurdorp.id)
    assert policy.get_letter_for(demo.lpa_buurdorp, handover.id).id == handover.id
    with pytest.raises(NotFound):
        policy.get_case_for(demo.lpa_buurdorp, case.id)
    for other in letters_of(case.id):
        if other.id != handover.id:
            with pytest.raises(NotFound):
                policy.get_letter_for(demo.lpa_buurdorp, other.id)
    # The handing-over LPA keeps the case and every letter; a third gemeente gets nothing.
    assert policy.get_letter_for(demo.lpa, handover.id).id == handover.id
    derde = make_org("gemeente", "GM9099", "Gemeente Derdedorp")
    lpa_derde = make_user("leerplicht@derdedorp.test", "leerplichtambtenaar", derde)
    with pytest.raises(NotFound):
        policy.get_letter_for(lpa_derde, handover.id)
    # The school and the parents never see the letter between gemeenten.
    for user in (demo.school, demo.ouder1, demo.school_college):
        with pytest.raises(NotFound):
            policy.get_letter_for(user, handover.id)


def test_the_handover_letter_carries_what_the_new_gemeente_needs(demo):
    case = make_verzuim_case(demo, "ontvangen")
    fire_and_commit(demo, case, "draag_over", {"gemeente_id": demo.buurdorp.id})
    letter = db.session.scalar(select(Letter).where(Letter.case_id == case.id,
                                                    Letter.kind == "vz_overdracht_gemeente"))
    ctx = letter.context
    assert ctx["nieuwe_gemeente"] == "Gemeente Buurdorp"
    assert (ctx["uren"], ctx["verzuimsoort"]) == (18, "16_uur_4_weken")
    assert ctx["kind"]["voornaam"] == case.child.voornaam
    school_letter = db.session.scalar(select(Letter).where(Letter.case_id == case.id,
                                                           Letter.kind == "vz_overdracht_school"))
    assert school_letter.context["nieuwe_gemeente"] == "Gemeente Buurdorp"
    assert "omschrijving" not in school_letter.context


# ------------------------------------------------------------------ "the school that submitted it"

@pytest.mark.parametrize("event", ["trek_in", "escaleer_naar_melding"])
def test_a_school_may_not_withdraw_or_escalate_a_case_the_lpa_opened(demo, event):
    """domain.md: trek_in and escaleer_naar_melding are for "the school that submitted it"."""
    case = make_verzuim_case(demo, "ontvangen", soort="signaal", by=demo.lpa)
    # A case the LPA opened is not the school's: it does not see it at all (a 404, not a 403).
    assert not policy.can_see_case(demo.school, case)
    with pytest.raises(NotFound):
        fire(case, event, actor=demo.school, data=event_data(demo, case, event))
    commit()
    assert case.state == "ontvangen"
    # Its own submission it may withdraw.
    own = make_verzuim_case(demo, "ontvangen", soort="signaal")
    assert event in policy.available_events(demo.school, own)


def test_a_school_may_withdraw_what_it_sent_through_duo(demo):
    from casework.services.cases import open_case
    from factories_verzuim import melding_data

    case = open_case(None, "verzuim", melding_data(make_pupil_aged(demo, 14)), actor_role="duo_import")
    commit()
    assert "trek_in" in policy.available_events(demo.school, case)
    fire_and_commit(demo, case, "trek_in", actor=demo.school)
    assert case.state == "afgesloten"


def test_a_wrong_state_message_does_not_name_the_route_to_a_school(demo):
    """The school's own 409 says 'In behandeling', never which route the case is in."""
    from casework.services.errors import InvalidTransition

    case = make_verzuim_case(demo, "halt")
    school = next(u for u in (demo.school, demo.school_college)
                  if u.organisation_id == case.school_id)
    with pytest.raises(InvalidTransition) as excinfo:
        fire(case, "trek_in", actor=school, data={"reden": "vergissing"})
    assert "In behandeling" in excinfo.value.message
    assert "Halt" not in excinfo.value.message and "Route" not in excinfo.value.message
