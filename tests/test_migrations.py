"""Migrations: the migrated schema is the models' schema, and the chain runs down and up again."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from casework.extensions import db
from casework.models import Base
from casework.models.case import REPORT_FACTS, report_facts
from casework.search import include_name, is_search_index_object
from conftest import PG_URL, fresh_postgres_database_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def scratch_database_url(tmp_path, backend: str, name: str) -> str:
    """An empty database for a migration test: a new PostgreSQL database, or a SQLite file."""
    if backend == "postgresql":
        if not PG_URL:
            pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
        return fresh_postgres_database_url(f"casework_{name}")
    return f"sqlite:///{tmp_path}/{name}.db"


def _alembic_config(url: str) -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# As migrations/env.py: the search indexes (trigram, FTS5 and its shadow tables) are not models.
COMPARE_OPTIONS = {"compare_type": True, "include_name": include_name}


def test_migrated_database_matches_the_models(app_ctx):
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
    diff = compare_metadata(context, Base.metadata)
    # Nothing else is ignored: every difference between models and migrations is a defect.
    assert diff == [], "\n".join(str(d) for d in diff)


def test_one_head_and_the_database_is_at_it(app_ctx):
    cfg = _alembic_config(str(db.engine.url))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    current = MigrationContext.configure(db.session.connection()).get_current_heads()
    assert tuple(current) == tuple(heads)


def test_migration_files_are_named_by_date():
    for path in (MIGRATIONS / "versions").glob("*.py"):
        assert path.name[:11].replace("_", "").isdigit() and path.name[4] == "_", path.name


def _tables(engine) -> set[str]:
    return {t for t in inspect(engine).get_table_names()
            if t != "alembic_version" and not is_search_index_object(t)}


def _search_objects(engine) -> set[str]:
    """The search indexes' own objects: FTS5 tables and view (SQLite), trigram indexes."""
    inspector = inspect(engine)
    tables = set(inspector.get_table_names()) | set(inspector.get_view_names())
    names = {t for t in tables if is_search_index_object(t) or t == "children_naam"}
    for table in ("children", "cases"):
        if table in tables:
            names |= {i["name"] for i in inspector.get_indexes(table)
                      if is_search_index_object(i["name"])}
    return names


@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_downgrade_upgrade(tmp_path, backend):
    url = scratch_database_url(tmp_path, backend, "migrations")
    cfg = _alembic_config(url)
    engine = create_engine(url)
    try:
        command.upgrade(cfg, "head")
        expected = set(Base.metadata.tables)
        assert _tables(engine) == expected
        search_objects = _search_objects(engine)
        if backend == "postgresql":
            assert search_objects == {"ix_children_naam_trgm", "ix_cases_naam_trgm",
                                      "ix_cases_reference_scope_trgm"}
            with engine.connect() as conn:  # no pending list: a search never reads one
                options = dict(conn.execute(text(
                    "SELECT relname, array_to_string(reloptions, ',') FROM pg_class "
                    "WHERE relname LIKE 'ix_%_trgm'")).all())
            assert options == dict.fromkeys(search_objects, "fastupdate=off")
        else:
            assert {"children_fts", "cases_fts", "children_naam"} <= search_objects

        command.downgrade(cfg, "base")
        assert _tables(engine) == set()
        assert _search_objects(engine) == set()
        with engine.connect() as conn:
            if backend == "postgresql":
                functions = conn.execute(text(
                    "SELECT count(*) FROM pg_proc WHERE proname = 'casework_audit_append_only'")).scalar()
                assert functions == 0
            else:
                triggers = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")).scalar()
                assert triggers == 0

        command.upgrade(cfg, "head")
        assert _tables(engine) == expected
        assert _search_objects(engine) == search_objects
        # The append-only guard is back after the second upgrade.
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (kind, naam, adres, postcode_plaats, telefoon, email) "
                              "VALUES ('gemeente', 'G', '', '', '', '')"))
            gemeente = conn.execute(text("SELECT id FROM organisations")).scalar()
            conn.execute(text("INSERT INTO children (bsn, voornaam, achternaam, geboortedatum, geslacht, "
                              "adres, postcode_plaats, gemeente_id) "
                              "VALUES ('1', 'A', 'B', '2015-01-01', 'X', '', '', :g)"),
                         {"g": gemeente})
            child = conn.execute(text("SELECT id FROM children")).scalar()
            conn.execute(text("INSERT INTO cases (type, state, version, is_open, child_id, gemeente_id, "
                              "created_at, updated_at, data) VALUES ('vrijstelling_5a', "
                              "'kennisgeving_ontvangen', 1, :t, :c, :g, '2026-01-01', '2026-01-01', '{}')"),
                         {"c": child, "g": gemeente, "t": True})
            case = conn.execute(text("SELECT id FROM cases")).scalar()
            conn.execute(text("INSERT INTO audit_events (case_id, seq, event, to_state, actor_role, at, "
                              "payload_digest, prev_hash, hash) VALUES (:c, 1, 'dien_in', "
                              "'kennisgeving_ontvangen', 'ouder', '2026-01-01', 'x', 'y', 'z')"), {"c": case})
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_events"))
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts=COMPARE_OPTIONS),
                                    Base.metadata)
        assert diff == [], "\n".join(str(d) for d in diff)
    finally:
        engine.dispose()


