"""Workflow 2, verzuim: every (state, event) pair against domain.md.

The expected table is written out here from domain.md ("Workflow 2", "Events") and letters.md
("Verzuim"), not derived from casework.workflows.verzuim.EVENTS: a transition, letter or DUO
status added, removed or re-routed in the code makes this test fail.
"""
from __future__ import annotations

import pytest

from casework import policy
from casework.services.cases import commit, fire, open_case
from casework.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from casework.workflows import WORKFLOWS
from casework.workflows.verzuim import duo_status
from factories_verzuim import (
    CASE_TYPE, SIGNAAL_STATES, audit_count, audit_rows, event_actor, event_data, fire_and_commit,
    letter_count, letters_of, make_pupil_aged, make_verzuim_case, melding_data, signaal_data,
    stored_case, stored_data,
)

# domain.md, workflow 2, "States" with their DUO status (afgesloten: by how the case ended).
STATES = ("ontvangen", "in_onderzoek", "vrijwillige_hulp", "halt", "verplicht_kader",
          "proces_verbaal", "monitoring", "afgesloten")
ROUTES = ("vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal")
DUO = {"ontvangen": "R", "in_onderzoek": "B", "vrijwillige_hulp": "B", "halt": "B",
       "verplicht_kader": "B", "proces_verbaal": "B", "monitoring": "B"}
DUO_AFGESLOTEN = {"neem_ter_kennisgeving_aan": "K", "draag_over": "G", "trek_in": "I",
                  "sluit_af": "G"}

# The ten events of domain.md; kies_route and verwijs_door once per destination route.
EVENTS = (
    "dien_in", "start_onderzoek", "neem_ter_kennisgeving_aan", "draag_over", "trek_in",
    "escaleer_naar_melding",
    "kies_route:vrijwillige_hulp", "kies_route:halt", "kies_route:verplicht_kader",
    "kies_route:proces_verbaal",
    "verwijs_door:vrijwillige_hulp", "verwijs_door:halt", "verwijs_door:verplicht_kader",
    "verwijs_door:proces_verbaal",
    "start_monitoring", "sluit_af",
    "hervat_route:vrijwillige_hulp", "hervat_route:halt",
)

# domain.md, workflow 2, "Events": (from-state, event) -> to-state. Every pair not listed is
# refused with 409 and changes nothing (except the REFUSED_BY_GUARD pairs below).
ALLOWED: dict[tuple[str, str], str] = {
    ("ontvangen", "start_onderzoek"): "in_onderzoek",
    ("ontvangen", "neem_ter_kennisgeving_aan"): "afgesloten",
    ("ontvangen", "draag_over"): "afgesloten",
    ("in_onderzoek", "draag_over"): "afgesloten",
    ("ontvangen", "trek_in"): "afgesloten",
    # "any open state of a signaal": a signaal can only be in these open states (the heavier
    # routes need a melding, and a melding cannot be escalated; see test_escalating_a_melding).
    ("ontvangen", "escaleer_naar_melding"): "in_onderzoek",
    ("in_onderzoek", "escaleer_naar_melding"): "in_onderzoek",
    ("vrijwillige_hulp", "escaleer_naar_melding"): "in_onderzoek",
    ("monitoring", "escaleer_naar_melding"): "in_onderzoek",
    ("in_onderzoek", "kies_route:vrijwillige_hulp"): "vrijwillige_hulp",
    ("in_onderzoek", "kies_route:halt"): "halt",
    ("in_onderzoek", "kies_route:verplicht_kader"): "verplicht_kader",
    ("in_onderzoek", "kies_route:proces_verbaal"): "proces_verbaal",
    # "a route state -> a heavier route state"
    ("vrijwillige_hulp", "verwijs_door:halt"): "halt",
    ("vrijwillige_hulp", "verwijs_door:verplicht_kader"): "verplicht_kader",
    ("vrijwillige_hulp", "verwijs_door:proces_verbaal"): "proces_verbaal",
    ("halt", "verwijs_door:verplicht_kader"): "verplicht_kader",
    ("halt", "verwijs_door:proces_verbaal"): "proces_verbaal",
    ("verplicht_kader", "verwijs_door:proces_verbaal"): "proces_verbaal",
    ("vrijwillige_hulp", "start_monitoring"): "monitoring",
    ("halt", "start_monitoring"): "monitoring",
    ("verplicht_kader", "start_monitoring"): "monitoring",
    ("proces_verbaal", "start_monitoring"): "monitoring",
    ("in_onderzoek", "sluit_af"): "afgesloten",
    # The absence came back during monitoring: back to a route (issue: no dead ends).
    ("monitoring", "hervat_route:vrijwillige_hulp"): "vrijwillige_hulp",
    ("monitoring", "hervat_route:halt"): "halt",
    ("vrijwillige_hulp", "sluit_af"): "afgesloten",
    ("halt", "sluit_af"): "afgesloten",
    ("verplicht_kader", "sluit_af"): "afgesloten",
    ("proces_verbaal", "sluit_af"): "afgesloten",
    ("monitoring", "sluit_af"): "afgesloten",
}

