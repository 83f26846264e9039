"""Workflow 1, vrijstelling 5 onder a: every (state, event) pair against domain.md.

The expected table is written out here from domain.md's "Events" table, not derived from
casework.workflows.vrijstelling.EVENTS: a transition added, removed or re-routed in the code
makes this test fail.
"""
from __future__ import annotations

import pytest

from casework import policy
from casework.models import Case
from casework.services.cases import commit, fire, open_case
from casework.services.errors import InvalidTransition, NotFound, ValidationFailed
from casework.workflows import WORKFLOWS
from casework.workflows.base import SYSTEM_ROLE
from factories import (
    CASE_TYPE, audit_count, audit_rows, dien_in_data, event_actor, event_data, letter_count,
    letters_of, make_case, stored_case,
)

# domain.md, workflow 1, "States" (10 states, two terminal).
STATES = (
    "kennisgeving_ontvangen", "niet_ontvankelijk", "in_behandeling", "advies_gevraagd",
    "advies_uitgebracht", "vrijgesteld", "geen_vrijstelling", "herbeoordeling", "ingetrokken",
    "beeindigd",
)
TERMINAL = {"ingetrokken", "beeindigd"}

# domain.md, workflow 1, "Events": (from-state, event) -> to-state. Every pair not listed is refused.
# geef_verklaring is listed twice, by the verklaring's outcome (`geschikt`).
ALLOWED: dict[tuple[str, str], str] = {
    ("kennisgeving_ontvangen", "neem_in_behandeling"): "in_behandeling",
    ("kennisgeving_ontvangen", "verklaar_niet_ontvankelijk"): "niet_ontvankelijk",
    ("niet_ontvankelijk", "vul_aan"): "kennisgeving_ontvangen",
    ("in_behandeling", "vraag_advies"): "advies_gevraagd",
    ("herbeoordeling", "vraag_advies"): "advies_gevraagd",
    ("advies_gevraagd", "breng_advies_uit"): "advies_uitgebracht",
    ("advies_uitgebracht", "geef_verklaring:niet_geschikt"): "vrijgesteld",
    ("advies_uitgebracht", "geef_verklaring:geschikt"): "geen_vrijstelling",
    ("vrijgesteld", "start_herbeoordeling"): "herbeoordeling",
    ("vrijgesteld", "beeindig"): "beeindigd",
    ("geen_vrijstelling", "beeindig"): "beeindigd",
    ("herbeoordeling", "beeindig"): "beeindigd",
    ("kennisgeving_ontvangen", "trek_in"): "ingetrokken",
    ("niet_ontvankelijk", "trek_in"): "ingetrokken",
    ("in_behandeling", "trek_in"): "ingetrokken",
    ("advies_gevraagd", "trek_in"): "ingetrokken",
    ("advies_uitgebracht", "trek_in"): "ingetrokken",
    # The LPA can end a procedure before the verklaring (issue: no dead ends).
    ("niet_ontvankelijk", "beeindig"): "beeindigd",
    ("in_behandeling", "beeindig"): "beeindigd",
    ("advies_gevraagd", "beeindig"): "beeindigd",
    ("advies_uitgebracht", "beeindig"): "beeindigd",
    ("advies_gevraagd", "vraag_ander_swv"): "advies_gevraagd",
    ("vrijgesteld", "zie_af"): "beeindigd",
    ("herbeoordeling", "zie_af"): "beeindigd",
    ("vrijgesteld", "herinner_verlenging"): "vrijgesteld",
}
# In the right state, but refused by a guard of the day: a niet-ontvankelijk notice can still be
# completed (its aanvullen_voor lies ahead), so it is not closed yet.
REFUSED_TODAY = {("niet_ontvankelijk", "sluit_niet_aangevuld")}

# The ten events of domain.md plus dien_in (the opening event, never allowed on an existing case).
EVENTS = (
    "dien_in", "neem_in_behandeling", "verklaar_niet_ontvankelijk", "vul_aan", "vraag_advies",
    "breng_advies_uit", "geef_verklaring:niet_geschikt", "geef_verklaring:geschikt",
    "start_herbeoordeling", "beeindig", "trek_in", "sluit_niet_aangevuld", "vraag_ander_swv",
    "zie_af", "herinner_verlenging",
)
# The import of old exemptions opens a case only from the command: tests/test_import_vrijstellingen.py.
IMPORT_EVENT = "importeer"

PAIRS = [(state, event) for state in STATES for event in EVENTS]