@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_report_facts_are_copied_from_case_data(tmp_path, backend):
    """Cases from before the report columns get them from their data on the upgrade."""
    url = scratch_database_url(tmp_path, backend, "report_facts")
    cfg = _alembic_config(url)
    engine = create_engine(url)
    try:
        command.upgrade(cfg, "0c5b7e2a9d41")
        verzuim = {"soort": "melding", "oorspronkelijke_soort": "signaal",
                   "verzuimsoort": "langdurig_relatief", "periode_start": "2025-01-06",
                   "omgezet_op": "2025-02-03", "afsluiting": "afgesloten",
                   "afgesloten_op": "2025-06-30", "tegen": "jongere"}
        vrijstelling = {"beeindigd_op": "2025-03-31", "reden_beeindiging": "verhuisd"}
        data = "CAST(:data AS jsonb)" if backend == "postgresql" else ":data"
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (kind, naam, adres, postcode_plaats, telefoon, email) "
                              "VALUES ('gemeente', 'G', '', '', '', '')"))
            gemeente = conn.execute(text("SELECT id FROM organisations")).scalar()
            for n, (kind, state, facts) in enumerate([("verzuim", "afgesloten", verzuim),
                                                     ("vrijstelling_5a", "beeindigd", vrijstelling),
                                                     ("verzuim", "ontvangen", {})]):
                conn.execute(text("INSERT INTO children (bsn, voornaam, achternaam, geboortedatum, "
                                  "geslacht, adres, postcode_plaats, gemeente_id) VALUES "
                                  "(:bsn, 'A', 'B', '2012-01-01', 'X', '', '', :g)"),
                             {"bsn": str(n), "g": gemeente})
                child = conn.execute(text("SELECT id FROM children WHERE bsn = :bsn"),
                                     {"bsn": str(n)}).scalar()
                conn.execute(text("INSERT INTO cases (type, reference, state, version, is_open, child_id, "
                                  "gemeente_id, created_at, updated_at, data) VALUES (:type, :ref, :state, "
                                  f"1, :open, :c, :g, '2025-01-01', '2025-01-01', {data})"),
                             {"type": kind, "ref": f"R-{n}", "state": state, "open": False,
                              "c": child, "g": gemeente, "data": json.dumps(facts)})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = {r.reference: r._mapping for r in conn.execute(text(
                f"SELECT reference, {', '.join(REPORT_FACTS)} FROM cases"))}

        def as_date(value):  # SQLite hands a Date column back as its text
            return value if isinstance(value, date) or value is None else date.fromisoformat(value)

        expected = {"R-0": verzuim, "R-1": vrijstelling, "R-2": {}}
        for reference, data in expected.items():
            got = {k: as_date(v) if REPORT_FACTS[k] is date else v for k, v in rows[reference].items()
                   if k != "reference"}
            assert got == report_facts(data), reference
        assert rows["R-0"]["verzuimsoort"] == "langdurig_relatief"
        assert as_date(rows["R-0"]["periode_start"]) == date(2025, 1, 6)
        assert rows["R-2"]["verzuimsoort"] is None
    finally:
        engine.dispose()


@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_from_before_the_2027_holidays_gets_them_and_keeps_its_own(tmp_path, backend):
    """The voorjaars- and zomervakantie 2026-2027 reach a database migrated without them; a region
    where the beheerder already entered one keeps the beheerder's dates, and nothing is doubled."""
    url = scratch_database_url(tmp_path, backend, "vakanties_2027")
    cfg = _alembic_config(url)
    engine = create_engine(url)
    try:
        command.upgrade(cfg, "7b2e1d3f5a82")
        with engine.begin() as conn:  # as the database was before these holidays shipped
            conn.execute(text("DELETE FROM schoolvakanties WHERE schooljaar = '2026-2027' "
                              "AND naam IN ('voorjaar', 'zomer')"))
            conn.execute(text("INSERT INTO schoolvakanties (schooljaar, naam, regio, begin, eind) "
                              "VALUES ('2026-2027', 'voorjaar', 'midden', '2027-02-13', '2027-02-21')"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT naam, regio, begin, eind FROM schoolvakanties WHERE schooljaar = '2026-2027' "
                "AND naam IN ('voorjaar', 'zomer') ORDER BY naam, regio")).all()

        def as_date(value):
            return value if isinstance(value, date) else date.fromisoformat(value)

        assert [(n, r, as_date(b), as_date(e)) for n, r, b, e in rows] == [
            ("voorjaar", "midden", date(2027, 2, 13), date(2027, 2, 21)),  # the beheerder's own
            ("voorjaar", "noord", date(2027, 2, 20), date(2027, 2, 28)),
            ("voorjaar", "zuid", date(2027, 2, 13), date(2027, 2, 21)),
            ("zomer", "midden", date(2027, 7, 17), date(2027, 8, 29)),
            ("zomer", "noord", date(2027, 7, 10), date(2027, 8, 22)),
            ("zomer", "zuid", date(2027, 7, 24), date(2027, 9, 5)),
        ]
    finally:
        engine.dispose()
