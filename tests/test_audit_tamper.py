"""Tampering with the audit trail is refused by the database or named by `audit verify`.

The attacker can write to the database (as the app role, and for the harder cases as the owner
role or with the SQLite file in hand, past the triggers) but does not hold the audit key. Each
tampering test works on its own copy of a committed database (SQLite: a copy of the file;
PostgreSQL: CREATE DATABASE … TEMPLATE), so it can really commit and break things.
"""
from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from casework import create_app
from casework.extensions import db, queue
from casework.models import AuditEvent
from casework.services.audit import (
    GENESIS, canonical, digest, payload_digest, row_hash, verify_chains,
)
from casework.workflows.vrijstelling import WORKFLOW
from config import TestConfig
from conftest import PG_APP_ROLE, PG_URL, database_settings, fresh_postgres_database_url
from factories import MEDISCHE_NOTITIE, audit_rows, demo_namespace, event_data, make_case, own_app

BACKENDS = ["sqlite", "postgresql"]


# ------------------------------------------------------------------ the database refuses

def test_insert_or_replace_is_refused_by_a_trigger_on_sqlite(app, demo):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    case = make_case(demo, "in_behandeling")
    first = audit_rows(case.id)[0]
    before = [(r.seq, r.event, r.hash) for r in audit_rows(case.id)]
    for where in ("id", "case_seq"):
        with pytest.raises(DBAPIError) as excinfo:
            with db.session.begin_nested():
                db.session.execute(text(
                    "INSERT OR REPLACE INTO audit_events (id, case_id, seq, event, from_state, to_state, "
                    "actor_id, actor_role, at, payload_digest, prev_hash, hash) SELECT "
                    + ("id" if where == "id" else "NULL") +
                    ", case_id, seq, 'vervalst', from_state, to_state, actor_id, actor_role, at, "
                    "payload_digest, prev_hash, hash FROM audit_events WHERE id = :id"), {"id": first.id})
        assert "append-only" in str(excinfo.value)
    with pytest.raises(DBAPIError) as excinfo:
        with db.session.begin_nested():
            db.session.execute(text("INSERT OR REPLACE INTO audit_seals SELECT * FROM audit_seals "
                                    "WHERE case_id = :id"), {"id": case.id})
    assert "append-only" in str(excinfo.value)
    db.session.expire_all()
    assert [(r.seq, r.event, r.hash) for r in audit_rows(case.id)] == before
    assert verify_chains().ok


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET event = 'vervalst' WHERE case_id = :case_id",
    "DELETE FROM audit_events WHERE case_id = :case_id",
    "TRUNCATE audit_events CASCADE",
    "INSERT INTO audit_events SELECT * FROM audit_events WHERE case_id = :case_id "
    "ON CONFLICT (id) DO UPDATE SET event = 'vervalst'",
    "UPDATE audit_seals SET n_rows = 1 WHERE case_id = :case_id",
    "DELETE FROM audit_seals WHERE case_id = :case_id",
    "TRUNCATE audit_seals",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "DROP TABLE audit_seals",
])
def test_the_app_role_cannot_change_or_remove_audit_rows_on_postgresql(app, demo, statement):
    if db.engine.dialect.name != "postgresql" or not PG_APP_ROLE:
        pytest.skip("PostgreSQL with the two-role set-up (CASEWORK_TEST_APP_ROLE)")
    case = make_case(demo, "in_behandeling")
    assert db.session.scalar(text("SELECT current_user")) == PG_APP_ROLE
    with pytest.raises(DBAPIError) as excinfo:
        with db.session.begin_nested():
            db.session.execute(text(statement), {"case_id": case.id})
    message = str(excinfo.value)
    # No right to it at all; only a seal may be updated, and then never to fewer rows.
    assert "permission denied" in message or "must be owner" in message or (
        "audit_seals is append-only: UPDATE refused" in message and statement.startswith("UPDATE"))
    assert verify_chains().ok


def test_changing_a_case_state_without_an_audit_row_is_named(app, demo):
    case = make_case(demo, "in_behandeling")
    db.session.execute(text("UPDATE cases SET state = 'vrijgesteld' WHERE id = :id"), {"id": case.id})
    db.session.expire_all()
    result = verify_chains()
    assert result.ok is False
    assert result.first_bad == {"case_id": case.id, "seq": 2}
    assert "'vrijgesteld'" in result.problem and "'in_behandeling'" in result.problem
    assert result.reference == case.reference