def _split(event: str) -> tuple[str, bool]:
    name, _, variant = event.partition(":")
    return name, variant == "geschikt"


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_every_state_event_pair(demo, state, event):
    case = make_case(demo, state)
    name, geschikt = _split(event)
    actor = event_actor(demo, case, name)
    data = event_data(demo, case, name, geschikt=geschikt)
    before_state, before_version = stored_case(case.id)
    before_audit, before_letters = audit_count(case.id), letter_count(case.id)

    expected = ALLOWED.get((state, event))
    if (state, event) in REFUSED_TODAY:
        with pytest.raises(ValidationFailed):
            fire(case, name, actor=actor, data=data)
        commit()
        assert stored_case(case.id) == (before_state, before_version)
        assert (audit_count(case.id), letter_count(case.id)) == (before_audit, before_letters)
        return
    if expected is None:
        # The event's own role in the wrong state: 409 when that user sees the case in this
        # state, 404 when the case is not (yet, or no longer) theirs to see (e.g. the SWV
        # before it is asked, the jeugdarts before assignment).
        visible = policy.can_see_case(actor, case)
        with pytest.raises(InvalidTransition if visible else NotFound) as excinfo:
            fire(case, name, actor=actor, data=data)
        assert excinfo.value.status == (409 if visible else 404)
        commit()
        assert case.state == state
        assert stored_case(case.id) == (before_state, before_version)
        assert audit_count(case.id) == before_audit
        assert letter_count(case.id) == before_letters
        return

    fire(case, name, actor=actor, data=data)
    commit()
    assert stored_case(case.id) == (expected, before_version + 1)
    assert case.is_open is (expected not in TERMINAL)
    rows = audit_rows(case.id)
    assert len(rows) == before_audit + 1
    last = rows[-1]
    assert (last.event, last.from_state, last.to_state) == (name, state, expected)
    # Every event produces at least one letter, tied to this event's audit row.
    new_letters = letters_of(case.id)[before_letters:]
    assert new_letters, f"{name} from {state} produced no letter"
    assert {letter.audit_seq for letter in new_letters} == {last.seq}
    assert all(letter.status == "pending" for letter in new_letters)


def test_table_covers_every_state_and_event_of_the_code():
    """The literal table above speaks about exactly the workflow's states and events."""
    wf = WORKFLOWS[CASE_TYPE]
    assert set(wf.states) == set(STATES)
    assert set(wf.terminal) == TERMINAL
    assert set(wf.events) == {_split(e)[0] for e in EVENTS} | {IMPORT_EVENT}


def test_dien_in_opens_a_case_in_kennisgeving_ontvangen(demo):
    case = open_case(demo.ouder1, CASE_TYPE, dien_in_data(demo.sam))
    commit()
    assert stored_case(case.id) == ("kennisgeving_ontvangen", case.version)
    assert case.is_open is True
    assert case.reference.startswith("V5A-")
    assert case.gemeente_id == demo.voorbeeldstad.id
    [row] = audit_rows(case.id)
    assert (row.seq, row.event, row.from_state, row.to_state) == (1, "dien_in", None,
                                                                  "kennisgeving_ontvangen")
    assert (row.actor_id, row.actor_role) == (demo.ouder1.id, "ouder")
    letters = letters_of(case.id)
    assert [(x.kind, x.recipient_role, x.recipient_user_id) for x in letters] == [
        ("v5a_ontvangstbevestiging", "ouder", demo.ouder1.id)]
    assert letters[0].audit_seq == 1


def test_lpa_registers_a_paper_notice(demo):
    case = open_case(demo.lpa, CASE_TYPE, dien_in_data(demo.sam))
    commit()
    assert case.state == "kennisgeving_ontvangen"
    assert case.data["papier"] is True
    assert audit_rows(case.id)[0].actor_role == "leerplichtambtenaar"


def test_full_path_with_herbeoordeling_keeps_one_chain(demo):
    """vrijgesteld -> herbeoordeling -> advies again -> a new verklaring -> vrijgesteld."""
    case = make_case(demo, "herbeoordeling", toestemming=True)
    for event in ("vraag_advies", "breng_advies_uit", "geef_verklaring"):
        fire(case, event, actor=event_actor(demo, case, event),
             data=event_data(demo, case, event, toestemming=True))
        commit()
    assert case.state == "vrijgesteld"
    rows = audit_rows(case.id)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert [(r.from_state, r.to_state) for r in rows] == [
        (None, "kennisgeving_ontvangen"),
        ("kennisgeving_ontvangen", "in_behandeling"),
        ("in_behandeling", "advies_gevraagd"),
        ("advies_gevraagd", "advies_uitgebracht"),
        ("advies_uitgebracht", "vrijgesteld"),
        ("vrijgesteld", "herbeoordeling"),
        ("herbeoordeling", "advies_gevraagd"),
        ("advies_gevraagd", "advies_uitgebracht"),
        ("advies_uitgebracht", "vrijgesteld"),
    ]


def test_geef_verklaring_records_the_period(demo):
    case = make_case(demo, "vrijgesteld")
    assert case.ingangsdatum is not None and case.herbeoordelingsdatum is not None
    assert case.einddatum is not None
    fit = make_case(demo, "geen_vrijstelling", child=demo.lotte)
    assert (fit.ingangsdatum, fit.einddatum, fit.herbeoordelingsdatum) == (None, None, None)


@pytest.mark.parametrize("event", ["start_herbeoordeling", "beeindig"])
def test_scheduler_may_fire_its_time_driven_events(demo, event):
    case = make_case(demo, "vrijgesteld")
    fire(case, event, actor=None, data={"reden": "verlopen"} if event == "beeindig" else {})
    commit()
    last = audit_rows(case.id)[-1]
    assert (last.event, last.actor_id, last.actor_role) == (event, None, SYSTEM_ROLE)


def test_fresh_case_object_from_the_database_fires_too(demo):
    """The static machine works on a case loaded from the database (no per-row machine)."""
    from casework.extensions import db

    case_id = make_case(demo, "kennisgeving_ontvangen").id
    db.session.expunge_all()
    loaded = db.session.get(Case, case_id)
    fire(loaded, "verklaar_niet_ontvankelijk", actor=db.session.merge(demo.lpa),
         data={"reden": "Geboortedatum ontbreekt."})
    commit()
    assert stored_case(case_id)[0] == "niet_ontvankelijk"