# verwijs_door from a route state to the same or a lighter route: the event belongs to the
# state, the chosen destination does not -> 422 naming `route` (a guard, not a wrong state).
REFUSED_BY_GUARD: set[tuple[str, str]] = {
    ("vrijwillige_hulp", "verwijs_door:vrijwillige_hulp"),
    ("halt", "verwijs_door:vrijwillige_hulp"), ("halt", "verwijs_door:halt"),
    ("verplicht_kader", "verwijs_door:vrijwillige_hulp"), ("verplicht_kader", "verwijs_door:halt"),
    ("verplicht_kader", "verwijs_door:verplicht_kader"),
    ("proces_verbaal", "verwijs_door:vrijwillige_hulp"), ("proces_verbaal", "verwijs_door:halt"),
    ("proces_verbaal", "verwijs_door:verplicht_kader"),
    ("proces_verbaal", "verwijs_door:proces_verbaal"),
}

# letters.md, "Verzuim": who gets which letter, for a pupil of 14 (so the pupil gets their own).
LETTERS: dict[str, set[tuple[str, str]]] = {
    "dien_in": {("vz_ontvangstbevestiging", "school")},
    "start_onderzoek": {("vz_uitnodiging", "ouder"), ("vz_uitnodiging", "leerling")},
    "neem_ter_kennisgeving_aan": {("vz_ter_kennisgeving", "school")},
    "draag_over": {("vz_overdracht_school", "school"), ("vz_overdracht_gemeente", "gemeente")},
    "trek_in": {("vz_intrekking", "school")},
    "escaleer_naar_melding": {("vz_omzetting", "ouder"), ("vz_omzetting_school", "school")},
    **{f"{event}:{route}": {(f"vz_route_{route}", "ouder"), (f"vz_route_{route}", "leerling")}
       for event in ("kies_route", "verwijs_door", "hervat_route") for route in ROUTES},
    "start_monitoring": {("vz_monitoring", "ouder"), ("vz_monitoring_school", "school")},
    "sluit_af": {("vz_afsluiting", "ouder"), ("vz_afsluiting_school", "school")},
}

# Who fires each event (domain.md "by"): the school that submitted it, or the LPA.
ACTOR_ROLE = {"trek_in": "school", "escaleer_naar_melding": "school", "dien_in": "school"}

PAIRS = [(state, event) for state in STATES for event in EVENTS]


def _soort(state: str, event: str) -> str:
    """A signaal where the event is about a signaal and a signaal can be in the state."""
    return "signaal" if event == "escaleer_naar_melding" and state in SIGNAAL_STATES else "melding"


def _snapshot(case_id: int) -> tuple:
    return (stored_case(case_id), audit_count(case_id), letter_count(case_id), stored_data(case_id))


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_every_state_event_pair(demo, state, event):
    case = make_verzuim_case(demo, state, soort=_soort(state, event))
    name = event.partition(":")[0]
    actor = event_actor(demo, case, event)
    assert actor.role == ACTOR_ROLE.get(name, "leerplichtambtenaar")
    data = event_data(demo, case, event)
    before = _snapshot(case.id)
    (before_state, before_version), before_audit, before_letters, _ = before
    expected = ALLOWED.get((state, event))

    if expected is None:
        # Both roles of this workflow see a verzuim case in every state (the school: its own
        # submission), so the refusal is a 409, never a 404.
        assert policy.can_see_case(actor, case)
        refusal = ValidationFailed if (state, event) in REFUSED_BY_GUARD else InvalidTransition
        with pytest.raises(refusal) as excinfo:
            fire(case, name, actor=actor, data=data)
        if refusal is ValidationFailed:
            assert excinfo.value.status == 422 and list(excinfo.value.fields) == ["route"]
        else:
            assert excinfo.value.status == 409
        commit()
        assert case.state == state
        assert _snapshot(case.id) == before
        return

    fire(case, name, actor=actor, data=data)
    commit()
    assert stored_case(case.id) == (expected, before_version + 1)
    assert case.is_open is (expected != "afgesloten")
    rows = audit_rows(case.id)
    assert len(rows) == before_audit + 1
    last = rows[-1]
    assert (last.event, last.from_state, last.to_state) == (name, state, expected)
    assert (last.actor_id, last.actor_role) == (actor.id, actor.role)
    assert duo_status(case) == (DUO_AFGESLOTEN[name] if expected == "afgesloten" else DUO[expected])
    new_letters = letters_of(case.id)[before_letters:]
    assert {(x.kind, x.recipient_role) for x in new_letters} == LETTERS[event]
    assert {x.audit_seq for x in new_letters} == {last.seq}
    assert all(x.status == "pending" for x in new_letters)


