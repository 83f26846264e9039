"""The MAS route proposal (mas.md, "The route proposal", rules 1-6, first match wins), and what
the audit trail keeps of the proposal and the choice."""
from __future__ import annotations

import pytest

from casework.models import AuditEvent
from casework.services.audit import payload_digest, row_hash, verify_chains
from casework.services.cases import propose_route as propose_for_case
from casework.services.errors import Forbidden, InvalidTransition, NotFound
from casework.workflows.verzuim import KiesRoute, propose_route
from factories import make_case
from factories_verzuim import (
    audit_rows, born_for_age, days_ago, fire_and_commit, kies_route_data, make_pupil,
    make_pupil_aged, make_verzuim_case,
    verwijs_door_data,
)

# The facts of a melding that would fit Halt: 14 years, 20 hours, own initiative, no Halt before.
BASE = dict(soort="melding", oorzaak_categorie="eigen_initiatief", leeftijd=14, uren=20,
            keer_te_laat=None, halt_eerder=False, verzuimsoort="16_uur_4_weken")
# Neither Halt nor a care need: only rules 4-6 can match.
NEUTRAL = BASE | dict(oorzaak_categorie="onbekend")

VH, HALT, VK, PV = "vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal"

# (name, inputs, expected route). Inputs are written out per row; the rule that matches first
# is in the name.
TABLE = [
    # Rule 1: a signaal gets vrijwillige hulp, whatever else is true.
    ("1-signaal", BASE | dict(soort="signaal", verzuimsoort=None, uren=12), VH),
    ("1-signaal-beats-4", NEUTRAL | dict(soort="signaal", verzuimsoort=None,
                                         eerdere_hulp_niet_op_gang=True,
                                         ontwikkeling_in_gevaar=True), VH),
    ("1-signaal-beats-5", NEUTRAL | dict(soort="signaal", verzuimsoort=None,
                                         eerdere_routes_mislukt=True), VH),
    # Rule 2: care needs, illness, home situation, bullying, no fitting place.
    ("2-zorg", BASE | dict(oorzaak_categorie="zorg_of_gezondheid"), VH),
    ("2-thuis", BASE | dict(oorzaak_categorie="thuissituatie"), VH),
    ("2-pesten", BASE | dict(oorzaak_categorie="pesten_of_veiligheid"), VH),
    ("2-geen-aanbod", BASE | dict(oorzaak_categorie="geen_passend_aanbod"), VH),
    ("2-beats-4", BASE | dict(oorzaak_categorie="thuissituatie", eerdere_hulp_niet_op_gang=True,
                              ontwikkeling_in_gevaar=True), VH),
    ("2-beats-5", BASE | dict(oorzaak_categorie="zorg_of_gezondheid", eerdere_routes_mislukt=True), VH),
    # Rule 3: 12-17, own initiative, 9-60 hours or 12-60 times late, no earlier Halt.
    ("3-halt", BASE, HALT),
    ("3-age-12", BASE | dict(leeftijd=12), HALT),
    ("3-age-17", BASE | dict(leeftijd=17), HALT),
    ("3-age-11", BASE | dict(leeftijd=11), VH),
    ("3-age-18", BASE | dict(leeftijd=18), VH),
    ("3-9-hours", BASE | dict(uren=9, verzuimsoort="overig"), HALT),
    ("3-8-hours", BASE | dict(uren=8, verzuimsoort="overig"), VH),
    ("3-60-hours", BASE | dict(uren=60), HALT),
    ("3-61-hours", BASE | dict(uren=61), VH),
    ("3-12-late", BASE | dict(uren=0, keer_te_laat=12, verzuimsoort="overig"), HALT),
    ("3-11-late", BASE | dict(uren=0, keer_te_laat=11, verzuimsoort="overig"), VH),
    ("3-60-late", BASE | dict(uren=None, keer_te_laat=60, verzuimsoort="overig"), HALT),
    ("3-61-late", BASE | dict(uren=None, keer_te_laat=61, verzuimsoort="overig"), VH),
    ("3-halt-before", BASE | dict(halt_eerder=True), VH),
    ("3-not-own-initiative", BASE | dict(oorzaak_categorie="onbekend"), VH),
    ("3-luxe-is-not-own-initiative", BASE | dict(oorzaak_categorie="luxe"), VH),
    ("3-beats-4", BASE | dict(eerdere_hulp_niet_op_gang=True, ontwikkeling_in_gevaar=True), HALT),
    ("3-beats-5", BASE | dict(eerdere_routes_mislukt=True), HALT),
    # Rule 4: voluntary help did not get going AND the development is at risk.
    ("4-verplicht-kader", NEUTRAL | dict(eerdere_hulp_niet_op_gang=True,
                                         ontwikkeling_in_gevaar=True), VK),
    ("4-only-help-failed", NEUTRAL | dict(eerdere_hulp_niet_op_gang=True), VH),
    ("4-only-at-risk", NEUTRAL | dict(ontwikkeling_in_gevaar=True), VH),
    ("4-after-halt-before", BASE | dict(halt_eerder=True, eerdere_hulp_niet_op_gang=True,
                                        ontwikkeling_in_gevaar=True), VK),
    ("4-beats-5", NEUTRAL | dict(eerdere_hulp_niet_op_gang=True, ontwikkeling_in_gevaar=True,
                                 eerdere_routes_mislukt=True), VK),
    # Rule 5: earlier routes failed, or luxe verzuim with parents who refuse to cooperate.
    ("5-routes-failed", NEUTRAL | dict(eerdere_routes_mislukt=True), PV),
    ("5-luxe-parents-refuse", NEUTRAL | dict(verzuimsoort="luxe", oorzaak_categorie="luxe",
                                             ouders_werken_niet_mee=True), PV),
    ("5-luxe-parents-cooperate", NEUTRAL | dict(verzuimsoort="luxe", oorzaak_categorie="luxe"), VH),
    ("5-refusal-without-luxe", NEUTRAL | dict(ouders_werken_niet_mee=True), VH),
    ("5-too-old-for-halt", BASE | dict(leeftijd=18, eerdere_routes_mislukt=True), PV),
    # Rule 6: otherwise.
    ("6-otherwise", NEUTRAL, VH),
    ("6-otherwise-langdurig", NEUTRAL | dict(verzuimsoort="langdurig_relatief", uren=100), VH),
]


