"""Tampering with the access log is refused by the database or named by `access-log verify`.

Every row has a MAC over its content (written with the row, no lock); the sealing step chains
closed batches (services/access_log.py); `access-log prune` deletes whole sealed batches past
the retention and says so in the chain. The attacker can write to the database (the app role,
and for the harder cases the owner role or the SQLite file, past the triggers) but does not
hold the audit key. Each tampering test works on its own copy of a committed database.
"""
from __future__ import annotations

import timeit
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from casework import create_app
from casework.extensions import db, queue
from casework.models import utcnow
from casework.services import access_log
from casework.services.access_log import seal_pending, verify
from casework.services.audit import log_access, with_access_mac
from config import TestConfig
from conftest import PG_APP_ROLE, PG_URL, database_settings, fresh_postgres_database_url
from factories import demo_namespace, make_case, own_app
from test_audit_tamper import copied

BACKENDS = ["sqlite", "postgresql"]
LATER = timedelta(minutes=2)  # past the settle time: every row so far is closed


def _log_reads(demo, case, n: int) -> None:
    for i in range(n):
        log_access(demo.lpa, case.id, "identiteit" if i % 2 else "advies", "web")


# ------------------------------------------------------------------ the database refuses

@pytest.mark.parametrize("statement", [
    "UPDATE access_log SET what = 'niets'",
    "DELETE FROM access_log",
    "UPDATE access_log_seals SET n_rows = 0",
    "DELETE FROM access_log_seals",
])
def test_the_log_and_its_seals_refuse_update_and_delete(app, demo, statement):
    """SQLite: the triggers; PostgreSQL: the app role has only SELECT and INSERT (and the
    triggers refuse it to the owner as well)."""
    case = make_case(demo)
    _log_reads(demo, case, 3)
    assert seal_pending(db.session, app.config, now=utcnow() + LATER)[0] >= 1
    with pytest.raises(DBAPIError) as excinfo:
        with db.session.begin_nested():
            db.session.execute(text(statement))
    message = str(excinfo.value)
    assert "append-only" in message or "permission denied" in message
    if db.engine.dialect.name == "postgresql" and PG_APP_ROLE:
        assert db.session.scalar(text("SELECT current_user")) == PG_APP_ROLE
        assert "permission denied" in message
    assert verify(db.session, app.config).ok


def test_a_row_is_sealed_once_it_has_settled_and_a_recent_row_is_fine(app, demo):
    case = make_case(demo)
    _log_reads(demo, case, 4)
    now = utcnow()
    assert seal_pending(db.session, app.config, now=now) == (0, 0)  # all within the settle time
    result = verify(db.session, app.config, now=now)
    assert result.ok, result.problem
    made, sealed = seal_pending(db.session, app.config, now=now + LATER)
    assert made == 1 and sealed >= 4
    log_access(demo.lpa, case.id, "identiteit", "web")  # new, not sealed yet: fine
    result = verify(db.session, app.config, now=now + LATER)
    assert result.ok, result.problem
    top = db.session.scalar(text("SELECT max(id) FROM access_log"))
    assert result.sealed_to == top - 1
    # Left unsealed for longer than ACCESS_LOG_SEAL_LATE_MINUTES: named.
    result = verify(db.session, app.config, now=now + timedelta(minutes=61))
    assert result.ok is False and f"regel {top}" in result.problem and "niet verzegeld" in result.problem


def test_two_sealers_at_once_cannot_fork_the_chain(app, demo):
    case = make_case(demo)
    _log_reads(demo, case, 2)
    head = access_log._head(db.session)
    seal_pending(db.session, app.config, now=utcnow() + LATER)
    log_access(demo.lpa, case.id, "identiteit", "web")
    # A second sealer that read the same head before the first one's seal was there.
    original = access_log._head
    access_log._head = lambda conn: head
    try:
        with pytest.raises((IntegrityError, DBAPIError)):
            with db.session.begin_nested():
                seal_pending(db.session, app.config, now=utcnow() + LATER)
    finally:
        access_log._head = original
    assert verify(db.session, app.config).ok