def test_production_refuses_to_start_without_its_own_audit_key(monkeypatch):
    from config import load_config

    monkeypatch.setenv("CASEWORK_SECRET_KEY", "s" * 48)
    for bad in (None, "kort", "x" * 20, "s" * 48):  # missing, too short, the secret key itself
        if bad is None:
            monkeypatch.delenv("CASEWORK_AUDIT_KEY", raising=False)
        else:
            monkeypatch.setenv("CASEWORK_AUDIT_KEY", bad)
        with pytest.raises(RuntimeError, match="CASEWORK_AUDIT_KEY"):
            load_config("production")
    monkeypatch.setenv("CASEWORK_AUDIT_KEY", "a" * 48)
    monkeypatch.setenv("CASEWORK_AUDIT_KEYS_OLD", "k0:" + "b" * 40)
    cfg = load_config("production")
    from casework.services.audit import audit_keys

    assert audit_keys(cfg) == ("k1", {"k1": "a" * 48, "k0": "b" * 40})
    monkeypatch.setenv("CASEWORK_AUDIT_KEYS_OLD", "zonder-dubbele-punt")
    with pytest.raises(RuntimeError, match="CASEWORK_AUDIT_KEYS_OLD"):
        load_config("production")


# ------------------------------------------------------------------ the medical note stays hidden

NOTES = [
    "Medisch geheim: diagnose autisme, behandeling loopt.",
    "Medisch geheim: diagnose ADHD, behandeling loopt.",
    "Medisch geheim: diagnose gegeneraliseerde angststoornis, behandeling afgerond.",
    MEDISCHE_NOTITIE,
    "Medisch geheim: diagnose depressie, behandeling loopt.",
]


def test_the_medical_note_cannot_be_found_from_the_payload_digest(demo):
    """An LPA or beheerder sees the digest (case history, API); trying notes must not find it."""
    case = make_case(demo, "advies_uitgebracht")
    data = event_data(demo, case, "geef_verklaring")
    assert data["medische_notitie"] == MEDISCHE_NOTITIE
    from casework.services.cases import commit, fire

    fire(case, "geef_verklaring", actor=demo.arts, data=data)
    commit()
    stored = audit_rows(case.id)[-1]
    assert stored.event == "geef_verklaring"
    payload = WORKFLOW.events["geef_verklaring"].payload.model_validate(data).model_dump(mode="json")

    def candidates():
        for note in NOTES:
            yield {**payload, "medische_notitie": note}

    # Without the key: no recipe finds the note (plain sha256 of the canonical payload would).
    recipes = (digest, lambda p: digest(canonical(p)),
               lambda p: __import__("hashlib").sha256(canonical(p).encode()).hexdigest())
    assert not [c for c in candidates() for recipe in recipes if recipe(c) == stored.payload_digest]
    # With the key the digest is the payload's: the dictionary did hold the right note.
    assert [c["medische_notitie"] for c in candidates()
            if payload_digest(c) == stored.payload_digest] == [MEDISCHE_NOTITIE]


# ------------------------------------------------------------------ tampering past the triggers