@pytest.mark.parametrize(("inputs", "expected"), [(i, e) for _, i, e in TABLE],
                         ids=[name for name, _, _ in TABLE])
def test_route_proposal_table(inputs, expected):
    route, reden = propose_route(**inputs)
    assert route == expected
    assert isinstance(reden, str) and len(reden) > 20


def test_each_rule_gives_its_own_reason():
    reasons = {name.split("-")[0]: propose_route(**inputs)[1] for name, inputs, _ in TABLE
               if name in ("1-signaal", "2-zorg", "3-halt", "4-verplicht-kader", "5-routes-failed",
                           "6-otherwise")}
    assert len(set(reasons.values())) == 6, reasons


# ------------------------------------------------------------------ on a real case

def test_the_service_proposes_from_the_case_and_what_the_lpa_records(demo):
    case = make_verzuim_case(demo, "in_onderzoek")  # melding, 18 hours, pupil of 14
    assert propose_for_case(case, demo.lpa, {"oorzaak_categorie": "eigen_initiatief"})["route"] == HALT
    assert propose_for_case(case, demo.lpa, {"oorzaak_categorie": "thuissituatie"})["route"] == VH
    proposal = propose_for_case(case, demo.lpa, {"eerdere_hulp_niet_op_gang": True,
                                                 "ontwikkeling_in_gevaar": True})
    assert proposal["route"] == VK
    assert proposal["label"] == "Route 3: verzoek aan de Raad voor de Kinderbescherming"
    assert proposal["reden"]
    # A signaal: vrijwillige hulp only.
    signaal = make_verzuim_case(demo, "in_onderzoek", soort="signaal")
    assert propose_for_case(signaal, demo.lpa, {"oorzaak_categorie": "eigen_initiatief",
                                                "eerdere_routes_mislukt": True})["route"] == VH


def test_the_service_uses_the_age_when_the_absence_began(demo):
    # The factories' period is days_ago(20)..days_ago(1): 11 then (12 now) is too young for Halt.
    young = make_verzuim_case(demo, "in_onderzoek", child=make_pupil(
        demo, born_for_age(12, on=days_ago(20), birthday_in=1)))
    twelve = make_verzuim_case(demo, "in_onderzoek", child=make_pupil(
        demo, born_for_age(12, on=days_ago(20))))
    facts = {"oorzaak_categorie": "eigen_initiatief"}
    assert propose_for_case(young, demo.lpa, facts)["route"] == VH
    assert propose_for_case(twelve, demo.lpa, facts)["route"] == HALT


