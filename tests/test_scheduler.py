"""The scheduler (tick): time-driven events fired through fire() as the actor 'systeem'."""
from __future__ import annotations

from datetime import date, timedelta

from casework.extensions import db
from casework.models import Case
from casework.services.cases import commit, fire
from casework.services.scheduler import tick
from factories import (
    audit_count, audit_rows, event_actor, event_data, letter_count, letters_of, make_case, today,
    verklaring_data,
)


def _exempt(demo, *, child=None, ingang=None, eind=None, herbeoordeling=None) -> Case:
    """A vrijgesteld case with the given period (dates relative to today)."""
    t = today()
    received = min(ingang or t, t)  # an exemption does not start before the kennisgeving
    case = make_case(demo, "advies_uitgebracht", child=child, ontvangen_op=received if received < t else None)
    data = verklaring_data(
        ingangsdatum=(ingang or t).isoformat(),
        einddatum=eind.isoformat() if eind else None,
        herbeoordelingsdatum=(herbeoordeling or t + timedelta(days=180)).isoformat(),
    )
    fire(case, "geef_verklaring", actor=event_actor(demo, case, "geef_verklaring"), data=data)
    commit()
    assert case.state == "vrijgesteld"
    return case


def _state(case_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).state


def test_herbeoordeling_starts_within_the_lead_time(app, demo):
    lead = app.config["HERBEOORDELING_LEAD_DAYS"]
    assert lead == 42
    t = today()
    near = _exempt(demo, herbeoordeling=t + timedelta(days=lead))
    far = _exempt(demo, child=demo.lotte, herbeoordeling=t + timedelta(days=lead + 1))
    far_audit, far_letters = audit_count(far.id), letter_count(far.id)

    lines = tick(today=t)

    assert _state(near.id) == "herbeoordeling"
    last = audit_rows(near.id)[-1]
    assert (last.event, last.from_state, last.to_state) == ("start_herbeoordeling", "vrijgesteld", "herbeoordeling")
    assert (last.actor_id, last.actor_role) == (None, "systeem")
    assert [x.kind for x in letters_of(near.id) if x.audit_seq == last.seq] == ["v5a_herbeoordeling"]
    assert any(near.reference in line for line in lines)

    assert _state(far.id) == "vrijgesteld"
    assert (audit_count(far.id), letter_count(far.id)) == (far_audit, far_letters)
    assert not any(far.reference in line for line in lines)


def test_herbeoordeling_date_already_passed_starts_it_too(demo):
    t = today()
    case = _exempt(demo, ingang=t - timedelta(days=200), herbeoordeling=t - timedelta(days=1))
    tick(today=t)
    assert _state(case.id) == "herbeoordeling"


def test_expired_exemption_ends_with_reden_verlopen_and_a_letter(demo):
    t = today()
    case = _exempt(demo, ingang=t - timedelta(days=100), eind=t - timedelta(days=1),
                   herbeoordeling=t - timedelta(days=2))
    before_audit = audit_count(case.id)

    tick(today=t)

    assert _state(case.id) == "beeindigd"
    case = db.session.get(Case, case.id)
    assert case.is_open is False
    assert case.data["reden_beeindiging"] == "verlopen"
    rows = audit_rows(case.id)
    assert len(rows) == before_audit + 1  # ended, not first sent into herbeoordeling
    assert (rows[-1].event, rows[-1].actor_id, rows[-1].actor_role) == ("beeindig", None, "systeem")
    [letter] = [x for x in letters_of(case.id) if x.audit_seq == rows[-1].seq]
    assert (letter.kind, letter.recipient_role) == ("v5a_beeindiging", "ouder")
    assert letter.context["reden"] == "verlopen"


def test_exemption_ending_today_still_runs(demo):
    t = today()
    case = _exempt(demo, ingang=t - timedelta(days=100), eind=t, herbeoordeling=t)
    tick(today=t)
    assert _state(case.id) == "herbeoordeling"  # herbeoordeling is due; the end date not yet passed
    tick(today=t + timedelta(days=1))
    assert _state(case.id) == "beeindigd"


def test_exemption_in_herbeoordeling_also_expires(demo):
    t = today()
    case = _exempt(demo, ingang=t - timedelta(days=100), eind=t + timedelta(days=10),
                   herbeoordeling=t + timedelta(days=5))
    tick(today=t)
    assert _state(case.id) == "herbeoordeling"
    tick(today=t + timedelta(days=11))
    assert _state(case.id) == "beeindigd"