@pytest.fixture(scope="module", params=BACKENDS)
def committed(request, tmp_path_factory):
    """A committed database with two cases, to copy for each test: (backend, url, case ids)."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
    tmp = tmp_path_factory.mktemp("tamper")
    if request.param == "postgresql":
        url = fresh_postgres_database_url("tamper_template")
    else:
        url = f"sqlite:///{tmp}/template.db"
    with own_app(tmp, url) as app:
        with app.app_context():
            demo = demo_namespace()
            one = make_case(demo, "vrijgesteld")
            two = make_case(demo, "in_behandeling", child=demo.lotte)
            ids = (one.id, two.id)
            db.session.commit()
            assert verify_chains().ok
    return request.param, url, ids


@contextmanager
def copied(committed, tmp_path):
    """(app, owner engine) on a fresh copy of the committed database: `committed` is
    (backend, url, ...) of a database made by a module-scoped fixture and named *_template on
    PostgreSQL."""
    backend, url = committed[:2]
    if backend == "sqlite":
        path = tmp_path / "copy.db"
        shutil.copy(make_url(url).database, path)
        copy_url = f"sqlite:///{path}"
    else:
        template = make_url(url).database
        name = template.replace("_template", "_copy")
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        copy_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    owner = create_engine(copy_url)
    saved = (queue.huey.storage, queue.huey.immediate, queue.app)
    cfg = TestConfig.from_env()
    cfg.update(**database_settings(copy_url), QUEUE_BACKEND="memory")
    app = create_app(cfg)  # the copy is migrated and holds the demo data already
    try:
        yield app, owner
    finally:
        db.state(app).engine.dispose()
        owner.dispose()
        queue.huey.storage, queue.huey.immediate, queue.app = saved


def _past_the_guards(conn) -> None:
    """What someone with the owner role (PostgreSQL) or the file (SQLite) can do."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE audit_seals DISABLE TRIGGER USER"))
    else:
        for name in ("audit_events_no_update", "audit_events_no_delete", "audit_events_no_replace",
                     "audit_seals_no_delete", "audit_seals_no_replace", "audit_seals_no_shrink"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def _verify(app):
    with app.app_context():
        db.session.expire_all()
        result = verify_chains()
        cli = app.test_cli_runner().invoke(args=["audit", "verify"])
        refused = app.test_cli_runner().invoke(args=["audit", "reseal"])  # never over a break
    assert result.ok is False
    assert cli.exit_code == 1, cli.output
    assert refused.exit_code == 1 and "Niet opnieuw verzegeld" in refused.output
    assert "Audit trail gebroken" in cli.output and result.problem in cli.output
    return result


def _rows(conn, case_id: int) -> list:
    return list(conn.execute(text("SELECT * FROM audit_events WHERE case_id = :c ORDER BY seq"),
                             {"c": case_id}).mappings())


def _delete_last_row(conn, case_id: int):
    """Remove a case's last step as a careful intruder would: its letters, its audit row, and the
    case back in the state before it. Returns the removed row."""
    last = _rows(conn, case_id)[-1]
    conn.execute(text("DELETE FROM letters WHERE case_id = :c AND audit_seq = :s"),
                 {"c": case_id, "s": last["seq"]})
    conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last["id"]})
    conn.execute(text("UPDATE cases SET state = :s WHERE id = :c"),
                 {"s": last["from_state"], "c": case_id})
    return last


def _rehash(conn, case_id: int, change: dict, *, drop_macs: bool = False) -> None:
    """Rewrite a chain with the public sha256 recipe, every link correct, but without the key."""
    prev = GENESIS
    for row in _rows(conn, case_id):
        values = {k: row[k] for k in ("case_id", "seq", "event", "from_state", "to_state", "actor_id",
                                      "actor_role", "at", "payload_digest", "details")}
        if isinstance(values["at"], str):  # SQLite hands raw SQL text back
            values["at"] = datetime.fromisoformat(values["at"])
        if isinstance(values["details"], str):
            values["details"] = json.loads(values["details"])
        if row["seq"] == 2:
            values.update(change)
        values["prev_hash"] = prev
        new_hash = row_hash(AuditEvent(**values))
        conn.execute(text(
            "UPDATE audit_events SET event = :event, actor_role = :actor_role, prev_hash = :prev, "
            "hash = :hash" + (", key_id = NULL, mac = NULL" if drop_macs else "") + " WHERE id = :id"),
            {"event": values["event"], "actor_role": values["actor_role"], "prev": prev,
             "hash": new_hash, "id": row["id"]})
        prev = new_hash


@pytest.mark.no_transaction
def test_an_untouched_copy_verifies(committed, tmp_path):
    with copied(committed, tmp_path) as (app, _owner):
        with app.app_context():
            assert verify_chains().ok
            cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 0 and "in orde" in cli.output


@pytest.mark.no_transaction
@pytest.mark.parametrize("drop_macs", [False, True])
def test_a_rehashed_chain_is_named(committed, tmp_path, drop_macs):
    case_id = committed[2][0]
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            _rehash(conn, case_id, {"actor_role": "beheerder"}, drop_macs=drop_macs)
        result = _verify(app)
    if drop_macs:  # the rows look old (no MAC), but the case seal holds the real last hash
        assert result.first_bad["case_id"] == case_id
        assert "opnieuw berekend" in result.problem
    else:
        assert result.first_bad == {"case_id": case_id, "seq": 2}
        assert "sleutelzegel" in result.problem


@pytest.mark.no_transaction
def test_a_deleted_last_row_is_named(committed, tmp_path):
    case_id = committed[2][0]
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            last = _delete_last_row(conn, case_id)
        result = _verify(app)
    assert result.first_bad == {"case_id": case_id, "seq": last["seq"]}
    assert "verwijderd" in result.problem