def test_tick_seals_the_access_log(app, demo, monkeypatch):
    case = make_case(demo)
    _log_reads(demo, case, 2)
    monkeypatch.setattr(access_log, "utcnow", lambda: utcnow() + LATER)
    out = app.test_cli_runner().invoke(args=["tick"])
    assert out.exit_code == 0, out.output
    assert "regels verzegeld" in out.output
    assert verify(db.session, app.config).sealed_to == db.session.scalar(text("SELECT max(id) FROM access_log"))


def test_the_insert_stays_cheap(app, demo):
    """The MAC costs microseconds: no lock, no read (the case is in the session already)."""
    case = make_case(demo)
    from casework.services.audit import access_key, access_row_mac

    _key_id, key = access_key()
    values = {"kind": "lezen", "what": "identiteit", "via": "web", "user_id": 1, "role": "x",
              "organisation_id": 1, "case_id": case.id, "child_id": 1, "activity": "verzuim",
              "subject": None, "at": utcnow()}
    per_mac = min(timeit.repeat(lambda: access_row_mac(key, values), number=1000, repeat=3)) / 1000
    assert per_mac < 0.0005  # well under half a millisecond (about 10 µs)
    with app.test_request_context("/"):
        per_row = min(timeit.repeat(lambda: log_access(demo.lpa, case.id, "identiteit"),
                                    number=50, repeat=3)) / 50
    assert per_row < 0.02


# ------------------------------------------------------------------ tampering past the triggers