def test_a_second_tick_does_nothing_more(demo):
    t = today()
    ended = _exempt(demo, ingang=t - timedelta(days=100), eind=t - timedelta(days=1),
                    herbeoordeling=t - timedelta(days=2))
    started = _exempt(demo, child=demo.lotte, herbeoordeling=t + timedelta(days=10))
    tick(today=t)
    counts = [(audit_count(c.id), letter_count(c.id), _state(c.id)) for c in (ended, started)]
    assert [c[2] for c in counts] == ["beeindigd", "herbeoordeling"]

    lines = tick(today=t)

    assert [(audit_count(c.id), letter_count(c.id), _state(c.id)) for c in (ended, started)] == counts
    assert lines[-1] == ("Klaar: 0 beëindigd, 0 herbeoordeling(en) gestart, "
                         "0 niet-aangevulde kennisgeving(en) gesloten.")


def test_tick_leaves_other_states_alone(demo):
    t = today()
    fit = make_case(demo, "geen_vrijstelling")
    waiting = make_case(demo, "advies_gevraagd", child=demo.lotte)
    before = [(audit_count(c.id), _state(c.id)) for c in (fit, waiting)]
    tick(today=t + timedelta(days=3650))
    assert [(audit_count(c.id), _state(c.id)) for c in (fit, waiting)] == before


def test_tick_lists_overdue_cases(demo):
    case = make_case(demo, "advies_gevraagd")
    due = db.session.get(Case, case.id).due_on
    assert due is not None
    assert not any("Over tijd" in line for line in tick(today=due))
    lines = tick(today=due + timedelta(days=1))
    assert "Over tijd: 1 zaak/zaken vrijstelling_5a in 'advies_gevraagd'." in lines


# ------------------------------------------------------------------ deadlines are data

def test_due_on_follows_the_deadline_of_each_state(app, demo):
    cfg, t = app.config, today()
    expected = {
        "kennisgeving_ontvangen": t + timedelta(days=cfg["BEHANDEL_TERMIJN_DAGEN"]),
        "niet_ontvankelijk": t + timedelta(days=cfg["AANVUL_TERMIJN_DAGEN"]),
        "in_behandeling": t + timedelta(days=cfg["BEOORDEEL_TERMIJN_DAGEN"]),
        "advies_gevraagd": t + timedelta(days=cfg["ADVIES_TERMIJN_DAGEN"]),
        "advies_uitgebracht": t + timedelta(days=cfg["BEOORDEEL_TERMIJN_DAGEN"]),
    }
    children = [demo.sam, demo.lotte, demo.daan]
    for i, (state, due) in enumerate(expected.items()):
        case = make_case(demo, state, child=children[i % 3])
        assert db.session.get(Case, case.id).due_on == due, state
        fire(case, "trek_in", actor=demo.ouder1, data={})
        commit()
    exempt = make_case(demo, "vrijgesteld")
    assert exempt.due_on == exempt.herbeoordelingsdatum  # before the einddatum
    ended = make_case(demo, "ingetrokken", child=demo.lotte)
    assert ended.due_on is None


def test_herbeoordeling_gets_a_fresh_assessment_deadline(app, demo, monkeypatch):
    """The second assessment is not overdue the day it starts because of the first one's date."""
    from casework.services import cases as case_service

    case = make_case(demo, "vrijgesteld")
    first_deadline = date.fromisoformat(case.data["beoordelen_voor"])
    later = case.herbeoordelingsdatum - timedelta(days=app.config["HERBEOORDELING_LEAD_DAYS"])
    monkeypatch.setattr(case_service, "_today", lambda: later)
    assert later > first_deadline

    fire(case, "start_herbeoordeling", actor=None)
    commit()
    assert case.due_on == later + timedelta(days=app.config["BEOORDEEL_TERMIJN_DAGEN"])
    for event in ("vraag_advies", "breng_advies_uit"):
        fire(case, event, actor=event_actor(demo, case, event), data=event_data(demo, case, event))
        commit()
    assert case.state == "advies_uitgebracht"
    assert case.due_on > later, f"due {case.due_on}: the first assessment's deadline {first_deadline}"
    assert not any("Over tijd" in line for line in tick(today=later))