@pytest.mark.no_transaction
def test_a_deleted_last_row_with_the_old_seal_put_back_is_found(committed, tmp_path):
    """The attacker kept the case seal from before the last step and puts it back."""
    case_id = committed[2][0]
    with copied(committed, tmp_path) as (app, owner):
        with app.app_context():
            demo = demo_namespace()
            from casework.models import Case
            from casework.services.cases import commit, fire

            case = db.session.get(Case, case_id)
            old_seal = dict(db.session.execute(text("SELECT * FROM audit_seals WHERE case_id = :c"),
                                               {"c": case_id}).mappings().one())
            fire(case, "start_herbeoordeling", actor=demo.lpa, data={})
            commit()
            assert verify_chains().ok
        with owner.begin() as conn:
            _past_the_guards(conn)
            _delete_last_row(conn, case_id)
            conn.execute(text("UPDATE audit_seals SET n_rows = :n_rows, head = :head, mac = :mac "
                              "WHERE case_id = :case_id"), old_seal)
        result = _verify(app)
    assert result.first_bad == {"case_id": 0, "seq": 0}
    assert "oude verzegeling van een zaak is teruggezet" in result.problem


@pytest.mark.no_transaction
@pytest.mark.parametrize("with_seal", [False, True])
def test_a_deleted_chain_is_named(committed, tmp_path, with_seal):
    case_id = committed[2][1]
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            conn.execute(text("DELETE FROM letters WHERE case_id = :c"), {"c": case_id})
            conn.execute(text("DELETE FROM audit_events WHERE case_id = :c"), {"c": case_id})
            if with_seal:
                conn.execute(text("DELETE FROM audit_seals WHERE case_id = :c"), {"c": case_id})
        result = _verify(app)
    assert result.first_bad["case_id"] == case_id
    assert ("geen auditregels" if with_seal else "alle regels zijn verwijderd") in result.problem


def _delete_case(conn, case_id: int) -> None:
    for table in inspect(conn).get_table_names():
        for fk in inspect(conn).get_foreign_keys(table):
            if fk["referred_table"] == "cases" and table != "cases":
                column = fk["constrained_columns"][0]
                conn.execute(text(f"DELETE FROM {table} WHERE {column} = :c"), {"c": case_id})
    conn.execute(text("DELETE FROM cases WHERE id = :c"), {"c": case_id})


@pytest.mark.no_transaction
@pytest.mark.parametrize("with_seal", [False, True])
def test_a_deleted_case_with_its_chain_is_found(committed, tmp_path, with_seal):
    case_id = committed[2][1]
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            _delete_case(conn, case_id)
            if with_seal:
                conn.execute(text("DELETE FROM audit_seals WHERE case_id = :c"), {"c": case_id})
        result = _verify(app)
    if with_seal:  # nothing of the case is left; the seal over all chains misses it
        assert result.first_bad == {"case_id": 0, "seq": 0}
        assert "een zaak met haar keten is verwijderd" in result.problem
    else:
        assert result.first_bad == {"case_id": case_id, "seq": 0}
        assert "de zaak is verwijderd" in result.problem


@pytest.mark.no_transaction
def test_a_forged_seal_is_named(committed, tmp_path):
    """Someone who knows the recipe but not the key seals a shortened chain anew."""
    import hashlib
    import hmac

    case_id = committed[2][0]
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            last = _delete_last_row(conn, case_id)
            guess = hmac.new(b"gok", f"case|{case_id}|{last['seq'] - 1}|{last['prev_hash']}".encode(),
                             hashlib.sha256).hexdigest()
            conn.execute(text("UPDATE audit_seals SET n_rows = n_rows - 1, head = :h, mac = :m "
                              "WHERE case_id = :c"), {"h": last["prev_hash"], "m": guess, "c": case_id})
        result = _verify(app)
    assert result.first_bad == {"case_id": case_id, "seq": 0}
    assert "verzegeling van de keten klopt niet" in result.problem


@pytest.mark.no_transaction
def test_old_keys_keep_verifying_after_a_rotation(committed, tmp_path):
    """A new key for new rows; the old one, under its id in AUDIT_KEYS_OLD, still verifies."""
    from config import TestConfig

    case_id = committed[2][1]
    with copied(committed, tmp_path) as (app, _owner):
        old_key = app.config["AUDIT_KEY"]
        app.config.update(AUDIT_KEY="nieuwe-sleutel-" + "x" * 32, AUDIT_KEY_ID="k2",
                          AUDIT_KEYS_OLD=f"{TestConfig.AUDIT_KEY_ID}:{old_key}")
        with app.app_context():
            demo = demo_namespace()
            from casework.models import Case
            from casework.services.cases import commit, fire

            case = db.session.get(Case, case_id)
            fire(case, "vraag_advies", actor=demo.arts, data=event_data(demo, case, "vraag_advies"))
            commit()
            assert [r.key_id for r in audit_rows(case_id)][-1] == "k2"
            assert verify_chains().ok
            app.config["AUDIT_KEYS_OLD"] = None  # without the old key: named, not passed
            result = verify_chains()
            assert result.ok is False and "onbekende sleutel" in result.problem
            # Reseal: every seal under the new key; the old key still verifies the old rows.
            app.config["AUDIT_KEYS_OLD"] = f"{TestConfig.AUDIT_KEY_ID}:{old_key}"
            out = app.test_cli_runner().invoke(args=["audit", "reseal"])
            assert out.exit_code == 0, out.output
            assert set(db.session.scalars(text("SELECT DISTINCT key_id FROM audit_seals"))) == {"k2"}
            assert verify_chains().ok