@pytest.fixture(scope="module", params=BACKENDS)
def committed(request, tmp_path_factory):
    """A committed database with three sealed batches (ids with a gap, as after a rollback on
    PostgreSQL), to copy for each test: (backend, url)."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
    tmp = tmp_path_factory.mktemp("alogtamper")
    if request.param == "postgresql":
        url = fresh_postgres_database_url("alog_template")
    else:
        url = f"sqlite:///{tmp}/template.db"
    with own_app(tmp, url) as app:
        with app.app_context():
            demo = demo_namespace()
            case = make_case(demo, "in_behandeling")
            db.session.commit()
            for batch in range(3):
                _log_reads(demo, case, 4)
                if batch == 1:  # a gap in the ids
                    top = db.session.scalar(text("SELECT max(id) FROM access_log"))
                    db.session.execute(text("INSERT INTO access_log (id, user_id, case_id, child_id, role, "
                                            "organisation_id, kind, activity, what, via, subject, at, "
                                            "key_id, mac) VALUES (:id, :user_id, :case_id, :child_id, "
                                            ":role, :organisation_id, :kind, :activity, :what, :via, "
                                            ":subject, :at, :key_id, :mac)"),
                                       with_access_mac({"id": top + 5, "user_id": demo.lpa.id,
                                                        "case_id": case.id, "child_id": case.child_id,
                                                        "role": demo.lpa.role,
                                                        "organisation_id": demo.lpa.organisation_id,
                                                        "kind": "lezen", "activity": "vrijstelling_5a",
                                                        "what": "identiteit", "via": "web",
                                                        "subject": None, "at": utcnow()}))
                    if db.engine.dialect.name == "postgresql":
                        db.session.execute(text("SELECT setval('access_log_id_seq', :v)"), {"v": top + 5})
                seal_pending(db.session, app.config, now=utcnow() + LATER)
                db.session.commit()
            assert verify(db.session, app.config).ok
            assert db.session.scalar(text("SELECT count(*) FROM access_log_seals")) >= 3
    return request.param, url


def _past_the_guards(conn) -> None:
    """What someone with the owner role (PostgreSQL) or the file (SQLite) can do."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE access_log DISABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE access_log_seals DISABLE TRIGGER USER"))
    else:
        for name in ("access_log_no_update", "access_log_no_delete", "access_log_no_replace",
                     "access_log_seals_no_update", "access_log_seals_no_delete",
                     "access_log_seals_no_replace"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def _verify(app, *, late: bool = False):
    """verify() and the command agree; both name the problem."""
    now = utcnow() + (timedelta(hours=2) if late else timedelta(0))
    with app.app_context():
        db.session.expire_all()
        result = verify(db.session, app.config, now=now)
        original = access_log.utcnow
        access_log.utcnow = lambda: now
        try:
            cli = app.test_cli_runner().invoke(args=["access-log", "verify"])
            refused = app.test_cli_runner().invoke(args=["access-log", "prune"])  # never over a break
        finally:
            access_log.utcnow = original
    assert result.ok is False
    assert cli.exit_code == 1, cli.output
    assert "Toegangslog gebroken" in cli.output and result.problem in cli.output
    assert refused.exit_code == 1 and "Niet opgeschoond" in refused.output
    return result


def _seals(conn) -> list:
    return list(conn.execute(text("SELECT * FROM access_log_seals ORDER BY seq")).mappings())


def _rows(conn) -> list:
    return list(conn.execute(text("SELECT * FROM access_log ORDER BY id")).mappings())


def _in_seal(conn, seal) -> list:
    return [r for r in _rows(conn) if seal["lo"] < r["id"] <= seal["hi"]]


@pytest.mark.no_transaction
def test_an_untouched_copy_verifies(committed, tmp_path):
    with copied(committed, tmp_path) as (app, _owner):
        with app.app_context():
            assert verify(db.session, app.config).ok
            cli = app.test_cli_runner().invoke(args=["access-log", "verify"])
    assert cli.exit_code == 0 and "Toegangslog in orde" in cli.output, cli.output


@pytest.mark.no_transaction
def test_an_edited_row_is_named(committed, tmp_path):
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            row = _in_seal(conn, _seals(conn)[1])[1]
            conn.execute(text("UPDATE access_log SET user_id = NULL, role = 'ouder' WHERE id = :id"),
                         {"id": row["id"]})
        result = _verify(app)
    assert result.problem == (f"regel {row['id']} is veranderd: het sleutelzegel van de regel "
                              "klopt niet")


@pytest.mark.no_transaction
def test_a_row_deleted_from_a_sealed_batch_is_named(committed, tmp_path):
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            seal = _seals(conn)[1]
            victim = _in_seal(conn, seal)[2]
            with pytest.raises(DBAPIError, match="append-only"):  # even the owner, past no trigger
                with conn.begin_nested():
                    conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": victim["id"]})
            _past_the_guards(conn)
            conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": victim["id"]})
        result = _verify(app)
    assert f"zegel {seal['seq']}" in result.problem
    assert f"ontbreken 1 van de {seal['n_rows']} regels" in result.problem
    assert "verwijderd zonder opschoning" in result.problem


@pytest.mark.no_transaction
def test_a_row_deleted_with_a_forged_seal_is_named(committed, tmp_path):
    import hashlib
    import hmac

    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            seal = _seals(conn)[-1]
            victim = _in_seal(conn, seal)[-1]
            conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": victim["id"]})
            guess = hmac.new(b"gok", b"seal", hashlib.sha256).hexdigest()
            conn.execute(text("UPDATE access_log_seals SET n_rows = n_rows - 1, hi = hi - 1, mac = :m "
                              "WHERE seq = :s"), {"m": guess, "s": seal["seq"]})
        result = _verify(app)
    assert result.problem == (f"zegel {seal['seq']} klopt niet: de zegel is buiten de applicatie "
                              "om gemaakt of veranderd")


@pytest.mark.no_transaction
def test_a_deleted_middle_seal_breaks_the_chain(committed, tmp_path):
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            seal = _seals(conn)[1]
            conn.execute(text("DELETE FROM access_log_seals WHERE seq = :s"), {"s": seal["seq"]})
        result = _verify(app)
    assert result.problem.startswith(f"zegel {seal['seq']} ontbreekt")


@pytest.mark.no_transaction
def test_a_deleted_last_seal_is_named_once_its_rows_are_late(committed, tmp_path):
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            seal = _seals(conn)[-1]
            conn.execute(text("DELETE FROM access_log_seals WHERE seq = :s"), {"s": seal["seq"]})
        with app.app_context():  # right away the rows look like a batch not sealed yet
            assert verify(db.session, app.config).ok
        result = _verify(app, late=True)
    assert f"regel {seal['lo'] + 1} " in result.problem
    assert "niet verzegeld: de laatste zegel is verwijderd" in result.problem


@pytest.mark.no_transaction
def test_swapped_rows_are_named(committed, tmp_path):
    """Two rows trade places (each keeps a valid MAC): the batch digest binds MACs to ids."""
    columns = ("user_id", "case_id", "child_id", "role", "organisation_id", "kind", "activity",
               "what", "via", "subject", "at", "key_id", "mac")
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            seal = _seals(conn)[0]
            one, two = _in_seal(conn, seal)[:2]
            assert one["what"] != two["what"]
            sets = ", ".join(f"{c} = :{c}" for c in columns)
            for target, source in ((one, two), (two, one)):
                conn.execute(text(f"UPDATE access_log SET {sets} WHERE id = :target"),
                             {**{c: source[c] for c in columns}, "target": target["id"]})
        result = _verify(app)
    assert result.problem == (f"de regels van zegel {seal['seq']} (regels {seal['lo'] + 1} tot en met "
                              f"{seal['hi']}) zijn verwisseld of vervangen")


@pytest.mark.no_transaction
def test_a_row_inserted_into_a_sealed_batch_is_named(committed, tmp_path):
    """A copy of a real row (its MAC is valid) put into the gap of a sealed batch."""
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            seals = _seals(conn)
            seal = next(s for s in seals if s["hi"] - s["lo"] > s["n_rows"])  # the one with the gap
            present = {r["id"] for r in _in_seal(conn, seal)}
            free = next(i for i in range(seal["lo"] + 1, seal["hi"]) if i not in present)
            source = _in_seal(conn, seal)[0]
            columns = [c for c in source.keys() if c != "id"]
            conn.execute(text(f"INSERT INTO access_log (id, {', '.join(columns)}) "
                              f"VALUES (:id, {', '.join(':' + c for c in columns)})"),
                         {**dict(source), "id": free})
        result = _verify(app)
    assert f"in zegel {seal['seq']}" in result.problem
    assert "1 regels te veel: ze zijn buiten de applicatie om bijgeschreven" in result.problem


# ------------------------------------------------------------------ retention: prune


def _prune(app, *, days_later: int):
    later = utcnow() + timedelta(days=days_later)
    original = access_log.utcnow
    access_log.utcnow = lambda: later
    try:
        with app.app_context():
            out = app.test_cli_runner().invoke(args=["access-log", "prune", "--door", "beheerder-test"])
            result = verify(db.session, app.config, now=later)
            check = app.test_cli_runner().invoke(args=["access-log", "verify"])
    finally:
        access_log.utcnow = original
    return out, result, check


@pytest.mark.no_transaction
def test_prune_deletes_sealed_batches_past_the_retention_and_verify_passes(committed, tmp_path):
    with copied(committed, tmp_path) as (app, owner):
        with owner.connect() as conn:
            before = _rows(conn)
            seals = _seals(conn)
        out, _result, _check = _prune(app, days_later=1000)  # within the 1826 days: nothing
        assert out.exit_code == 0 and "geen verzegelde regels ouder dan 1826 dagen" in out.output
        out, result, check = _prune(app, days_later=1827)
        assert out.exit_code == 0, out.output
        n = sum(s["n_rows"] for s in seals)
        assert f"{n} regels ouder dan 1826 dagen verwijderd" in out.output
        assert result.ok, result.problem
        assert result.pruned_to == seals[-1]["hi"]
        assert check.exit_code == 0 and "opgeschoond tot en met regel" in check.output, check.output
        with owner.connect() as conn:
            after = _rows(conn)
            record = _seals(conn)[-1]
        assert len(after) == len(before) - n + 1
        # The prune is a security event in the log, and a record in the seal chain: who, how many.
        assert after[-1]["kind"] == "beveiliging"
        assert after[-1]["what"] == f"toegangslog_opgeschoond:{n}:beheerder-test"
        assert (record["kind"], record["n_rows"], record["actor"]) == ("opschoning", n, "beheerder-test")
        # A pruned row put back is named.
        with owner.begin() as conn:
            _past_the_guards(conn)
            columns = list(before[0].keys())
            conn.execute(text(f"INSERT INTO access_log ({', '.join(columns)}) "
                              f"VALUES ({', '.join(':' + c for c in columns)})"), dict(before[0]))
        with app.app_context():
            bad = verify(db.session, app.config)
        assert bad.ok is False and f"regel {before[0]['id']} valt in het opgeschoonde deel" in bad.problem


@pytest.mark.no_transaction
def test_the_app_role_cannot_prune_and_nothing_changes(committed, tmp_path):
    backend, _url = committed
    if backend != "postgresql" or not PG_APP_ROLE:
        pytest.skip("PostgreSQL with the two-role set-up")
    with copied(committed, tmp_path) as (app, owner):
        app.config["MIGRATION_DATABASE_URL"] = None  # the app's own URL: the app role
        out, result, _check = _prune(app, days_later=1827)
        assert out.exit_code == 1 and "alleen de eigenaar van de database" in out.output
        assert result.ok and result.pruned_to == 0


@pytest.mark.no_transaction
def test_a_whole_batch_deleted_without_prune_is_named(committed, tmp_path):
    with copied(committed, tmp_path) as (app, owner):
        with owner.begin() as conn:
            _past_the_guards(conn)
            seal = _seals(conn)[0]
            conn.execute(text("DELETE FROM access_log WHERE id <= :hi"), {"hi": seal["hi"]})
        result = _verify(app)
    assert f"in zegel {seal['seq']}" in result.problem and "verwijderd zonder opschoning" in result.problem


# ------------------------------------------------------------------ key rotation


@pytest.mark.no_transaction
def test_old_keys_keep_verifying_after_a_rotation(committed, tmp_path):
    with copied(committed, tmp_path) as (app, _owner):
        old_key = app.config["AUDIT_KEY"]
        app.config.update(AUDIT_KEY="nieuwe-sleutel-" + "x" * 32, AUDIT_KEY_ID="k2",
                          AUDIT_KEYS_OLD=f"{TestConfig.AUDIT_KEY_ID}:{old_key}")
        with app.app_context():
            demo = demo_namespace()
            case = make_case(demo, child=demo.lotte)
            db.session.commit()
            _log_reads(demo, case, 2)
            db.session.commit()
            seal_pending(db.session, app.config, now=utcnow() + LATER)
            db.session.commit()
            keys = set(db.session.scalars(text("SELECT DISTINCT key_id FROM access_log_seals")))
            assert keys == {TestConfig.AUDIT_KEY_ID, "k2"}
            assert verify(db.session, app.config).ok
            app.config["AUDIT_KEYS_OLD"] = None
            result = verify(db.session, app.config)
    assert result.ok is False and "onbekende sleutel" in result.problem


# ------------------------------------------------------------------ rows from before the seals


@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_from_before_the_seals_get_a_mac_and_a_seal_on_upgrade(tmp_path, backend):
    from casework.cli import upgrade_database

    if backend == "postgresql":
        if not PG_URL:
            pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
        url = fresh_postgres_database_url("alog_legacy")
    else:
        url = f"sqlite:///{tmp_path}/legacy.db"
    saved = (queue.huey.storage, queue.huey.immediate, queue.app)
    cfg = TestConfig.from_env()
    cfg.update(**database_settings(url), QUEUE_BACKEND="memory")
    app = create_app(cfg)
    owner = create_engine(url)
    try:
        with app.app_context():
            upgrade_database("3c9a5e71d0b4")  # the revision before the seals
        with owner.begin() as conn:
            for what in ("inloggen", "uitloggen", "inloggen_mislukt"):
                conn.execute(text("INSERT INTO access_log (kind, activity, what, via, at) VALUES "
                                  "('beveiliging', 'beveiliging', :w, 'web', :at)"),
                             {"w": what, "at": utcnow() - timedelta(days=3)})
        with app.app_context():
            upgrade_database()
            result = verify(db.session, app.config)
            assert result.ok, result.problem
            assert (result.rows, result.sealed_to) == (3, 3)
        with owner.begin() as conn:
            _past_the_guards(conn)
            conn.execute(text("UPDATE access_log SET what = 'inloggen' WHERE id = 3"))
        with app.app_context():
            result = verify(db.session, app.config)
        assert result.ok is False and result.problem.startswith("regel 3 is veranderd")
    finally:
        db.state(app).engine.dispose()
        owner.dispose()
        queue.huey.storage, queue.huey.immediate, queue.app = saved