def test_table_covers_every_state_and_event_of_the_code():
    wf = WORKFLOWS[CASE_TYPE]
    assert tuple(wf.states) == STATES
    assert wf.terminal == {"afgesloten"}
    assert set(wf.events) == {e.partition(":")[0] for e in EVENTS}
    assert set(wf.events["kies_route"].destinations()) == set(ROUTES)
    assert set(wf.events["verwijs_door"].destinations()) == set(ROUTES)


@pytest.mark.parametrize("state", [s for s in STATES if s != "afgesloten"])
def test_escalating_a_melding_is_refused_in_every_state(demo, state):
    case = make_verzuim_case(demo, state, soort="melding")
    before = _snapshot(case.id)
    for actor in (demo.school, demo.lpa):
        with pytest.raises(InvalidTransition) as excinfo:
            fire(case, "escaleer_naar_melding", actor=actor, data=event_data(demo, case, "escaleer_naar_melding"))
        assert excinfo.value.status == 409
        commit()
        assert _snapshot(case.id) == before
        assert "escaleer_naar_melding" not in policy.available_events(actor, case)


@pytest.mark.parametrize("state", ["ontvangen", "in_onderzoek", "vrijwillige_hulp", "monitoring"])
def test_the_lpa_may_escalate_a_signaal_too(demo, state):
    case = make_verzuim_case(demo, state, soort="signaal")
    assert "escaleer_naar_melding" in policy.available_events(demo.lpa, case)
    fire_and_commit(demo, case, "escaleer_naar_melding", actor=demo.lpa)
    last = audit_rows(case.id)[-1]
    assert (last.event, last.from_state, last.to_state, last.actor_role) == (
        "escaleer_naar_melding", state, "in_onderzoek", "leerplichtambtenaar")
    assert case.data["soort"] == "melding"


# ------------------------------------------------------------------ roles (403 / 404)

@pytest.mark.parametrize("event", ["start_onderzoek", "neem_ter_kennisgeving_aan", "draag_over",
                                   "kies_route:vrijwillige_hulp", "sluit_af"])
def test_the_school_may_not_fire_the_lpa_events(demo, event):
    state = "in_onderzoek" if event.startswith(("kies_route", "sluit_af")) else "ontvangen"
    case = make_verzuim_case(demo, state)
    before = _snapshot(case.id)
    with pytest.raises(Forbidden) as excinfo:
        fire(case, event.partition(":")[0], actor=demo.school, data=event_data(demo, case, event))
    assert excinfo.value.status == 403
    commit()
    assert _snapshot(case.id) == before


def test_the_lpa_may_not_withdraw_for_the_school(demo):
    case = make_verzuim_case(demo, "ontvangen")
    before = _snapshot(case.id)
    with pytest.raises(Forbidden):
        fire(case, "trek_in", actor=demo.lpa, data=event_data(demo, case, "trek_in"))
    commit()
    assert _snapshot(case.id) == before


@pytest.mark.parametrize("who", ["school_college", "lpa_buurdorp", "ouder2", "arts", "swv",
                                 "beheerder"])
def test_unrelated_users_get_404_for_every_event(demo, who):
    case = make_verzuim_case(demo, "ontvangen", soort="signaal")
    before = _snapshot(case.id)
    for event in ("start_onderzoek", "trek_in", "escaleer_naar_melding"):
        with pytest.raises(NotFound) as excinfo:
            fire(case, event, actor=getattr(demo, who), data=event_data(demo, case, event))
        assert excinfo.value.status == 404
    commit()
    assert _snapshot(case.id) == before


