"""The audit trail: one hash-chained row per transition, append-only in the database itself."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from casework.extensions import db, queue
from casework.models import Case, utcnow
from casework.services import cases as case_service
from casework.services.audit import GENESIS, digest, payload_digest, row_hash, verify_chains
from casework.services.cases import commit, fire
from casework.services.errors import ValidationFailed
from conftest import PG_URL, fresh_postgres_database_url
from factories import (
    audit_count, audit_rows, demo_namespace, event_actor, event_data, letter_count, make_case,
    stored_case,
)


def _insert_row(case_id: int, seq: int, prev_hash: str, hash_: str | None = None, **values) -> None:
    """A row written straight into the table, past the service: what a forger would do."""
    row = {"case_id": case_id, "seq": seq, "event": "beeindig", "from_state": "vrijgesteld",
           "to_state": "beeindigd", "actor_id": None, "actor_role": "systeem", "at": utcnow(),
           "payload_digest": digest({"reden": "verlopen"}), "prev_hash": prev_hash, **values}
    if hash_ is None:  # a forger who knows the recipe computes a matching hash for the row itself
        from casework.models import AuditEvent

        hash_ = row_hash(AuditEvent(**row))
    db.session.execute(text(
        "INSERT INTO audit_events (case_id, seq, event, from_state, to_state, actor_id, actor_role, at, "
        "payload_digest, prev_hash, hash) VALUES (:case_id, :seq, :event, :from_state, :to_state, "
        ":actor_id, :actor_role, :at, :payload_digest, :prev_hash, :hash)"), {**row, "hash": hash_})


# ------------------------------------------------------------------ the chain

def test_one_row_per_transition_with_a_linked_chain(demo):
    started = utcnow() - timedelta(seconds=5)
    case = make_case(demo, "herbeoordeling")
    rows = audit_rows(case.id)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [(r.event, r.from_state, r.to_state, r.actor_id, r.actor_role) for r in rows] == [
        ("dien_in", None, "kennisgeving_ontvangen", demo.ouder1.id, "ouder"),
        ("neem_in_behandeling", "kennisgeving_ontvangen", "in_behandeling", demo.lpa.id,
         "leerplichtambtenaar"),
        ("vraag_advies", "in_behandeling", "advies_gevraagd", demo.arts.id, "jeugdarts"),
        ("breng_advies_uit", "advies_gevraagd", "advies_uitgebracht", demo.swv.id, "swv_adviseur"),
        ("geef_verklaring", "advies_uitgebracht", "vrijgesteld", demo.arts.id, "jeugdarts"),
        ("start_herbeoordeling", "vrijgesteld", "herbeoordeling", demo.lpa.id, "leerplichtambtenaar"),
    ]
    assert rows[0].prev_hash == GENESIS
    for previous, row in zip(rows, rows[1:]):
        assert row.prev_hash == previous.hash
    for row in rows:
        assert row.hash == row_hash(row) and len(row.hash) == 64
        assert started <= row.at <= utcnow()  # naive UTC
    assert [r.at for r in rows] == sorted(r.at for r in rows)
    result = verify_chains()
    assert (result.ok, result.first_bad) == (True, None)
    assert result.checked >= 6


def test_payload_digest_covers_the_payload(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    fire(case, "verklaar_niet_ontvankelijk", actor=demo.lpa, data={"reden": "  BSN ontbreekt.  "})
    commit()
    # Keyed (HMAC with the audit key): nobody can test a guessed payload against it.
    assert audit_rows(case.id)[-1].payload_digest == payload_digest({"reden": "BSN ontbreekt."})
    assert audit_rows(case.id)[-1].payload_digest != digest({"reden": "BSN ontbreekt."})


def test_chains_are_per_case(demo):
    one = make_case(demo, "in_behandeling")
    two = make_case(demo, "kennisgeving_ontvangen", child=demo.lotte)
    assert [r.seq for r in audit_rows(one.id)] == [1, 2]
    assert [r.seq for r in audit_rows(two.id)] == [1]
    assert audit_rows(two.id)[0].prev_hash == GENESIS
    assert verify_chains().ok



@pytest.mark.parametrize(("field", "other"), [
    ("case_id", 999999), ("seq", 99), ("event", "trek_in"), ("from_state", "niet_ontvankelijk"),
    ("to_state", "ingetrokken"), ("actor_id", 999999), ("actor_role", "beheerder"),
    ("at", utcnow() + timedelta(days=1)), ("payload_digest", "a" * 64), ("prev_hash", "b" * 64),
])
def test_row_hash_covers_every_field(demo, field, other):
    """domain.md: the hash is over case, seq, event, states, actor, time, payload digest and prev hash."""
    from casework.models import AuditEvent

    case = make_case(demo, "in_behandeling")
    row = audit_rows(case.id)[-1]
    columns = ("case_id", "seq", "event", "from_state", "to_state", "actor_id", "actor_role", "at",
               "payload_digest", "prev_hash")
    copy = AuditEvent(**{c: getattr(row, c) for c in columns})
    assert row_hash(copy) == row.hash
    setattr(copy, field, other)
    assert row_hash(copy) != row.hash

# ------------------------------------------------------------------ the database refuses changes

@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET event = 'vervalst' WHERE case_id = :case_id",
    "UPDATE audit_events SET hash = prev_hash WHERE case_id = :case_id AND seq = 1",
    "DELETE FROM audit_events WHERE case_id = :case_id",
])
def test_update_and_delete_are_refused_by_the_database(demo, statement):
    case = make_case(demo, "in_behandeling")
    before = [(r.seq, r.event, r.hash) for r in audit_rows(case.id)]
    with pytest.raises(DBAPIError) as excinfo:
        with db.session.begin_nested():
            db.session.execute(text(statement), {"case_id": case.id})
    # The triggers say append-only; on PostgreSQL the app role has no UPDATE/DELETE right at all.
    assert "append-only" in str(excinfo.value) or "permission denied" in str(excinfo.value)
    db.session.expire_all()
    assert [(r.seq, r.event, r.hash) for r in audit_rows(case.id)] == before
    assert verify_chains().ok


@pytest.mark.skipif(not PG_URL, reason="TRUNCATE trigger exists on PostgreSQL only (SQLite has no TRUNCATE)")
def test_truncate_is_refused_on_postgresql(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    with pytest.raises(DBAPIError) as excinfo:
        with db.session.begin_nested():
            db.session.execute(text("TRUNCATE audit_events CASCADE"))
    assert "append-only" in str(excinfo.value) or "permission denied" in str(excinfo.value)
    assert audit_count(case.id) == 1


# ------------------------------------------------------------------ forgery is detected

def test_forged_row_with_a_wrong_hash_is_named(demo):
    case = make_case(demo, "vrijgesteld")
    rows = audit_rows(case.id)
    _insert_row(case.id, len(rows) + 1, rows[-1].hash, hash_="f" * 64)
    result = verify_chains()
    assert result.ok is False
    assert result.first_bad == {"case_id": case.id, "seq": len(rows) + 1}


def test_forged_row_with_its_own_hash_but_a_broken_link_is_named(demo):
    case = make_case(demo, "vrijgesteld")
    rows = audit_rows(case.id)
    _insert_row(case.id, len(rows) + 1, prev_hash=GENESIS)  # self-consistent, not linked
    assert verify_chains().first_bad == {"case_id": case.id, "seq": len(rows) + 1}


def test_gap_in_the_sequence_is_named(demo):
    case = make_case(demo, "vrijgesteld")
    rows = audit_rows(case.id)
    _insert_row(case.id, len(rows) + 2, prev_hash=rows[-1].hash)  # linked, but seq skips one
    assert verify_chains().first_bad == {"case_id": case.id, "seq": len(rows) + 2}


def test_verify_names_the_first_broken_row_of_the_first_broken_case(demo):
    good = make_case(demo, "in_behandeling")
    bad = make_case(demo, "vrijgesteld", child=demo.lotte)
    _insert_row(bad.id, 6, audit_rows(bad.id)[-1].hash, hash_="0" * 64)
    _insert_row(bad.id, 7, "0" * 64, hash_="1" * 64)
    result = verify_chains()
    assert result.first_bad == {"case_id": bad.id, "seq": 6}
    assert verify_chains().checked > len(audit_rows(good.id))


def test_cli_audit_verify_ok(app, demo):
    make_case(demo, "vrijgesteld")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "in orde" in result.output


@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_cli_audit_verify_names_the_first_broken_row(tmp_path, backend):
    if backend == "postgresql" and not PG_URL:
        pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
    from factories import own_app

    url = fresh_postgres_database_url("casework_audit_cli") if backend == "postgresql" else None
    with own_app(tmp_path, url) as app:
        with app.app_context():
            demo = demo_namespace()
            case = make_case(demo, "vrijgesteld")
            case_id, last = case.id, audit_rows(case.id)[-1]
            ok = app.test_cli_runner().invoke(args=["audit", "verify"])
            assert ok.exit_code == 0, ok.output
            _insert_row(case_id, last.seq + 1, last.hash, hash_="e" * 64)
            _insert_row(case_id, last.seq + 2, "e" * 64)
            db.session.commit()
        with app.app_context():
            broken = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert broken.exit_code == 1, broken.output
    assert f"zaak {case_id}, regel {last.seq + 1}" in broken.output


# ------------------------------------------------------------------ atomicity

def test_failed_guard_writes_no_audit_row_and_no_letter(demo):
    case = make_case(demo, "advies_uitgebracht")
    before = (stored_case(case.id), audit_count(case.id), letter_count(case.id))
    with pytest.raises(ValidationFailed):
        fire(case, "geef_verklaring", actor=demo.arts,
             data={**event_data(demo, case, "geef_verklaring"), "niet_behandelend_arts": False})
    commit()  # even committing what the session holds writes nothing
    assert (stored_case(case.id), audit_count(case.id), letter_count(case.id)) == before
    assert case.state == "advies_uitgebracht"


def test_failed_letter_recording_leaves_nothing_behind(demo, monkeypatch):
    case = make_case(demo, "kennisgeving_ontvangen")
    before = (stored_case(case.id), audit_count(case.id), letter_count(case.id))
    queued = queue.huey.pending_count()

    def broken(*args, **kwargs):
        raise RuntimeError("briefopslag onbereikbaar")

    monkeypatch.setattr(case_service, "record_letters", broken)
    with pytest.raises(RuntimeError):
        fire(case, "neem_in_behandeling", actor=demo.lpa, data=event_data(demo, case, "neem_in_behandeling"))
    db.session.rollback()  # the request boundary on an error
    assert (stored_case(case.id), audit_count(case.id), letter_count(case.id)) == before
    assert db.session.get(Case, case.id).state == "kennisgeving_ontvangen"
    assert db.session.get(Case, case.id).deskundige_id is None
    assert queue.huey.pending_count() == queued
    assert verify_chains().ok

    # Nothing was half-done: the same event succeeds once letters can be recorded again.
    monkeypatch.undo()
    case = db.session.get(Case, case.id)
    fire(case, "neem_in_behandeling", actor=event_actor(demo, case, "neem_in_behandeling"),
         data=event_data(demo, case, "neem_in_behandeling"))
    commit()
    assert [r.seq for r in audit_rows(case.id)] == [1, 2]
    assert letter_count(case.id) == before[2] + 2
    assert verify_chains().ok