def test_the_service_knows_an_earlier_halt_of_the_pupil(demo):
    child = make_pupil_aged(demo, 15)
    first = make_verzuim_case(demo, "halt", child=child)
    fire_and_commit(demo, first, "sluit_af")
    second = make_verzuim_case(demo, "in_onderzoek", child=child)
    assert propose_for_case(second, demo.lpa, {"oorzaak_categorie": "eigen_initiatief"})["route"] == VH


def test_only_the_lpa_of_the_case_asks_for_a_proposal(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    with pytest.raises(Forbidden):
        propose_for_case(case, demo.school, {})
    for other in (demo.lpa_buurdorp, demo.school_college, demo.ouder2):
        with pytest.raises(NotFound):
            propose_for_case(case, other, {})
    with pytest.raises(NotFound):
        propose_for_case(make_case(demo), demo.lpa, {})  # a vrijstelling case has no route


@pytest.mark.parametrize("state", ["ontvangen", "vrijwillige_hulp", "monitoring", "afgesloten"])
def test_a_proposal_only_while_the_route_is_to_be_chosen(demo, state):
    """Like the web form: a proposal belongs to kies_route, so only in in_onderzoek (409 else)."""
    case = make_verzuim_case(demo, state)
    with pytest.raises(InvalidTransition) as excinfo:
        propose_for_case(case, demo.lpa, {"oorzaak_categorie": "eigen_initiatief"})
    assert excinfo.value.status == 409


# ------------------------------------------------------------------ the audit trail

def _last(case_id: int) -> AuditEvent:
    return audit_rows(case_id)[-1]


def test_proposal_and_choice_are_in_the_audit_row(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    fire_and_commit(demo, case, "kies_route", kies_route_data(HALT))
    row = _last(case.id)
    assert row.event == "kies_route"
    assert row.details == {"voorgestelde_route": HALT, "gekozen_route": HALT, "afwijking": False,
                           "motivering_afwijking": None}
    assert verify_chains().ok


def test_a_different_choice_and_its_reason_are_in_the_audit_trail(demo):
    case = make_verzuim_case(demo, "in_onderzoek")
    data = kies_route_data(VK, oorzaak_categorie="thuissituatie",
                           motivering_afwijking="Hulp in het gezin loopt al twee jaar vast.")
    fire_and_commit(demo, case, "kies_route", data)
    row = _last(case.id)
    # mas.md: proposal, choice and the reason for the difference are in the audit trail.
    assert row.details == {"voorgestelde_route": VH, "gekozen_route": VK, "afwijking": True,
                           "motivering_afwijking": "Hulp in het gezin loopt al twee jaar vast."}
    assert row.payload_digest == payload_digest(KiesRoute.model_validate(data).model_dump(mode="json"))
    assert case.data["motivering_afwijking"] == "Hulp in het gezin loopt al twee jaar vast."
    result = verify_chains()
    assert result.ok and result.first_bad is None


def test_details_are_part_of_the_row_hash(demo):
    case = make_verzuim_case(demo, "vrijwillige_hulp")
    row = _last(case.id)
    assert row.hash == row_hash(row)
    forged = AuditEvent(**{c: getattr(row, c) for c in (
        "case_id", "seq", "event", "from_state", "to_state", "actor_id", "actor_role", "at",
        "payload_digest", "prev_hash")}, details=row.details | {"gekozen_route": HALT})
    assert row_hash(forged) != row.hash


def test_verwijs_door_records_the_new_route(demo):
    case = make_verzuim_case(demo, "halt")
    fire_and_commit(demo, case, "verwijs_door", verwijs_door_data(PV))
    assert _last(case.id).details == {"gekozen_route": PV}
    assert verify_chains().ok


def test_rows_without_a_decision_carry_no_details(demo):
    case = make_verzuim_case(demo, "monitoring")
    assert [(r.event, r.details) for r in audit_rows(case.id) if r.event != "kies_route"] == [
        ("dien_in", None), ("start_onderzoek", None), ("start_monitoring", None)]