def test_a_parent_sees_the_case_but_fires_nothing(demo):
    case = make_verzuim_case(demo, "ontvangen", soort="signaal")
    before = _snapshot(case.id)
    assert policy.can_see_case(demo.ouder1, case)
    assert policy.available_events(demo.ouder1, case) == []
    with pytest.raises(Forbidden):
        fire(case, "trek_in", actor=demo.ouder1, data=event_data(demo, case, "trek_in"))
    commit()
    assert _snapshot(case.id) == before


# ------------------------------------------------------------------ dien_in

@pytest.mark.parametrize("soort", ["signaal", "melding"])
def test_a_school_submits_for_its_own_pupil(demo, soort):
    child = make_pupil_aged(demo, 13)
    data = signaal_data(child) if soort == "signaal" else melding_data(child)
    case = open_case(demo.school, CASE_TYPE, data)
    commit()
    assert stored_case(case.id)[0] == "ontvangen"
    assert case.reference.startswith("VZ-")
    assert (case.gemeente_id, case.school_id) == (demo.voorbeeldstad.id, demo.sam.school_id)
    assert case.data["soort"] == soort and case.data["oorspronkelijke_soort"] == soort
    assert duo_status(case) == "R"
    [row] = audit_rows(case.id)
    assert (row.seq, row.event, row.from_state, row.to_state, row.actor_id, row.actor_role) == (
        1, "dien_in", None, "ontvangen", demo.school.id, "school")
    assert [(x.kind, x.recipient_role, x.recipient_org_id, x.audit_seq) for x in letters_of(case.id)] == [
        ("vz_ontvangstbevestiging", "school", demo.sam.school_id, 1)]


def test_the_lpa_and_a_duo_import_may_submit_a_melding(demo):
    child = make_pupil_aged(demo, 15)
    by_lpa = open_case(demo.lpa, CASE_TYPE, melding_data(child))
    by_duo = open_case(None, CASE_TYPE, melding_data(child, verzuimsoort="langdurig_relatief"),
                       actor_role="duo_import")
    commit()
    assert [(r.actor_id, r.actor_role) for r in audit_rows(by_lpa.id)] == [(demo.lpa.id, "leerplichtambtenaar")]
    assert [(r.actor_id, r.actor_role) for r in audit_rows(by_duo.id)] == [(None, "duo_import")]
    # Several verzuim cases of one child may be open at once (a new melding each time).
    assert by_lpa.is_open and by_duo.is_open
    assert by_duo.data["ingediend_door"] == "duo_import"


@pytest.mark.parametrize("who", ["ouder1", "arts", "swv", "beheerder"])
def test_other_roles_may_not_submit(demo, who):
    child = make_pupil_aged(demo, 13)
    with pytest.raises(Forbidden) as excinfo:
        open_case(getattr(demo, who), CASE_TYPE, melding_data(child))
    assert excinfo.value.status == 403


@pytest.mark.parametrize("who", ["school_college", "lpa_buurdorp"])
def test_a_school_or_lpa_may_not_submit_for_someone_elses_pupil(demo, who):
    child = make_pupil_aged(demo, 13)  # De Voorbeeld, Voorbeeldstad
    with pytest.raises(ValidationFailed) as excinfo:
        open_case(getattr(demo, who), CASE_TYPE, melding_data(child))
    assert list(excinfo.value.fields) == ["child_id"]


def test_full_path_keeps_one_chain_and_tracks_duo_status(demo):
    case = make_verzuim_case(demo, "ontvangen")
    version_after_opening = stored_case(case.id)[1]
    seen = [duo_status(case)]
    for event in ("start_onderzoek", "kies_route:vrijwillige_hulp", "verwijs_door:halt",
                  "verwijs_door:proces_verbaal", "start_monitoring", "sluit_af"):
        fire_and_commit(demo, case, event)
        seen.append(duo_status(case))
    assert seen == ["R", "B", "B", "B", "B", "B", "G"]
    rows = audit_rows(case.id)
    assert [r.seq for r in rows] == list(range(1, 8))
    assert [(r.from_state, r.to_state) for r in rows] == [
        (None, "ontvangen"), ("ontvangen", "in_onderzoek"), ("in_onderzoek", "vrijwillige_hulp"),
        ("vrijwillige_hulp", "halt"), ("halt", "proces_verbaal"), ("proces_verbaal", "monitoring"),
        ("monitoring", "afgesloten")]
    assert case.data["routes"] == ["vrijwillige_hulp", "halt", "proces_verbaal"]
    assert stored_case(case.id) == ("afgesloten", version_after_opening + 6)
    assert case.is_open is False