# ------------------------------------------------------------------ chains from before the seals

@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", BACKENDS)
def test_chains_from_before_the_seals_are_sealed_on_upgrade_and_keep_verifying(tmp_path, backend):
    """Rows written before the keyed scheme (plain digests, no MAC) are sealed by the migration:
    they verify afterwards, and re-hashing them is found all the same."""
    from types import SimpleNamespace

    from casework.cli import upgrade_database

    if backend == "postgresql":
        if not PG_URL:
            pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
        url = fresh_postgres_database_url("tamper_legacy")
    else:
        url = f"sqlite:///{tmp_path}/legacy.db"
    saved = (queue.huey.storage, queue.huey.immediate, queue.app)
    cfg = TestConfig.from_env()
    cfg.update(**database_settings(url), QUEUE_BACKEND="memory")
    app = create_app(cfg)
    owner = create_engine(url)
    try:
        with app.app_context():
            upgrade_database("7b2e1d3f5a82")  # the revision before the seals
        with owner.begin() as conn:
            conn.execute(text("INSERT INTO organisations (kind, naam, adres, postcode_plaats, telefoon, "
                              "email) VALUES ('gemeente', 'G', '', '', '', '')"))
            gemeente = conn.execute(text("SELECT id FROM organisations")).scalar()
            conn.execute(text("INSERT INTO children (bsn, voornaam, achternaam, geboortedatum, geslacht, "
                              "adres, postcode_plaats, gemeente_id) VALUES ('1', 'A', 'B', '2012-01-01', "
                              "'X', '', '', :g)"), {"g": gemeente})
            child = conn.execute(text("SELECT id FROM children")).scalar()
            conn.execute(text("INSERT INTO cases (type, reference, state, version, is_open, child_id, "
                              "gemeente_id, created_at, updated_at, data) VALUES ('vrijstelling_5a', "
                              "'V-1', 'in_behandeling', 2, :t, :c, :g, '2025-01-01', '2025-01-01', "
                              + ("CAST('{}' AS jsonb)" if backend == "postgresql" else "'{}'") + ")"),
                         {"c": child, "g": gemeente, "t": True})
            case_id = conn.execute(text("SELECT id FROM cases")).scalar()
            prev = GENESIS
            for seq, (event, src, dst) in enumerate([("dien_in", None, "kennisgeving_ontvangen"),
                                                     ("neem_in_behandeling", "kennisgeving_ontvangen",
                                                      "in_behandeling")], start=1):
                row = SimpleNamespace(case_id=case_id, seq=seq, event=event, from_state=src,
                                      to_state=dst, actor_id=None, actor_role="systeem",
                                      at=datetime(2025, 1, seq), payload_digest=digest({"n": seq}),
                                      prev_hash=prev, details=None)
                row.hash = row_hash(row)
                conn.execute(text(
                    "INSERT INTO audit_events (case_id, seq, event, from_state, to_state, actor_id, "
                    "actor_role, at, payload_digest, prev_hash, hash) VALUES (:case_id, :seq, :event, "
                    ":from_state, :to_state, :actor_id, :actor_role, :at, :payload_digest, :prev_hash, "
                    ":hash)"), vars(row))
                prev = row.hash
        with app.app_context():
            upgrade_database()
            assert verify_chains().ok
        with owner.begin() as conn:
            _past_the_guards(conn)
            _rehash(conn, case_id, {"actor_role": "beheerder"})
        with app.app_context():
            result = verify_chains()
        assert result.ok is False
        assert result.first_bad == {"case_id": case_id, "seq": 2}
        assert "opnieuw berekend" in result.problem
    finally:
        db.state(app).engine.dispose()
        owner.dispose()
        queue.huey.storage, queue.huey.immediate, queue.app = saved
