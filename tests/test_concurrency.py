"""Two people acting on the same case at the same moment: one wins, the other gets a 409.

Each test builds its own database and really commits, with one session per thread (the way two
web requests run). SQLite always; PostgreSQL when CASEWORK_TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, Child, User
from casework.services.audit import verify_chains
from casework.services.cases import commit, fire, open_case
from casework.services.errors import Conflict, DomainError, InvalidTransition
from conftest import PG_URL, fresh_postgres_database_url
from factories import (
    CASE_TYPE, audit_rows, demo_namespace, dien_in_data, letters_of, make_case, own_app,
)

pytestmark = pytest.mark.no_transaction

BACKENDS = ["sqlite", "postgresql"]

# What each contender leaves behind when it wins.
OUTCOMES = {
    "neem_in_behandeling": ("in_behandeling", {"v5a_in_behandeling_ouder", "v5a_beoordelingsverzoek"}),
    "verklaar_niet_ontvankelijk": ("niet_ontvankelijk", {"v5a_niet_ontvankelijk"}),
}


@pytest.fixture(scope="module", params=BACKENDS)
def shared_app(request, tmp_path_factory):
    """One committed database per backend for this module; each test uses its own child."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
    url = fresh_postgres_database_url("casework_concurrency") if request.param == "postgresql" else None
    with own_app(tmp_path_factory.mktemp("concurrency"), url) as app:
        yield app


def _race(app, contenders: dict[str, callable]) -> dict[str, object]:
    """Run each contender in its own thread with its own session; they act after a barrier.

    A contender is (load, act): load reads what it needs, then its transaction ends (SQLite
    takes the write lock at BEGIN, so an open read would make the other thread wait before the
    barrier); act then works on what was loaded, like a request that got a form earlier.
    """
    barrier = threading.Barrier(len(contenders), timeout=30)
    results: dict[str, object] = {}

    def run(name, load, act):
        with app.app_context():
            try:
                loaded = load()
                db.session.commit()
                barrier.wait()
                act(*loaded)
                commit()
                results[name] = "ok"
            except DomainError as exc:
                db.session.rollback()
                results[name] = exc
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                results[name] = exc

    threads = [threading.Thread(target=run, args=(name, *pair)) for name, pair in contenders.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a contender hung"
    return results


@pytest.mark.parametrize("child_name", ["Sam", "Lotte", "Daan"])
def test_two_events_at_once_exactly_one_wins(shared_app, child_name):
    app = shared_app
    with app.app_context():
        demo = demo_namespace()
        child = db.session.scalar(select(Child).where(Child.voornaam == child_name))
        case = make_case(demo, "kennisgeving_ontvangen", child=child)
        case_id, lpa_id, arts_id = case.id, demo.lpa.id, demo.arts.id
        audit_before = len(audit_rows(case_id))
        letters_before = {x.id for x in letters_of(case_id)}

    def contender(event, data):
        def load():
            case = db.session.get(Case, case_id)
            return case, db.session.get(User, lpa_id), case.version

        def act(case, lpa, version):
            fire(case, event, actor=lpa, data=data, expected_version=version)

        return load, act

    results = _race(app, {
        "neem_in_behandeling": contender("neem_in_behandeling", {"deskundige_id": arts_id}),
        "verklaar_niet_ontvankelijk": contender("verklaar_niet_ontvankelijk", {"reden": "BSN ontbreekt."}),
    })

    winners = [name for name, result in results.items() if result == "ok"]
    assert len(winners) == 1, results
    [winner] = winners
    [loser] = [name for name in results if name != winner]
    assert isinstance(results[loser], (Conflict, InvalidTransition)), results[loser]
    assert results[loser].status == 409

    with app.app_context():
        case = db.session.get(Case, case_id)
        expected_state, expected_kinds = OUTCOMES[winner]
        assert case.state == expected_state
        rows = audit_rows(case_id)
        assert len(rows) == audit_before + 1
        assert (rows[-1].event, rows[-1].to_state) == (winner, expected_state)
        new_letters = [x for x in letters_of(case_id) if x.id not in letters_before]
        assert {x.kind for x in new_letters} == expected_kinds
        assert {x.audit_seq for x in new_letters} == {rows[-1].seq}
        assert verify_chains().ok


def test_double_submitted_kennisgeving_opens_one_case(shared_app):
    app = shared_app
    with app.app_context():
        demo = demo_namespace()
        ouder_id, child_id = demo.ouder2.id, demo.noor.id

    def contender():
        def load():
            return (db.session.get(User, ouder_id),)

        def act(ouder):
            open_case(ouder, CASE_TYPE, dien_in_data(db.session.get(Child, child_id)))

        return load, act

    results = _race(app, {"eerste": contender(), "tweede": contender()})

    outcomes = sorted(r if r == "ok" else type(r).__name__ for r in results.values())
    assert outcomes == ["Conflict", "ok"], results
    with app.app_context():
        cases = list(db.session.scalars(select(Case).where(Case.child_id == child_id)))
        assert len(cases) == 1
        assert len(audit_rows(cases[0].id)) == 1
        assert len(letters_of(cases[0].id)) == 1
