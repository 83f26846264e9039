"""Synthetic data (casework/synthetic.py), small: spread over types, states and routes, valid
hash chains, data the real workflow accepts, determinism, and never into a database with real
cases unless forced. The million-case run is scripts/benchmark.sh, not part of the suite."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import AuditEvent, Case, Child, Letter, Organisation, User
from casework.models.case import REPORT_FACTS, report_facts
from casework.services.audit import verify_chains
from casework.services.cases import commit, fire
from casework.synthetic import (
    SYNTHETIC_ATTEMPTS, RealDataPresent, generate, real_cases_present, school_year_start,
)
from casework.workflows import get_workflow
from conftest import otp_code
from factories import make_case

PEILDATUM = date(2026, 6, 15)
N = 300


def synthetic_cases() -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.reference.like("SYN-%"))
                                   .order_by(Case.id)))


def fingerprint() -> list[tuple]:
    """Everything that defines the generated data except secrets (password salt, session nonce)."""
    cases = [(c.id, c.reference, c.type, c.state, c.version, c.is_open, c.child_id, c.gemeente_id,
              c.created_at, c.updated_at, c.due_on, c.deskundige_id, c.swv_id, c.school_id,
              c.toestemming, c.ingangsdatum, c.einddatum, c.herbeoordelingsdatum,
              repr(sorted((c.data or {}).items())))
             for c in synthetic_cases()]
    ids = [c[0] for c in cases]
    audit = list(db.session.execute(select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.hash)
                                    .where(AuditEvent.case_id.in_(ids))
                                    .order_by(AuditEvent.case_id, AuditEvent.seq)))
    children = list(db.session.execute(
        select(Child.bsn, Child.voornaam, Child.achternaam, Child.geboortedatum, Child.school_id)
        .where(Child.bsn >= "900000000").order_by(Child.id)))
    orgs = list(db.session.execute(select(Organisation.code, Organisation.naam)
                                   .where(Organisation.code.like("SYN%")).order_by(Organisation.id)))
    return [cases, audit, children, orgs]


@pytest.fixture
def generated(app_ctx):
    report = generate(N, 3, seed=5, peildatum=PEILDATUM, analyze=False)
    return report


def test_spread_over_types_states_gemeenten_and_routes(generated):
    cases = synthetic_cases()
    assert len(cases) == generated.cases == N
    types = Counter(c.type for c in cases)
    assert set(types) == {"vrijstelling_5a", "verzuim"}
    states = {(c.type, c.state) for c in cases}
    assert len({s for t, s in states if t == "verzuim"}) >= 4
    assert len({s for t, s in states if t == "vrijstelling_5a"}) >= 3
    assert {("verzuim", "afgesloten"), ("vrijstelling_5a", "vrijgesteld")} <= states
    assert sum(c.is_open for c in cases) and sum(not c.is_open for c in cases)
    assert len({c.gemeente_id for c in cases}) == 3
    assert len({c.school_id for c in cases if c.type == "verzuim"}) > 3

    soorten = Counter((c.data["oorspronkelijke_soort"], c.data["verzuimsoort"] is not None)
                      for c in cases if c.type == "verzuim")
    assert soorten[("signaal", False)] and soorten[("melding", True)]
    routes = Counter(db.session.scalars(select(AuditEvent.to_state).where(
        AuditEvent.event.in_(("kies_route", "verwijs_door")))))
    assert routes["vrijwillige_hulp"] and len(routes) >= 3

    # About one child per case, all with a (synthetic) BSN that passes the elfproef.
    children = list(db.session.scalars(select(Child).where(Child.bsn >= "900000000")))
    assert 0.8 * N <= len(children) <= N == len(cases)
    for child in children:
        digits = [int(d) for d in child.bsn]
        assert (sum(d * w for d, w in zip(digits[:8], range(9, 1, -1))) - digits[8]) % 11 == 0


def test_dates_fall_in_the_last_five_school_years(generated):
    first = date(school_year_start(PEILDATUM) - 4, 8, 1)
    for case in synthetic_cases():
        assert first <= case.created_at.date() <= case.updated_at.date() <= PEILDATUM
        assert date.fromisoformat(case.data["ontvangen_op"]) == case.created_at.date()
    years = {school_year_start(c.created_at.date()) for c in synthetic_cases()}
    assert len(years) == 5


def test_audit_chains_are_valid_and_match_the_cases(generated):
    result = verify_chains()
    assert result.ok, result.first_bad
    assert result.checked == generated.audit_rows
    rows = db.session.execute(select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.to_state)
                              .order_by(AuditEvent.case_id, AuditEvent.seq)).all()
    per_case = Counter(r.case_id for r in rows)
    last_state = {r.case_id: r.to_state for r in rows}
    for case in synthetic_cases():
        assert case.version == per_case[case.id]
        assert last_state[case.id] == case.state
    first_events = set(db.session.scalars(select(AuditEvent.event).where(AuditEvent.seq == 1)))
    assert first_events == {"dien_in"}


def test_report_columns_are_the_case_data(generated):
    """The generator writes the report columns as every step does: copies of the data."""
    seen = Counter()
    for case in synthetic_cases():
        columns = {key: getattr(case, key) for key in REPORT_FACTS}
        assert columns == report_facts(case.data), case.reference
        seen.update(key for key, value in columns.items() if value is not None)
    assert set(seen) == set(REPORT_FACTS)


def test_due_dates_are_the_workflows_own(generated, app):
    for case in synthetic_cases():
        deadlines = get_workflow(case.type).deadlines(case, app.config)
        assert case.due_on == min((d for _, d in deadlines), default=None), case.reference
        assert case.is_open == (case.state not in get_workflow(case.type).terminal)


def test_letters_are_recorded_but_never_rendered_or_retried(generated, app):
    from casework.services.letters import sweep_letters

    letters = list(db.session.scalars(select(Letter)))
    assert len(letters) == generated.letters > N
    assert {lt.status for lt in letters} == {"failed"}
    assert min(lt.attempts for lt in letters) == SYNTHETIC_ATTEMPTS > app.config["LETTER_MAX_ATTEMPTS"]
    assert all(lt.context["synthetisch"] is True for lt in letters)
    assert db.session.scalar(select(func.count()).where(Letter.pdf.is_not(None))) == 0
    assert sweep_letters(older_than_seconds=0) == []
    # Every event produced at least one letter, as in the real workflows.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        ~select(Letter.id).where(Letter.case_id == AuditEvent.case_id,
                                 Letter.audit_seq == AuditEvent.seq).exists())) == 0


def test_the_real_workflow_and_policy_accept_the_data(generated, app):
    from casework import policy

    case = next(c for c in synthetic_cases() if c.state == "vrijgesteld")
    lpa = db.session.scalar(select(User).where(User.organisation_id == case.gemeente_id,
                                               User.role == "leerplichtambtenaar").limit(1))
    assert policy.can_see_case(lpa, case)
    assert db.session.scalar(select(func.count()).select_from(Case).where(
        Case.reference.like("SYN-%"), policy.case_scope(lpa))) > 10
    fire(case, "start_herbeoordeling", actor=lpa, data={})
    commit()
    assert case.state == "herbeoordeling"
    assert verify_chains().ok


def test_users_can_sign_in_with_the_demo_password(generated, client):
    email = db.session.scalar(select(User.email).where(User.email.like("leerplicht1.syn1-gm0001@%")))
    response = client.post("/api/v1/auth/token",
                           json={"email": email, "password": "demo", "otp": otp_code(email)})
    assert response.status_code == 200


def test_same_seed_same_data_other_seed_other_data(app_ctx):
    attempt = db.session.begin_nested()
    generate(60, 2, seed=11, peildatum=PEILDATUM, analyze=False)
    first = fingerprint()
    attempt.rollback()

    attempt = db.session.begin_nested()
    generate(60, 2, seed=11, peildatum=PEILDATUM, analyze=False)
    assert fingerprint() == first
    attempt.rollback()

    generate(60, 2, seed=12, peildatum=PEILDATUM, analyze=False)
    other = fingerprint()
    assert other[0] != first[0] and other[1] != first[1]


def test_a_second_run_adds_a_new_set_next_to_the_first(app_ctx):
    generate(30, 2, seed=1, peildatum=PEILDATUM, analyze=False)
    second = generate(30, 2, seed=1, peildatum=PEILDATUM, analyze=False)
    assert second.gemeente_codes == ["SYN2-GM0001", "SYN2-GM0002"]
    assert db.session.scalar(select(func.count()).select_from(Case)
                             .where(Case.reference.like("SYN-%"))) == 60
    assert verify_chains().ok


def test_refuses_a_database_with_real_cases_unless_forced(app, demo):
    real = make_case(demo, "in_behandeling")
    assert real_cases_present()
    with pytest.raises(RealDataPresent):
        generate(10, 2, seed=1, analyze=False)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1

    runner = app.test_cli_runner()
    result = runner.invoke(args=["generate", "--cases", "10"])
    assert result.exit_code == 1
    assert "echte zaken" in result.output and "--force" in result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1

    result = runner.invoke(args=["generate", "--cases", "10", "--gemeenten", "2", "--force"])
    assert result.exit_code == 0, result.output
    assert "10 zaken" in result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 11
    assert db.session.get(Case, real.id).state == "in_behandeling"
    assert verify_chains().ok


def test_cli(app, app_ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["generate", "--cases", "25", "--seed", "3", "--peildatum",
                                 "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert "25 van 25 zaken" in result.output and "SYN1-GM0001" in result.output
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["generate", "--cases", "5", "--peildatum", tomorrow])
    assert result.exit_code == 2 and "toekomst" in result.output
    assert runner.invoke(args=["generate", "--cases", "0"]).exit_code == 2
