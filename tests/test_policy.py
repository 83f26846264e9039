"""Who sees and does what: a table of user (role × relation) × case, checked against policy.py."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casework import policy
from casework.extensions import db
from casework.models import ROLES, Letter, MedicalNote
from casework.services.cases import fire
from casework.services.errors import NotFound
from factories import (
    MEDISCHE_NOTITIE, audit_count, event_data, letter_count, make_case, make_user, stored_case,
)

# Users by their relation to a case about Sam (Voorbeeldstad, parent ouder1).
USERS = ("lpa", "lpa_buurdorp", "arts", "arts2", "swv", "swv_naburig", "ouder1", "ouder2", "school",
         "beheerder")

# Case scenarios, each a state reached by the real events (see SCENARIOS below).
#   user -> scenario -> None (cannot see the case: 404) or the events the user may fire.
EXPECTED: dict[str, dict[str, list[str] | None]] = {
    "lpa": {"kennisgeving_ontvangen": ["neem_in_behandeling", "verklaar_niet_ontvankelijk"],
            "in_behandeling": ["beeindig"], "advies_gevraagd": ["beeindig", "vraag_ander_swv"],
            "advies_uitgebracht": ["beeindig"],
            "vrijgesteld": ["start_herbeoordeling", "beeindig", "herinner_verlenging"],
            "naburig_swv": ["beeindig", "vraag_ander_swv"]},
    "lpa_buurdorp": {},  # another gemeente: sees nothing of Voorbeeldstad
    "arts": {"kennisgeving_ontvangen": None,  # not assigned yet
             "in_behandeling": ["vraag_advies"], "advies_gevraagd": ["vraag_ander_swv"],
             "advies_uitgebracht": ["geef_verklaring"], "vrijgesteld": [],
             "naburig_swv": ["vraag_ander_swv"]},
    "arts2": {},  # a jeugdarts of the same JGZ, not assigned
    # The SWV sees only the advice request addressed to it: not before it is asked, not once the
    # verklaring is given (it never sees the verklaring), not when the neighbour was asked.
    "swv": {"kennisgeving_ontvangen": None, "in_behandeling": None,
            "advies_gevraagd": ["breng_advies_uit"], "advies_uitgebracht": [], "vrijgesteld": None,
            "naburig_swv": None},
    "swv_naburig": {"naburig_swv": ["breng_advies_uit"]},
    "ouder1": {"kennisgeving_ontvangen": ["trek_in"], "in_behandeling": ["trek_in"],
               "advies_gevraagd": ["trek_in"], "advies_uitgebracht": ["trek_in"],
               "vrijgesteld": ["zie_af"],
               "naburig_swv": ["trek_in"]},
    "ouder2": {},
    "school": {},  # a school sees only what it submitted itself (verzuim), never a vrijstelling
    "beheerder": {},  # no access to case content by default
}

# scenario -> (state, toestemming, neighbour SWV asked)
SCENARIOS = {
    "kennisgeving_ontvangen": ("kennisgeving_ontvangen", False, False),
    "in_behandeling": ("in_behandeling", False, False),
    "advies_gevraagd": ("advies_gevraagd", False, False),
    "advies_uitgebracht": ("advies_uitgebracht", True, False),
    "vrijgesteld": ("vrijgesteld", True, False),
    "naburig_swv": ("advies_gevraagd", True, True),
}

TABLE = [(u, s) for u in USERS for s in SCENARIOS]


@pytest.fixture
def users(demo):
    arts2 = make_user("arts2@ggd-voorbeeld.test", "jeugdarts", demo.ggd, "Dr. Tweede Arts")
    return {name: (arts2 if name == "arts2" else getattr(demo, name)) for name in USERS}


def _case(demo, scenario):
    state, toestemming, neighbour = SCENARIOS[scenario]
    return make_case(demo, state, toestemming=toestemming, swv=demo.swv_buur if neighbour else None)


@pytest.mark.parametrize(("user_name", "scenario"), TABLE, ids=[f"{u}-{s}" for u, s in TABLE])
def test_visibility_and_available_events(demo, users, user_name, scenario):
    user = users[user_name]
    case = _case(demo, scenario)
    expected = EXPECTED[user_name].get(scenario)
    visible_ids = set(db.session.scalars(select(policy.visible_cases(user).subquery().c.id)))
    if expected is None:
        with pytest.raises(NotFound) as excinfo:
            policy.get_case_for(user, case.id)
        assert excinfo.value.status == 404
        assert case.id not in visible_ids
        return
    assert policy.get_case_for(user, case.id).id == case.id
    assert case.id in visible_ids
    assert sorted(policy.available_events(user, case)) == sorted(expected)


@pytest.mark.parametrize(("scenario", "expected"), [("advies_gevraagd", False), ("advies_uitgebracht", True)])
def test_swv_sees_identity_only_with_consent(demo, users, scenario, expected):
    case = _case(demo, scenario)
    assert policy.sees_identity(users["swv"], case) is expected
    for name in ("lpa", "arts", "ouder1"):
        assert policy.sees_identity(users[name], case) is True


# ------------------------------------------------------------------ data each role reads

VERKLARING_KEYS = {"geschikt", "weging_advies", "verklaringsdatum", "niet_behandelend_arts",
                   "ingangsdatum", "einddatum", "herbeoordelingsdatum"}


def test_visible_data_per_role(demo, users):
    # Also asked for the SWV, which no longer opens this case: the data rule holds regardless.
    case = _case(demo, "vrijgesteld")
    assert "weging_advies" in case.data  # the verklaring really holds it
    seen = {name: policy.visible_data(users[name], case)
            for name in ("lpa", "arts", "swv", "ouder1")}
    assert "weging_advies" not in seen["lpa"]
    assert seen["lpa"]["geschikt"] is False and seen["lpa"]["einddatum"] == case.einddatum.isoformat()
    assert "weging_advies" in seen["arts"]
    assert "weging_advies" not in seen["ouder1"]
    assert not VERKLARING_KEYS & set(seen["swv"]), "the SWV adviser never sees the verklaring"
    for name, data in seen.items():
        assert MEDISCHE_NOTITIE not in json.dumps(data, default=str), name


def test_only_the_assigned_jeugdarts_reads_the_medical_note(demo, users):
    case = _case(demo, "vrijgesteld")
    note = db.session.scalar(select(MedicalNote).where(MedicalNote.case_id == case.id))
    assert note is not None and note.text == MEDISCHE_NOTITIE and note.author_id == demo.arts.id
    assert MEDISCHE_NOTITIE not in json.dumps(case.data, default=str)
    allowed = {name for name in USERS if policy.may_see_medical_note(users[name], case)}
    assert allowed == {"arts"}


def test_no_letter_holds_the_medical_note(demo):
    case = _case(demo, "vrijgesteld")
    letters = list(db.session.scalars(select(Letter).where(Letter.case_id == case.id)))
    assert letters
    for letter in letters:
        assert MEDISCHE_NOTITIE not in json.dumps(letter.context, default=str), letter.kind
        assert "weging_advies" not in json.dumps(letter.context)


# ------------------------------------------------------------------ letters per role

def _letters(user, case) -> set[tuple[str, str]]:
    return {(x.kind, x.recipient_role) for x in policy.letters_for(user, case)}


def test_letters_for_each_role(demo, users):
    case = _case(demo, "vrijgesteld")
    everything = {(x.kind, x.recipient_role)
                  for x in db.session.scalars(select(Letter).where(Letter.case_id == case.id))}
    assert _letters(users["lpa"], case) == everything
    assert _letters(users["ouder1"], case) == {
        ("v5a_ontvangstbevestiging", "ouder"), ("v5a_in_behandeling_ouder", "ouder"),
        ("v5a_adviesaanvraag_ouder", "ouder"), ("v5a_advies_ouder", "ouder"),
        ("v5a_vrijstelling", "ouder")}
    assert _letters(users["arts"], case) == {("v5a_beoordelingsverzoek", "deskundige"),
                                             ("v5a_advies_deskundige", "deskundige")}
    assert _letters(users["swv"], case) == {("v5a_adviesaanvraag", "swv")}
    # letters_for() is only asked for a case the user sees; even so, none of these is addressed.
    for name in ("ouder2", "arts2", "swv_naburig", "school", "beheerder"):
        assert _letters(users[name], case) == set(), name


def test_swv_letters_only_of_its_own_organisation(demo, users):
    case = _case(demo, "naburig_swv")
    assert _letters(users["swv_naburig"], case) == {("v5a_adviesaanvraag", "swv")}
    assert _letters(users["swv"], case) == set()


def test_get_letter_for_hides_other_peoples_letters(demo, users):
    case = _case(demo, "vrijgesteld")
    ouder_letter = policy.letters_for(users["ouder1"], case)[0]
    assert policy.get_letter_for(users["ouder1"], ouder_letter.id).id == ouder_letter.id
    assert policy.get_letter_for(users["lpa"], ouder_letter.id).id == ouder_letter.id
    for name in ("ouder2", "arts", "arts2", "swv", "lpa_buurdorp", "school", "beheerder"):
        with pytest.raises(NotFound):
            policy.get_letter_for(users[name], ouder_letter.id)


# ------------------------------------------------------------------ relation, not only role

@pytest.mark.parametrize(("user_name", "state", "event"), [
    ("arts2", "advies_uitgebracht", "geef_verklaring"),
    ("arts2", "in_behandeling", "vraag_advies"),
    ("swv_naburig", "advies_gevraagd", "breng_advies_uit"),
    ("lpa_buurdorp", "vrijgesteld", "beeindig"),
    ("lpa_buurdorp", "kennisgeving_ontvangen", "neem_in_behandeling"),
    ("ouder2", "kennisgeving_ontvangen", "trek_in"),
])
def test_fire_refuses_a_user_without_relation_to_the_case(demo, users, user_name, state, event):
    """domain.md: every transition checks the role AND the relation, in fire() itself.

    The right role without a relation to the case: 404, as if the case did not exist; nothing changes.
    """
    case = make_case(demo, state)
    before = (stored_case(case.id), audit_count(case.id), letter_count(case.id))
    with pytest.raises(NotFound):
        fire(case, event, actor=users[user_name], data=event_data(demo, case, event))
    db.session.rollback()
    assert (stored_case(case.id), audit_count(case.id), letter_count(case.id)) == before


# ------------------------------------------------------------------ routes

def test_every_route_is_covered_by_the_policy_table(app):
    """A route that exists but has no rule would answer 404 for everyone; here it fails loudly."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    missing = sorted(endpoints - set(policy.ROUTE_RULES))
    assert not missing, f"endpoints without an entry in policy.ROUTE_RULES: {missing}"


def test_route_rules_name_real_roles():
    for endpoint, rule in policy.ROUTE_RULES.items():
        if rule in (policy.PUBLIC, policy.AUTHENTICATED):
            continue
        assert isinstance(rule, frozenset) and rule, endpoint
        assert rule <= set(ROLES), (endpoint, rule - set(ROLES))
